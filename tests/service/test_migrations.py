"""The migrations build exactly the schema the tables declare (so a model change without its
migration fails here, not on an operator's database)."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, bindparam, inspect, text
from sqlmodel import SQLModel

import lrs_server.storage.tables  # noqa: F401  (registers the tables)
from lrs_server.storage import migrate
from lrs_server.storage.engine import make_engine


def test_the_migrated_schema_matches_the_tables(engine: Engine) -> None:
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == []


CLUSTERED = ("learner_blocking_key", "name_frequency", "registration_request", "mis_link")


def _without_rowid(engine: Engine) -> dict[str, bool]:
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name IN :names").bindparams(
                bindparam("names", expanding=True)
            ),
            {"names": list(CLUSTERED)},
        )
        return {name: sql.rstrip().endswith("WITHOUT ROWID") for name, sql in rows}


def test_sqlite_stores_composite_key_tables_without_rowid_after_migrating_and_back(tmp_path: Path) -> None:
    """Revision 0008 rebuilds the composite-key tables clustered on their key, keeping their rows
    and indexes; downgrading rebuilds them as rowid tables with the rows still there."""
    engine = make_engine(f"sqlite:///{tmp_path / 'lrs.sqlite3'}")
    migrate.upgrade(engine, "0007_access_log_chains")
    assert _without_rowid(engine) == dict.fromkeys(CLUSTERED, False)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO name_frequency VALUES ('given_name', 'ann', 3)"))
    migrate.upgrade(engine)
    assert _without_rowid(engine) == dict.fromkeys(CLUSTERED, True)
    assert "ix_learner_blocking_key_learner_id" in {
        i["name"] for i in inspect(engine).get_indexes("learner_blocking_key")
    }
    migrate.downgrade(engine, "0007_access_log_chains")
    assert _without_rowid(engine) == dict.fromkeys(CLUSTERED, False)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count FROM name_frequency")).scalar_one() == 3


def test_the_tables_declare_the_same_sqlite_storage_as_the_migrations(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'lrs.sqlite3'}")
    SQLModel.metadata.create_all(engine)
    assert _without_rowid(engine) == dict.fromkeys(CLUSTERED, True)
