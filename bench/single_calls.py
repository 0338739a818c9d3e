"""Server CPU of one call of each single-learner RPC, against one new row of a batch file, in one run.

    .venv/bin/python -m bench.single_calls [--learners 10000] [--calls 1000] [--batch-rows 2000]
    .venv/bin/python -m bench.single_calls --postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres

1. A scratch register: a SQLite file in a temporary folder, or with ``--postgres`` a new database
   on that server (created, migrated and dropped afterwards), preloaded with ``--learners``
   synthetic learners (bench/preload.py).
2. ``lrs-server serve`` (one worker, bench.batch_throughput.serving) and a new school's token.
3. ``--calls`` calls in a row, one client on one channel, of each kind: a bare health check;
   ``VerifyLearner``, ``FindLearnerByUln``, ``FindLearnerByDemographics`` and ``GetLearnerRecord``
   of preloaded learners (their ULN, names, birth date and sex as held); ``RegisterLearner`` of
   preloaded learners with their details as held and no MIS identifier (the matcher finds them:
   MATCHED) and of new people (the batch file generator's people, each with its own MIS identifier:
   NEW). Each kind runs ``--rounds`` times, the kinds interleaved; the median round counts.
4. A ``--batch-rows``-row LRB file of new people registered with ``lrs-school register``.

Server CPU is the server process's user + system time (/proc/PID/stat) across the calls, divided
by the calls (or the file's rows); the client's own work is not in it. Prints, per kind, server
CPU ms a call, its ratio to a new batch row's, and wall ms a call; ``--json`` prints one object.
With ``--profile DIR``, py-spy samples the server during each kind's first round (DIR/KIND.txt,
collapsed stacks).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import random
import signal
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grpc_health.v1 import health_pb2, health_pb2_grpc
from sqlalchemy import func, select

from bench.batch_throughput import _profile, _register, add_school, cpu_times, scratch_postgres, serving
from bench.preload import preload
from lrs.v1 import learner_pb2
from lrs.v1 import record_service_pb2 as rec_pb
from lrs.v1 import registration_service_pb2 as reg_pb
from lrs_server.domain.model import Learner
from lrs_server.storage import migrate
from lrs_server.storage.engine import make_engine
from lrs_server.storage.learners import LEARNER, SqlLearnerStore
from school_client import messages
from school_client.batch import row_request
from school_client.connection import Client, ConnectionSettings
from school_client.files.generate import generate_learners, write_synthetic_lrb

KINDS = (
    "Health.Check",
    "VerifyLearner",
    "FindLearnerByUln",
    "FindLearnerByDemographics",
    "GetLearnerRecord",
    "RegisterLearner (known)",
    "RegisterLearner (new)",
)
BATCH = "batch row (new)"
_GENDERS = {"not_known": "not-known", "not_specified": "not-specified"}


@dataclass(slots=True)
class Kind:
    """One kind of call: server CPU and wall seconds per round, and the answers' outcomes."""

    name: str
    calls: int = 0
    cpu: list[float] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)
    system: list[float] = field(default_factory=list)  # of cpu: in the kernel (I/O, fsync, sockets)
    outcomes: Counter[str] = field(default_factory=Counter)

    def cpu_ms(self) -> float:
        return statistics.median(self.cpu) * 1000

    def wall_ms(self) -> float:
        return statistics.median(self.wall) * 1000


def identity_of(learner: Learner) -> learner_pb2.LearnerIdentity:
    """A learner's identity as held, as a request carries it."""
    held = learner.identity
    values = {f.name: getattr(held, f.name) for f in dataclasses.fields(held)}
    del values["date_of_birth"], values["gender"]
    born = held.date_of_birth.isoformat()
    return messages.identity(date_of_birth=born, gender=_gender_name(learner), **values)


def _gender_name(learner: Learner) -> str:
    """The client's name for the learner's gender (as ``lrs-school --gender`` takes it)."""
    value = learner.identity.gender.value
    return _GENDERS.get(value, value)


def _gender(learner: Learner) -> learner_pb2.Gender.ValueType:
    return messages.GENDERS[_gender_name(learner)]


def _outcome(enum_type: Any, value: int) -> str:
    return messages.enum_name(enum_type, value)


