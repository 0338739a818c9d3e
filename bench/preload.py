"""Fill a database with n synthetic learners, fast, as if each had been registered one by one.

    .venv/bin/python -m bench.preload --db sqlite:///bench/out/lrs-1m.sqlite3 --learners 1000000

Writes, in 10,000-learner transactions with SQLAlchemy Core executemany: the learner rows (valid,
unique ULNs), their blocking keys exactly as ``default_matcher().blocking_keys`` computes them, and
the ``name_frequency`` counts (with the ``'*', '*'`` total row) exactly as
``SqlTransaction.insert_learners`` would leave them. People come from ``matching.synthetic`` (seeded),
aged 14 to 24. ULNs are drawn with ``random_uln`` (a CSPRNG, so they differ between runs; nothing
else does).

The database is migrated first. Appending to a database that already holds learners is allowed
(ids and counts continue from what is there). On SQLite the blocking keys are staged in a file
beside the registry and copied in at the end, in learner order (see ``_KeyStaging``), and the
loader's own connection uses ``synchronous=OFF`` and a large page cache; the server's settings are
untouched. Nothing is VACUUMed: a registry's indexes are left as filled as registrations one by one
fill them, not packed.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, event, func, insert, select, update

from lrs_server.domain.model import Identity, OrgKind, person_record
from lrs_server.domain.uln import random_uln
from lrs_server.storage import migrate
from lrs_server.storage.engine import is_sqlite, make_engine, refresh_statistics
from lrs_server.storage.learners import FREQUENCY, LEARNER, insert_key_rows
from lrs_server.storage.tables import Organisation
from matching import default_matcher
from matching.synthetic import SyntheticStream
from matching.types import PersonRecord

ORGANISATION = Organisation.__table__  # type: ignore[attr-defined]
BATCH = 10_000
PRELOAD_ORG_REF = "BENCH-PRELOAD"
MIN_AGE, MAX_AGE = 14, 24


def birth_years(today: date | None = None) -> tuple[int, int]:
    """Birth years of learners aged 14 to 24 today (roughly: whole years)."""
    year = (today or date.today()).year
    return year - MAX_AGE, year - MIN_AGE - 1


def _organisation(connection: Connection, ref: str, kind: str, name: str) -> int:
    found = connection.execute(select(ORGANISATION.c.id).where(ORGANISATION.c.ref == ref)).scalar()
    if found is not None:
        return int(found)
    result = connection.execute(
        insert(ORGANISATION).values(kind=kind, ref=ref, name=name, created_at=datetime.now(UTC))
    )
    (new_id,) = result.inserted_primary_key or (0,)
    return int(new_id)


def organisation_id(engine: Engine, ref: str, kind: str = OrgKind.SCHOOL.value, name: str = "") -> int:
    """The id of the organisation ``ref``, created if missing."""
    with engine.begin() as connection:
        return _organisation(connection, ref, kind, name or ref)


def identity_of(record: PersonRecord) -> Identity:
    return Identity(
        given_name=record.given_name,
        family_name=record.family_name,
        date_of_birth=record.date_of_birth,
        gender=record.gender,
        postcode=record.postcode,
        middle_names=record.middle_names,
        address_line1=record.address_line1,
        address_line2=record.address_line2,
        town=record.town,
        upn=record.upn,
    )


def _learner_row(identity: Identity, uln: str, learner_id: int, org: int, now: datetime) -> dict[str, Any]:
    return {
        "id": learner_id,
        "uln": uln,
        "given_name": identity.given_name,
        "middle_names": identity.middle_names,
        "family_name": identity.family_name,
        "previous_family_name": "",
        "family_name_at_16": "",
        "preferred_given_name": "",
        "date_of_birth": identity.date_of_birth,
        "gender": identity.gender.value,
        "postcode": identity.postcode,
        "address_line1": identity.address_line1,
        "address_line2": identity.address_line2,
        "town": identity.town,
        "county": "",
        "email": "",
        "school_at_16": "",
        "upn": identity.upn,
        "place_of_birth": "",
        "title": "",
        "post14_qualification": False,
        "master_id": None,
        "version": 1,
        "created_by": org,
        "created_at": now,
        "updated_at": now,
    }


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _loader_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.execute("PRAGMA cache_size=-2000000")  # 2 GB: the key index stays in memory
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.close()


def _add_counts(
    connection: Connection, counts: Counter[tuple[str, str]], existing: set[tuple[str, str]]
) -> None:
    """Add to name_frequency as ``SqlTransaction`` does: UPDATE the rows that exist, INSERT the rest."""
    updates = [{"f": f, "v": v, "d": d} for (f, v), d in sorted(counts.items()) if (f, v) in existing]
    if updates:
        connection.execute(
            update(FREQUENCY)
            .where(FREQUENCY.c.field == bindparam("f"), FREQUENCY.c.value == bindparam("v"))
            .values(count=FREQUENCY.c.count + bindparam("d")),
            updates,
        )
    inserts = [
        {"field": f, "value": v, "count": d} for (f, v), d in sorted(counts.items()) if (f, v) not in existing
    ]
    if inserts:
        connection.execute(insert(FREQUENCY), inserts)
        existing.update(counts)


# Set before the workers fork: the learner columns, and on a qmark driver (SQLite) each column's bind
# processor, so workers hand over rows ready for the driver and the loading process only writes.
_COLUMNS: list[str] = [column.name for column in LEARNER.columns]
_PROCESSORS: list[Any] | None = None
_ORG = 0
_NOW = datetime.now(UTC)

Prepared = tuple[list[list[Any]], list[tuple[str, int]], Counter[tuple[str, str]]]


def _row(record: PersonRecord) -> list[Any]:
    """The learner's column values (id left 0, ULN drawn here), processed for the driver if possible."""
    values = _learner_row(identity_of(record), random_uln(), 0, _ORG, _NOW)
    if _PROCESSORS is None:
        return [values[name] for name in _COLUMNS]
    return [
        value if process is None else process(value)
        for value, process in zip((values[name] for name in _COLUMNS), _PROCESSORS, strict=True)
    ]


