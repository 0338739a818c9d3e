"""Database engines: SQLite (embedded default, WAL, foreign keys) or PostgreSQL."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

DEFAULT_DATA_DIR = Path("data")
SQLITE_AUTOCHECKPOINT_PAGES = 16_384  # 64 MiB of WAL at 4 KiB pages
SQLITE_CACHE_KIB = 65_536  # page cache a connection may fill (SQLite's default: 2,000 KiB)
SQLITE_MMAP_BYTES = 1 << 40  # map the file for reading (SQLite caps it at its build's maximum)


def default_url() -> str:
    data_dir = Path(os.environ.get("LRS_DATA_DIR", DEFAULT_DATA_DIR))
    return f"sqlite:///{data_dir / 'lrs.sqlite3'}"


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def refresh_statistics(engine: Engine) -> None:
    """Have PostgreSQL re-read its tables' sizes and value distributions (ANALYZE).

    Without them (just after a bulk load or ``rekey``, or with autovacuum off) PostgreSQL plans the
    candidate query, a chunk's keys against the key index, as a scan of the whole table: 0.5 s a
    chunk at 1M learners instead of a few ms (docs/BENCHMARKS.md). SQLite is left without statistics:
    its plans here were chosen and measured that way, and it gathers none by itself either."""
    if is_sqlite(engine):
        return
    with engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")


def statistics_warning(engine: Engine) -> str | None:
    """What to tell the operator when PostgreSQL will not keep its statistics current by itself."""
    if is_sqlite(engine):
        return None
    with engine.connect() as connection:
        autovacuum = connection.exec_driver_sql("SHOW autovacuum").scalar_one()
    if autovacuum == "on":
        return None
    return (
        "PostgreSQL's autovacuum is off, so nothing keeps the planner's statistics current: run ANALYZE "
        "after loading learners and regularly as the register grows, or candidate queries scan whole tables"
    )


def make_engine(url: str | None = None) -> Engine:
    """An engine for ``url`` (default: the SQLite file under the data directory)."""
    url = url or default_url()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database)
    # A connection attempt to a host that does not answer gives up after 5 s (the health probe and
    # the calls waiting on it would otherwise hang for the kernel's TCP timeout).
    return create_engine(
        url, pool_size=10, max_overflow=20, pool_pre_ping=True, connect_args={"connect_timeout": 5}
    )


def is_database_unavailable(error: BaseException) -> bool:
    """Whether ``error`` says the database could not be used just now (connection refused or lost,
    server restarting, a lock or serialization failure): worth retrying, not a bug."""
    if isinstance(error, OperationalError | InterfaceError):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


def database_reachable(engine: Engine) -> bool:
    """Whether a statement reading a table runs (for the health service)."""
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1 FROM organisation LIMIT 1").all()
        return True
    except Exception:  # any failure is "not reachable"; what failed is logged by the caller's change
        return False


def _sqlite_engine(url: str, database: str | None) -> Engine:
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 60}, pool_size=8)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN itself (pysqlite's implicit
        # transactions would defer the write lock and break the locking rule).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=60000")
        # A page cache the size of a registry's upper index levels, not SQLite's 2 MiB default: each
        # new learner adds ~11 blocking keys at random places in an index of ~11M entries at 1M
        # learners, and with 2 MiB every insert re-read its path from the operating system.
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        # Pages beyond that cache are read through a memory map of the file rather than a read()
        # each: at 1M learners a registration reads some twenty pages no cache holds (key index
        # leaves, candidates' rows), and the fetch of its candidates took ~95 us read() by read(),
        # ~65 us mapped. Writes still go through the WAL; readers see them as before.
        cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
        # A committing writer checkpoints only once the WAL is this large; below it the server's
        # WalCheckpointer copies pages back off the request path (a checkpoint ends in an fsync,
        # which at SQLite's default of 1,000 pages landed on every batch chunk's commit and on one
        # registration in a few hundred). Processes without one (CLI commands) still checkpoint.
        cursor.execute(f"PRAGMA wal_autocheckpoint={SQLITE_AUTOCHECKPOINT_PAGES}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Writers take SQLite's one write lock up front (BEGIN IMMEDIATE): a transaction that
        # reads candidates and then inserts a learner is serialised against every other writer.
        # Straight to the driver: BEGIN returns nothing, and SQLAlchemy's statement machinery
        # cost as much as a whole read on the single-call path.
        immediate = connection.get_execution_options().get("sqlite_immediate")
        connection.connection.driver_connection.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class WalCheckpointer:
    """Checkpoints a SQLite database's WAL from a background thread, every ``interval`` seconds.

    PASSIVE: it copies what no reader still needs and never blocks writers or readers; a writer
    only checkpoints itself if the WAL outgrows ``SQLITE_AUTOCHECKPOINT_PAGES`` between two runs.
    The sqlite3 module releases the GIL while the checkpoint runs, so its copying and fsync overlap
    the requests.
    """

    def __init__(self, database: str, interval: float = 0.5) -> None:
        self._database = database
        self._interval = interval
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lrs-wal-checkpoint", daemon=True)

    @classmethod
    def for_engine(cls, engine: Engine, interval: float = 0.5) -> WalCheckpointer | None:
        """One for a file-backed SQLite engine; None otherwise (PostgreSQL, in-memory)."""
        database = engine.url.database
        if not is_sqlite(engine) or not database or database == ":memory:":
            return None
        return cls(database, interval)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def _run(self) -> None:
        connection = sqlite3.connect(self._database, timeout=60, check_same_thread=False)
        try:
            while not self._stopping.wait(self._interval):
                self._checkpoint(connection)
            self._checkpoint(connection)
        finally:
            connection.close()

    @staticmethod
    def _checkpoint(connection: sqlite3.Connection) -> None:
        try:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error:  # e.g. busy at that instant: the next run catches up
            _log.warning("WAL checkpoint failed", exc_info=True)


_log = logging.getLogger(__name__)
