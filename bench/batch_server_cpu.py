"""Server CPU per batch row, without the transport: the servicer's work run in-process.

    .venv/bin/python -m bench.batch_server_cpu [--learners 1000000] [--rows 10000] [--profile OUT]
        [--every N]

The end-to-end benchmark (bench/batch_throughput.py) is the figure that counts; this one isolates
what the server spends per row (converting the request rows, validating, matching, writing,
packing the results) from gRPC and from the client, so that a change to the server's own work can
be measured on a noisy machine in seconds. Rows are read from a synthetic LRB file by the client's
own reader and turned into BatchRow messages by the client's own code, then handed to
``BatchRegistrationServicer`` in CHUNK_ROWS chunks, as the server would receive them, against a
copy of the preloaded registry (bench/preload.py, cached like batch_throughput's).

Prints process CPU ms per row (new rows, then the same rows resubmitted). With ``--every N``, also
CPU and candidates per row for each N new rows, to see how the cost moves along a long file.
"""

from __future__ import annotations

import argparse
import cProfile
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from bench.batch_throughput import cached_database, scratch_copy
from lrs.v1 import batch_service_pb2 as pb
from lrs_server import interceptor
from lrs_server.api.batch import BatchRegistrationServicer
from lrs_server.domain.batch import BatchRegistration
from lrs_server.domain.clock import Clock
from lrs_server.domain.model import MatchCandidate, OrgKind
from lrs_server.domain.registration import RegistrationService
from lrs_server.domain.review import ReviewHooks
from lrs_server.privacy import Disclosure
from lrs_server.server import tune_garbage_collector
from lrs_server.storage import migrate
from lrs_server.storage.engine import WalCheckpointer, make_engine
from lrs_server.storage.learners import SqlStore
from lrs_server.storage.organisations import OrganisationStore
from lrs_server.storage.records import SqlRecordStore, SqlRecordTransaction
from matching import default_matcher
from school_client.batch import row_request
from school_client.files import LearnerRow, open_learner_file
from school_client.files.generate import write_synthetic_lrb

MESSAGE_ROWS = 200


class _CountingTransaction(SqlRecordTransaction):
    """Counts the distinct candidates fetched (a learner under several of a row's keys counts once)."""

    fetched = 0

    def candidates_by_key(self, keys: Iterable[str]) -> dict[str, list[MatchCandidate]]:
        found = super().candidates_by_key(keys)
        _CountingTransaction.fetched += len({c.record_of for cs in found.values() for c in cs})
        return found


def _requests(path: Path) -> Iterator[pb.BatchRegisterLearnersRequest]:
    rows = [row for row in open_learner_file(path).rows if isinstance(row, LearnerRow)]
    for start in range(0, len(rows), MESSAGE_ROWS):
        chunk = rows[start : start + MESSAGE_ROWS]
        yield pb.BatchRegisterLearnersRequest(
            rows=[row_request(start + i + 1, row) for i, row in enumerate(chunk)]
        )


def _segments(responses: Iterable[pb.BatchRegisterLearnersResponse], every: int) -> int:
    """Answered rows, printing CPU and candidates per row for each ``every`` rows (0: print nothing)."""
    answered = since = 0
    cpu, fetched = time.process_time(), _CountingTransaction.fetched
    for response in responses:
        answered += len(response.results)
        if every and answered - since >= every:
            now, rows = time.process_time(), answered - since
            print(
                f"  rows to {answered:>9,}  {(now - cpu) * 1000 / rows:.3f} ms CPU/row"
                f"  {(_CountingTransaction.fetched - fetched) / rows:5.1f} candidates/row",
                flush=True,
            )
            cpu, fetched, since = now, _CountingTransaction.fetched, answered
    return answered


def run(learners: int, rows: int, seed: int, profile: str, every: int = 0) -> None:
    tune_garbage_collector()
    with tempfile.TemporaryDirectory(prefix="lrs-batch-cpu-") as scratch:
        directory = Path(scratch)
        db = scratch_copy(cached_database(learners), directory)
        engine = make_engine(f"sqlite:///{db}")
        migrate.upgrade(engine)  # a registry preloaded under an older schema, as lrs-server serve would
        checkpointer = WalCheckpointer.for_engine(engine)
        if checkpointer is not None:
            checkpointer.start()
        principal = OrganisationStore(engine).add(OrgKind.SCHOOL, "BENCH-CPU", "Benchmark").principal
        clock = Clock()
        store = SqlStore(engine, _CountingTransaction) if every else SqlRecordStore(engine)
        service = RegistrationService(store, default_matcher(), clock, Disclosure(), ReviewHooks())
        servicer = BatchRegistrationServicer(BatchRegistration(service))
        interceptor._principal.set(principal)  # what the interceptor does for an authenticated call
        source = directory / "rows.csv"
        write_synthetic_lrb(str(source), rows, seed=seed)
        messages = list(_requests(source))
        for label in ("new", "resubmitted"):
            profiler = cProfile.Profile() if profile and label == "new" else None
            if profiler is not None:
                profiler.enable()
            started, cpu = time.perf_counter(), time.process_time()
            responses = servicer.BatchRegisterLearners(iter(messages), None)
            answered = _segments(responses, every if label == "new" else 0)
            cpu_ms = (time.process_time() - cpu) * 1000 / answered
            wall = time.perf_counter() - started
            if profiler is not None:
                profiler.disable()
                profiler.dump_stats(profile)
            print(f"{label:12} {answered:>7,} rows  {cpu_ms:.3f} ms CPU/row  {answered / wall:>8,.0f} rows/s")
        if checkpointer is not None:
            checkpointer.stop()
        engine.dispose()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--learners", type=int, default=1_000_000)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--profile", default="", help="cProfile the new rows into this file")
    parser.add_argument("--every", type=int, default=0, help="CPU and candidates per row every N new rows")
    args = parser.parse_args(argv)
    run(args.learners, args.rows, args.seed, args.profile, args.every)


if __name__ == "__main__":
    main()