def _prepare(job: tuple[int, int, int]) -> Prepared:
    """One batch, computed in a worker: learner rows, (key, offset in batch) pairs and term counts.

    Each batch has its own seeded stream, so batches can be prepared in parallel and the result is
    the same whatever the number of workers.
    """
    seed, index, size = job
    matcher = default_matcher()
    stream = SyntheticStream(seed * 1_000_000 + index, birth_years=birth_years())
    people = list(stream.new_people(size))
    keys: list[tuple[str, int]] = []
    counts: Counter[tuple[str, str]] = Counter()
    for offset, record in enumerate(people):
        # As the server computes them: from the validated identity's person record.
        stored = person_record(identity_of(record))
        keys.extend((k, offset) for k in sorted(matcher.blocking_keys(stored)))
        counts.update(matcher.frequency_terms(stored).items())
    counts[("*", "*")] += len(people)
    return [_row(record) for record in people], keys, counts


class _KeyStaging:
    """Where the blocking keys go while loading.

    On a SQLite file, a staging file beside the registry (plain appends, no index), copied into
    ``learner_blocking_key`` at the end in the order the learners were loaded. Inserting ~11 keys
    per learner straight into the (key, learner_id) primary key touches pages all over a large index
    in every batch, so every commit rewrites most of it (measured: ~3x slower at 100k, worse with
    size); one copy in a single transaction with the loader's large page cache does not.

    The copy goes in learner order, not key order, because that is how a registry's key index grows
    when learners are registered one by one: its pages as full as SQLite's splits leave them. A
    sorted copy (or a VACUUM) packs every page full, and the first key a registration then adds to a
    page splits it: at 1M learners, where 2,000 registrations meet a different page each time, that
    was 17 pages written a commit for the keys instead of 5, a cost of the bulk load rather than of
    the registry's size (docs/BENCHMARKS.md). Elsewhere (PostgreSQL, in-memory SQLite) the keys are
    inserted with their learners.
    """

    TABLE = "staged_key"

    def __init__(self, engine: Engine) -> None:
        database = engine.url.database
        self._path: Path | None = None
        self._db: sqlite3.Connection | None = None
        if is_sqlite(engine) and database and database != ":memory:":
            self._path = Path(f"{database}.keys-staging")
            self._path.unlink(missing_ok=True)
            self._db = sqlite3.connect(self._path, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=OFF")
            self._db.execute("PRAGMA synchronous=OFF")
            self._db.execute(f"CREATE TABLE {self.TABLE} (key TEXT NOT NULL, learner_id INTEGER NOT NULL)")

    def add(self, connection: Connection, rows: list[tuple[str, int]]) -> None:
        """The keys of learners inserted by ``connection``'s transaction (staged, or inserted with them)."""
        if self._db is None:
            insert_key_rows(connection, rows)
            return
        self._db.execute("BEGIN")
        self._db.executemany(f"INSERT INTO {self.TABLE} VALUES (?, ?)", rows)
        self._db.execute("COMMIT")

    def finish(self, engine: Engine) -> None:
        """Copy the staged keys into the registry in learner order, then remove the staging file."""
        if self._db is None or self._path is None:
            return
        self._db.close()
        raw = engine.raw_connection()
        try:
            db = raw.driver_connection
            assert db is not None
            db.execute("ATTACH DATABASE ? AS staging", (str(self._path),))  # not allowed in a transaction
            db.execute("BEGIN")
            indexes = db.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                "AND tbl_name = 'learner_blocking_key' AND sql IS NOT NULL"
            ).fetchall()
            for name, _ in indexes:  # rebuilt below, in one pass each: learner_id only grows, as here
                db.execute(f'DROP INDEX "{name}"')
            db.execute(
                "INSERT INTO learner_blocking_key (key, learner_id) "
                f"SELECT key, learner_id FROM staging.{self.TABLE} ORDER BY rowid"
            )
            for _, sql in indexes:
                db.execute(sql)
            db.execute("COMMIT")
            db.execute("DETACH DATABASE staging")
        finally:
            raw.close()
        self._path.unlink()


