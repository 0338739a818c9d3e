"""Contention on the access log's chain heads: how long disclosures wait to append, K=1 vs K=16.

    .venv/bin/python -m bench.access_log_contention --postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres
        [--processes 16] [--transactions 200] [--chains 1,16] [--hold-ms 0]

For each K in ``--chains``: a scratch database under the ``--postgres`` server (created, migrated,
given one learner and one organisation, dropped afterwards) keeps heads 1..K. ``--processes``
processes (replicas, each with its own engine) start together and each commits ``--transactions``
transactions that append one access-log entry through ``storage/audit.py`` (as a disclosure does),
optionally holding the transaction ``--hold-ms`` longer after the append (the rest of a call's
work). K=1 is the log as it was before chains: every append locks the one head row.

Measured per K: wall time and appends/s over all processes; the time each append spent taking its
head (the ``lrs_lock_wait_seconds{lock="access_log_head"}`` figure, from the same hook): total
summed over appends, share of the summed transaction time, p50, p99 and max; the number of chains
that received entries; and ``audit.verify`` on the result (every chain intact, no entry lost).
Prints a table, or one JSON object with ``--json``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from lrs_server.domain.model import OrgKind
from lrs_server.storage import audit
from lrs_server.storage.engine import make_engine
from lrs_server.storage.organisations import OrganisationStore
from lrs_server.storage.tables import LearnerTable

LEARNER = LearnerTable.__table__  # type: ignore[attr-defined]


@contextmanager
def scratch_database(server: str) -> Iterator[str]:
    url = make_url(server)
    name = f"lrs_bench_chains_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def prepare(db: str, chains: int) -> tuple[int, int]:
    """Migrate, keep heads 1..chains, add one learner and one organisation; their ids."""
    from bench.preload import preload

    engine = make_engine(db)
    preload(engine, 1, seed=1)
    organisation = OrganisationStore(engine).add(OrgKind.POST16, "20000009", "Bench College").principal.org_id
    with engine.begin() as c:
        c.execute(text("DELETE FROM access_log_head WHERE id > :k"), {"k": chains})
        learner = int(c.execute(select(func.min(LEARNER.c.id))).scalar_one())
    engine.dispose()
    assert organisation is not None
    return learner, organisation


@dataclass(frozen=True)
class Job:
    db: str
    learner: int
    organisation: int
    transactions: int
    hold_ms: float
    start_at: float  # time.time() at which every process begins


def run_process(job: Job) -> tuple[float, float, list[float], list[float]]:
    """(started, finished, each append's head-lock wait, each transaction's time)."""
    engine = make_engine(job.db)
    waits: list[float] = []
    audit.watch_lock_waits(engine, lambda _lock, seconds: waits.append(seconds))
    entry = audit.NewEntry(
        job.learner, job.organisation, OrgKind.POST16.value, "VerifyLearner", "uln", datetime.now(UTC)
    )
    with engine.connect() as c:
        c.execute(text("SELECT 1"))  # connected before the start
        c.commit()
        time.sleep(max(0.0, job.start_at - time.time()))
        started = time.perf_counter()
        took: list[float] = []
        for _ in range(job.transactions):
            begun = time.perf_counter()
            with c.begin():
                audit.append(c, [entry])
                if job.hold_ms:
                    c.execute(text("SELECT pg_sleep(:s)"), {"s": job.hold_ms / 1000})
            took.append(time.perf_counter() - begun)
        finished = time.perf_counter()
    engine.dispose()
    return started, finished, waits, took


@dataclass(frozen=True)
class Result:
    chains: int
    processes: int
    transactions: int
    hold_ms: float
    wall_s: float
    appends_per_s: float
    wait_total_s: float
    wait_share: float
    wait_p50_ms: float
    wait_p99_ms: float
    wait_max_ms: float
    tx_p50_ms: float
    tx_p99_ms: float
    chains_used: int
    verified: bool


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(server: str, chains: int, processes: int, transactions: int, hold_ms: float) -> Result:
    with scratch_database(server) as db:
        learner, organisation = prepare(db, chains)
        start_at = time.time() + 2.0
        jobs = [Job(db, learner, organisation, transactions, hold_ms, start_at) for _ in range(processes)]
        with multiprocessing.get_context("spawn").Pool(processes) as pool:
            runs = pool.map(run_process, jobs)
        # perf_counter is one clock across processes on Linux (CLOCK_MONOTONIC)
        wall = max(r[1] for r in runs) - min(r[0] for r in runs)
        waits = [w for r in runs for w in r[2]]
        took = [t for r in runs for t in r[3]]
        engine = make_engine(db)
        report = audit.verify(engine)
        with engine.connect() as c:
            used = int(c.execute(text("SELECT COUNT(DISTINCT chain) FROM access_log")).scalar_one())
        engine.dispose()
    total = processes * transactions
    return Result(
        chains,
        processes,
        transactions,
        hold_ms,
        round(wall, 2),
        round(total / wall),
        round(sum(waits), 2),
        round(sum(waits) / sum(took), 3),
        round(_quantile(waits, 0.5) * 1000, 2),
        round(_quantile(waits, 0.99) * 1000, 1),
        round(max(waits) * 1000, 1),
        round(_quantile(took, 0.5) * 1000, 2),
        round(_quantile(took, 0.99) * 1000, 1),
        used,
        report.ok and report.entries == total,
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--postgres",
        required=True,
        help="a PostgreSQL server URL (its database: where to connect to create the scratch one)",
    )
    parser.add_argument("--processes", type=int, default=16)
    parser.add_argument("--transactions", type=int, default=200, help="per process")
    parser.add_argument("--chains", default="1,16", help="comma-separated K values to compare")
    parser.add_argument(
        "--hold-ms", type=float, default=0.0, help="time a transaction goes on after its append"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    results = [
        measure(args.postgres, int(k), args.processes, args.transactions, args.hold_ms)
        for k in args.chains.split(",")
    ]
    if args.json:
        print(json.dumps([asdict(r) for r in results], indent=2))
        return
    print(
        f"{args.processes} processes x {args.transactions} transactions, one append each,"
        f" hold {args.hold_ms:g} ms after the append"
    )
    print(
        "K   wall s  appends/s  wait total s  wait share  wait p50 ms  p99 ms  max ms"
        "  tx p50 ms  tx p99 ms  chains  verified"
    )
    for r in results:
        print(
            f"{r.chains:<3} {r.wall_s:>6}  {r.appends_per_s:>9}  {r.wait_total_s:>12}  {r.wait_share:>10.1%}"
            f"  {r.wait_p50_ms:>11}  {r.wait_p99_ms:>6}  {r.wait_max_ms:>6}"
            f"  {r.tx_p50_ms:>9}  {r.tx_p99_ms:>9}  {r.chains_used:>6}  {r.verified}"
        )


if __name__ == "__main__":
    main()