def _preloaded(db: str, count: int, seed: int) -> list[Learner]:
    """``count`` preloaded learners, drawn at random."""
    engine = make_engine(db)
    try:
        with engine.connect() as connection:
            highest = connection.execute(select(func.max(LEARNER.c.id))).scalar_one()
        with SqlLearnerStore(engine).read() as tx:
            ids = random.Random(seed).sample(range(1, highest + 1), min(count, highest))
            return tx.learners_by_ids(ids)
    finally:
        engine.dispose()


@contextmanager
def _register_db(learners: int, seed: int, postgres: str, directory: Path) -> Iterator[str]:
    """The URL of a scratch register preloaded with ``learners`` learners."""
    with ExitStack() as stack:
        if postgres:
            db = stack.enter_context(scratch_postgres(postgres, "lrs_single_calls"))
        else:
            db = f"sqlite:///{directory / 'lrs.sqlite3'}"
        engine = make_engine(db)
        migrate.upgrade(engine)
        preload(engine, learners, seed)
        engine.dispose()
        yield db


def _calls(
    client: Client, learners: Sequence[Learner], calls: int, seed: int
) -> dict[str, Callable[[int], str]]:
    """Per kind, the function making call ``i`` and returning its outcome."""
    metadata = client.metadata
    health = health_pb2_grpc.HealthStub(client.channel)
    reg, records = client.registration, client.records
    new_people = [
        row_request(i + 1, row).identity for i, row in enumerate(generate_learners(calls * 8, seed + 1))
    ]
    random.Random(seed).shuffle(new_people)
    taken = iter(range(len(new_people)))

    def learner(i: int) -> Learner:
        return learners[i % len(learners)]

    def check(_: int) -> str:
        answer = health.Check(health_pb2.HealthCheckRequest(), metadata=metadata)
        return str(health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status))

    def verify(i: int) -> str:
        lr = learner(i)
        request = reg_pb.VerifyLearnerRequest(
            uln=lr.uln,
            given_name=lr.identity.given_name,
            family_name=lr.identity.family_name,
            date_of_birth=lr.identity.date_of_birth.isoformat(),
            gender=_gender(lr),
        )
        return _outcome(reg_pb.VerificationOutcome, reg.VerifyLearner(request, metadata=metadata).outcome)

    def find_by_uln(i: int) -> str:
        lr = learner(i)
        request = reg_pb.FindLearnerByUlnRequest(
            uln=lr.uln, given_name=lr.identity.given_name, family_name=lr.identity.family_name
        )
        found = reg.FindLearnerByUln(request, metadata=metadata)
        return "FOUND" if found.learner.uln else "EMPTY"

    def find_by_demographics(i: int) -> str:
        request = reg_pb.FindLearnerByDemographicsRequest(identity=identity_of(learner(i)))
        found = reg.FindLearnerByDemographics(request, metadata=metadata)
        return _outcome(reg_pb.FindOutcome, found.outcome)

    def record(i: int) -> str:
        lr = learner(i)
        request = rec_pb.GetLearnerRecordRequest(
            uln=lr.uln, given_name=lr.identity.given_name, family_name=lr.identity.family_name
        )
        return "FOUND" if records.GetLearnerRecord(request, metadata=metadata).learner.uln else "EMPTY"

    def register_known(i: int) -> str:
        request = reg_pb.RegisterLearnerRequest(identity=identity_of(learner(i)))
        answer = reg.RegisterLearner(request, metadata=metadata)
        return _outcome(reg_pb.RegistrationOutcome, answer.outcome)

    def register_new(_: int) -> str:
        n = next(taken)
        request = reg_pb.RegisterLearnerRequest(identity=new_people[n], mis_identifier=f"SINGLE{n:08d}")
        answer = reg.RegisterLearner(request, metadata=metadata)
        return _outcome(reg_pb.RegistrationOutcome, answer.outcome)

    return dict(
        zip(
            KINDS,
            (check, verify, find_by_uln, find_by_demographics, record, register_known, register_new),
            strict=True,
        )
    )


def _measure(kind: Kind, call: Callable[[int], str], pid: int, start: int, calls: int) -> None:
    (user, system), started = cpu_times(pid), time.perf_counter()
    for i in range(start, start + calls):
        kind.outcomes[call(i)] += 1
    kind.wall.append((time.perf_counter() - started) / calls)
    user_after, system_after = cpu_times(pid)
    kind.cpu.append((user_after - user + system_after - system) / calls)
    kind.system.append((system_after - system) / calls)
    kind.calls += calls


