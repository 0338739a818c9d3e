"""Persistence: SQLModel tables, repositories and Alembic migrations. The only place SQL lives."""
