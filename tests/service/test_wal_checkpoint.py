"""The server's background WAL checkpointer (SQLite): committed pages reach the database file
without a request paying for the checkpoint."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from sqlalchemy import text

from lrs_server.domain.model import OrgKind
from lrs_server.storage import migrate
from lrs_server.storage.engine import SQLITE_CACHE_KIB, WalCheckpointer, make_engine
from lrs_server.storage.organisations import OrganisationStore


def _in_main_file(path: Path) -> int:
    """Organisations visible in the database file alone (immutable: the WAL is not read)."""
    with sqlite3.connect(f"file:{path}?immutable=1", uri=True) as connection:
        return int(connection.execute("SELECT count(*) FROM organisation").fetchone()[0])


def test_committed_rows_reach_the_database_file_in_the_background(tmp_path: Path) -> None:
    path = tmp_path / "lrs.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    checkpointer = WalCheckpointer.for_engine(engine, interval=0.05)
    assert checkpointer is not None
    with engine.connect() as c:  # everything so far is in the database file
        c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    OrganisationStore(engine).add(OrgKind.SCHOOL, "100001", "School")
    assert _in_main_file(path) == 0  # committed, but only in the WAL (below the autocheckpoint size)
    checkpointer.start()
    try:
        deadline = time.monotonic() + 10
        while _in_main_file(path) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _in_main_file(path) == 1
    finally:
        checkpointer.stop()
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM organisation")).scalar_one() == 1
    engine.dispose()


def test_only_file_backed_sqlite_gets_one() -> None:
    assert WalCheckpointer.for_engine(make_engine("sqlite:///:memory:")) is None
    assert (
        WalCheckpointer.for_engine(make_engine("postgresql+psycopg://postgres@127.0.0.1:5432/test")) is None
    )


def test_every_commit_is_synced_before_it_is_acknowledged(tmp_path: Path) -> None:
    """synchronous=FULL: a ULN the server has answered with survives a power cut or an OS crash
    (with NORMAL, the WAL's last commits may roll back, and a school's results file would name
    ULNs the registry no longer holds)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'lrs.sqlite3'}")
    with engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA synchronous").scalar_one() == 2  # FULL
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"


def test_each_connection_may_cache_a_registrys_upper_index_pages(tmp_path: Path) -> None:
    """64 MiB of page cache a connection, not SQLite's 2 MiB: a new learner's ~11 blocking keys land
    at random places in an index of millions of entries, whose upper levels then stay in memory."""
    engine = make_engine(f"sqlite:///{tmp_path / 'lrs.sqlite3'}")
    with engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA cache_size").scalar_one() == -SQLITE_CACHE_KIB == -65_536
