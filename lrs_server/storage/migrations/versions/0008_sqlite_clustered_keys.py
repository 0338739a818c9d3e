"""SQLite: tables keyed by a composite primary key stored WITHOUT ROWID (clustered on that key)

A rowid table keyed by (key, learner_id) keeps two B-trees, the rows by rowid and the primary key's
index, and every insert writes both; WITHOUT ROWID keeps one. The blocking keys (about eleven a
learner) are most of a registration's writes. PostgreSQL has no such option: nothing changes there.

Revision ID: 0008_sqlite_clustered_keys
Revises: 0007_access_log_chains
Create Date: 2026-12-03 18:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008_sqlite_clustered_keys"
down_revision: str | None = "0007_access_log_chains"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("learner_blocking_key", "name_frequency", "registration_request", "mis_link")


def _rebuild(with_rowid: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        # Batch mode copies the table into a new one with the same columns, keys and indexes.
        with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_with_rowid": with_rowid}):
            pass


def upgrade() -> None:
    _rebuild(with_rowid=False)


def downgrade() -> None:
    _rebuild(with_rowid=True)