def _insert_learners(connection: Connection, rows: list[list[Any]]) -> None:
    if _PROCESSORS is None:
        connection.execute(insert(LEARNER), [dict(zip(_COLUMNS, row, strict=True)) for row in rows])
        return
    columns = ", ".join(_COLUMNS)
    marks = ", ".join("?" for _ in _COLUMNS)
    connection.exec_driver_sql(f"INSERT INTO learner ({columns}) VALUES ({marks})", [tuple(r) for r in rows])


def preload(engine: Engine, n: int, seed: int, progress: bool = False, workers: int | None = None) -> None:
    """Add n synthetic learners (with keys and name counts) to the database behind ``engine``."""
    global _PROCESSORS, _ORG, _NOW
    migrate.upgrade(engine)
    if is_sqlite(engine):
        _tune_sqlite(engine)
        engine.dispose()  # new connections get the loader's pragmas
    with engine.begin() as connection:
        org = _organisation(connection, PRELOAD_ORG_REF, OrgKind.SCHOOL.value, "Preloaded learners")
        next_id = int(connection.execute(select(func.coalesce(func.max(LEARNER.c.id), 0))).scalar_one()) + 1
        used = set(connection.execute(select(LEARNER.c.uln)).scalars())
        existing = {(f, v) for f, v in connection.execute(select(FREQUENCY.c.field, FREQUENCY.c.value))}
    staging = _KeyStaging(engine)
    engine.dispose()  # no open SQLite connection is inherited by the workers
    jobs = [(seed, index, min(BATCH, n - start)) for index, start in enumerate(range(0, n, BATCH))]
    _ORG, _NOW = org, datetime.now(UTC)
    # Set on every call: a process may preload SQLite, then PostgreSQL (tests/bench does).
    _PROCESSORS = (
        [column.type.bind_processor(engine.dialect) for column in LEARNER.columns]
        if engine.dialect.paramstyle == "qmark"
        else None
    )
    started = time.perf_counter()
    done = 0
    workers = min(workers or os.cpu_count() or 1, len(jobs))
    with ExitStack() as stack:
        # One worker is this process: a fork is only worth it for several, and forking a process
        # that already runs other threads (gRPC's, in a test process) can leave the child hung on
        # a lock one of them held.
        prepared: Iterator[Prepared]
        if workers > 1:
            prepared = stack.enter_context(multiprocessing.get_context("fork").Pool(workers)).imap(
                _prepare, jobs
            )
        else:
            prepared = map(_prepare, jobs)
        id_at, uln_at = _COLUMNS.index("id"), _COLUMNS.index("uln")
        for learners, keys, counts in prepared:
            first_id = next_id
            for row in learners:
                while row[uln_at] in used:
                    row[uln_at] = random_uln()
                used.add(row[uln_at])
                row[id_at] = next_id
                next_id += 1
            with engine.begin() as connection:
                _insert_learners(connection, learners)
                staging.add(connection, [(k, first_id + offset) for k, offset in keys])
                _add_counts(connection, counts, existing)
            before, done = done, done + len(learners)
            if progress and done // 100_000 > before // 100_000:
                elapsed = time.perf_counter() - started
                print(f"  {done:>9,} learners  {elapsed:6.1f} s  {done / elapsed:,.0f}/s", flush=True)
    staging.finish(engine)
    if not is_sqlite(engine):
        # The ids were given explicitly: move the sequence past them, or the server's next
        # registration would be refused on the primary key.
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "SELECT setval(pg_get_serial_sequence('learner', 'id'), (SELECT max(id) FROM learner))"
            )
    refresh_statistics(engine)  # a bulk load: see refresh_statistics


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", default="sqlite:///bench/out/lrs-1m.sqlite3")
    parser.add_argument("--learners", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    engine = make_engine(args.db)
    started = time.perf_counter()
    preload(engine, args.learners, args.seed, progress=True)
    elapsed = time.perf_counter() - started
    print(
        f"preloaded {args.learners:,} learners in {elapsed:.1f} s ({args.learners / elapsed:,.0f} learners/s)"
    )


if __name__ == "__main__":
    main()