def run(
    learners: int = 10_000,
    calls: int = 1000,
    batch_rows: int = 2000,
    rounds: int = 3,
    seed: int = 2026,
    postgres: str = "",
    profile: str = "",
    warmup: int = 50,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="lrs-single-calls-") as scratch, ExitStack() as stack:
        directory = Path(scratch)
        db = stack.enter_context(_register_db(learners, seed, postgres, directory))
        known = _preloaded(db, min(learners, calls * rounds + warmup), seed)
        token = add_school(db)
        source = directory / "batch.csv"
        write_synthetic_lrb(str(source), batch_rows, seed=seed)
        address, server = stack.enter_context(serving(db))
        client = stack.enter_context(Client(ConnectionSettings(address, token)))
        makers = _calls(client, known, calls * rounds + warmup, seed)
        kinds = {name: Kind(name) for name in KINDS}
        for call in makers.values():  # warm: connections, caches, first statements compiled
            for i in range(warmup):
                call(calls * rounds + i)
        for round_ in range(rounds):
            for name, call in makers.items():
                profiler = None
                if profile and round_ == 0:
                    Path(profile).mkdir(parents=True, exist_ok=True)
                    output = Path(profile) / f"{name.replace(' (', '-').rstrip(')')}.txt"
                    profiler = _profile(server.pid, str(output), gil=True, rate=1000)
                _measure(kinds[name], call, server.pid, round_ * calls, calls)
                if profiler is not None:
                    profiler.send_signal(signal.SIGINT)
                    profiler.wait(timeout=60)
        cpu = sum(cpu_times(server.pid))
        summary = _register(address, token, source, directory / "results.csv")
        batch_cpu_ms = (sum(cpu_times(server.pid)) - cpu) * 1000 / batch_rows
    report: dict[str, Any] = {
        "database": "postgresql" if postgres else "sqlite",
        "learners_preloaded": learners,
        "calls_per_round": calls,
        "rounds": rounds,
        "batch_rows": batch_rows,
        "batch_server_cpu_ms_per_row": round(batch_cpu_ms, 3),
        "batch_outcomes": summary.get("outcomes", {}),
        "kinds": {
            name: {
                "server_cpu_ms": round(k.cpu_ms(), 3),
                "ratio_to_batch_row": round(k.cpu_ms() / batch_cpu_ms, 2) if batch_cpu_ms else None,
                "wall_ms": round(k.wall_ms(), 3),
                "server_cpu_ms_rounds": [round(c * 1000, 3) for c in k.cpu],
                "server_system_ms": round(statistics.median(k.system) * 1000, 3),
                "outcomes": dict(k.outcomes),
            }
            for name, k in kinds.items()
        },
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    return report


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--learners", type=int, default=10_000, help="learners preloaded (default 10,000)")
    parser.add_argument("--calls", type=int, default=1000, help="calls of each kind per round")
    parser.add_argument("--batch-rows", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--postgres", default="", help="a PostgreSQL server URL (a scratch database on it)")
    parser.add_argument(
        "--profile", default="", help="a folder: py-spy the server in each kind's first round"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    report = run(
        args.learners, args.calls, args.batch_rows, args.rounds, args.seed, args.postgres, args.profile
    )
    if args.json:
        print(json.dumps(report))
        return
    print(
        f"{report['database']}, {report['learners_preloaded']:,} learners preloaded, "
        f"{report['rounds']} rounds of {report['calls_per_round']:,} calls (median round); "
        f"load average {report['load_average']}"
    )
    print(f"{'call':28} {'server CPU ms':>13} {'(system)':>9} {'x batch row':>11} {'wall ms':>8}  outcomes")
    for name, k in report["kinds"].items():
        outcomes = ", ".join(f"{o} {n}" for o, n in sorted(k["outcomes"].items()))
        print(
            f"{name:28} {k['server_cpu_ms']:>13.3f} {k['server_system_ms']:>9.3f}"
            f" {k['ratio_to_batch_row']:>11.2f} {k['wall_ms']:>8.3f}"
            f"  {outcomes}"
        )
    print(
        f"{BATCH:28} {report['batch_server_cpu_ms_per_row']:>13.3f} {'':>9} {1:>11.2f}"
        f"  ({report['batch_rows']:,} rows)"
    )
    print(f"Python {report['python']}, SQLite {report['sqlite']}, {report['cpus']} CPUs")


if __name__ == "__main__":
    main()
