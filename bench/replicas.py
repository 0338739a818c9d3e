"""Load and faults: replicas of ``lrs-server serve`` on one PostgreSQL, many clients, a mixed load,
a replica SIGKILLed and PostgreSQL restarted mid-run; then the register is checked.

    .venv/bin/python -m bench.replicas [--replicas 2] [--workers 1] [--clients 64] [--seconds 60]
                                       [--learners 100000] [--batch-rows 2000] [--no-faults] [--json]

1. A scratch PostgreSQL cluster of its own (bench/scratch_postgres.py: initdb in a temporary folder,
   a free port, PostgreSQL's default durable settings), preloaded with ``--learners`` synthetic
   learners (bench/preload.py). The shared instance on 5432 is never touched.
2. The raw gRPC unary rate: ``replicas x workers`` echo processes (bench/grpc_baseline.py --serve,
   the same topology as the servers below), driven by the same client processes, threads and
   channels as the real load, for ``--raw-seconds``. Every rate and latency is also given as a ratio
   of it.
3. ``--replicas`` ``lrs-server serve --workers W`` processes, each on its own port; a school per
   client process and one for the batch (``lrs-server org add``).
4. ``--clients`` clients (threads over ``--client-processes`` processes, each process a school of
   its own; a channel per client, round-robin over every replica as a load balancer would) send,
   for ``--seconds``, a mix of single calls (``MIX``; ``--only CALL``: that call alone):
   RegisterLearner of new people and of preloaded ones (re-registrations),
   FindLearnerByDemographics, VerifyLearner, FindLearnerByUln, GetLearnerRecord. A new person is
   registered twice at the same moment, by the client's school and by another school on a second
   channel (often another replica): the race a duplicate ULN would
   come from. Meanwhile another school sends ``--batch-rows``-row LRB files with ``lrs-school
   register FILE``, one after another until the load ends (a file rerun, resuming, should a fault
   stop it; ``--batch-rows 0``: no batch). A call refused UNAVAILABLE, DEADLINE_EXCEEDED or
   RESOURCE_EXHAUSTED with a RetryInfo is retried as ``lrs-school`` retries
   (school_client/retry.py), with the same request id, so a retry never issues a second ULN.
   The server processes' stderr is read for logged errors, and pg_stat_activity sampled four
   times a second for sessions waiting on a lock (and on which statement).
5. Faults (unless ``--no-faults``): at 30 % of the run replica 0 is SIGKILLed and started again; at
   60 % PostgreSQL is restarted (``pg_ctl restart -m fast``, or ``immediate``, a crash, with
   ``--postgres-restart immediate``). Throughput is counted per second; "back after" is the time
   from PostgreSQL accepting connections again to the first one-second window with at least 80 %
   of the median rate before the first fault.
6. Checks, from the answers and the database: no person got two ULNs (each new person, across both
   schools' calls and all retries, was answered one ULN, and the register holds one learner for
   them); no ULN was answered for two people (a re-registration got its own ULN or a review,
   never another learner's); no acknowledged write lost (every ULN answered, single or batch row,
   is in the register with that person's name and date of birth); no call ever answered INTERNAL.
   Exit status 1 if a check fails.

Prints calls/s and p50/p99 per call kind, or one JSON object with ``--json``.
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import grpc
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import make_url

from bench import grpc_baseline
from bench.batch_throughput import BIN, _cpu_seconds, _env, add_school, free_port, start_server
from bench.preload import birth_years, preload
from bench.scratch_postgres import ScratchCluster
from lrs.v1 import learner_pb2 as pb
from lrs.v1 import record_service_pb2 as rec_pb
from lrs.v1 import record_service_pb2_grpc, registration_service_pb2_grpc
from lrs.v1 import registration_service_pb2 as reg_pb
from lrs_server.storage.engine import make_engine
from lrs_server.storage.learners import LEARNER
from matching.synthetic import SyntheticStream
from school_client.files.generate import generate_learners
from school_client.files.lrb import write_lrb
from school_client.files.rows import LearnerRow
from school_client.messages import GENDERS, enum_name, identity
from school_client.retry import call_with_retry

# The single calls, and how often each is chosen (weights).
MIX = {
    "RegisterLearner new": 20,
    "RegisterLearner known": 10,
    "FindLearnerByDemographics": 15,
    "VerifyLearner": 25,
    "FindLearnerByUln": 15,
    "GetLearnerRecord": 15,
}
RAW = "raw gRPC unary"
NOT_KNOWN_POSTCODE = "ZZ99 3CZ"
ATTEMPTS = 10  # school_client.retry's backoff: ~25 s of retries in all, longer than any fault here
CALL_TIMEOUT = 10.0
KNOWN_SAMPLE = 2_000
RECOVERED = 0.8  # "back": a one-second window at 80 % of the rate before the faults
KILL_AT, RESTART_POSTGRES_AT = 0.3, 0.6  # fractions of --seconds


@dataclass(frozen=True, slots=True)
class Person:
    """An identity as a client sends it; ``uln`` for a preloaded learner (its known ULN)."""

    given_name: str
    family_name: str
    date_of_birth: str  # YYYY-MM-DD
    gender: str  # school_client.messages.GENDERS key
    postcode: str
    uln: str = ""

    def message(self) -> pb.LearnerIdentity:
        return identity(
            given_name=self.given_name,
            family_name=self.family_name,
            date_of_birth=self.date_of_birth,
            gender=self.gender,
            postcode=self.postcode,
        )

    def key(self) -> tuple[str, str, str]:
        """Who this is, as compared with the register (names as stored may differ in case)."""
        return (self.given_name.casefold(), self.family_name.casefold(), self.date_of_birth)


@dataclass(frozen=True, slots=True)
class ProcessSpec:
    """What one client process runs: threads ``first``, ``first + step``, ... of the global clients."""

    target: str
    token: str
    other_token: str  # another school's, for the second registration of each new person
    clients: Sequence[int]
    seconds: float
    seed: int
    known: Sequence[Person]
    raw: bool = False
    mix: tuple[tuple[str, int], ...] = tuple(MIX.items())  # (call, weight)


@dataclass(slots=True)
class Tally:
    """What a client saw: successes, every attempt's status, refusals after retries, registrations."""

    done: list[tuple[str, float, float]] = field(default_factory=list)  # (call, ended, seconds)
    attempts: Counter[tuple[str, str]] = field(default_factory=Counter)  # (call, status code)
    failed: Counter[tuple[str, str]] = field(default_factory=Counter)  # gave up: (call, code)
    # (call, person key, person, outcome, ULN answered)
    registrations: list[tuple[str, str, Person, str, str]] = field(default_factory=list)

    def merge(self, other: Tally) -> None:
        self.done.extend(other.done)
        self.attempts.update(other.attempts)
        self.failed.update(other.failed)
        self.registrations.extend(other.registrations)


# -- the clients --------------------------------------------------------------------------------


def _person(record: Any) -> Person:
    return Person(
        record.given_name,
        record.family_name,
        record.date_of_birth.isoformat(),
        str(record.gender.value).replace("_", "-"),
        record.postcode.strip() or NOT_KNOWN_POSTCODE,
    )


def _new_people(seed: int, client: int) -> Iterator[Person]:
    """The new people a client registers (never preloaded ones: bench.preload's streams are seeded
    ``seed * 1,000,000 + batch``)."""
    stream = SyntheticStream(10**12 + seed * 10**6 + client, birth_years=birth_years())
    while True:
        yield from (_person(record) for record in stream.new_people(100))


def _channel(target: str) -> grpc.Channel:
    """A channel of its own (not shared with the client's other threads), balancing calls over
    every replica as a load balancer would."""
    options = [("grpc.lb_policy_name", "round_robin"), ("grpc.use_local_subchannel_pool", 1)]
    return grpc.insecure_channel(target, options=options)


class _Client:
    def __init__(self, spec: ProcessSpec, index: int, tally: Tally) -> None:
        self.spec, self.tally = spec, tally
        self.index = index
        self.rng = random.Random(spec.seed * 7919 + index)
        self.new_people = _new_people(spec.seed, index)
        self.registered = 0
        self.lock = threading.Lock()  # the tally, shared with the second registration's thread
        self.channel = _channel(spec.target)
        self.registration = registration_service_pb2_grpc.LearnerRegistrationServiceStub(self.channel)
        self.records = record_service_pb2_grpc.LearnerRecordServiceStub(self.channel)
        self.raw = self.channel.unary_unary(grpc_baseline.UNARY_METHOD)
        self.metadata = (("authorization", f"Bearer {spec.token}"),)
        self.other_channel = _channel(spec.target)
        self.other_school = registration_service_pb2_grpc.LearnerRegistrationServiceStub(self.other_channel)
        self.other_metadata = (("authorization", f"Bearer {spec.other_token}"),)

    def _call(
        self,
        name: str,
        method: Callable[..., Any],
        request: Any,
        metadata: tuple[tuple[str, str], ...] | None = None,
    ) -> Any:
        """One logical call, retried as lrs-school retries; every attempt's status tallied."""

        def attempt() -> Any:
            try:
                response = method(request, metadata=metadata or self.metadata, timeout=CALL_TIMEOUT)
            except grpc.RpcError as error:
                with self.lock:
                    self.tally.attempts[(name, error.code().name)] += 1
                raise
            with self.lock:
                self.tally.attempts[(name, "OK")] += 1
            return response

        started = time.monotonic()
        try:
            response = call_with_retry(attempt, attempts=ATTEMPTS)
        except grpc.RpcError as error:
            with self.lock:
                self.tally.failed[(name, error.code().name)] += 1
            return None
        ended = time.monotonic()
        with self.lock:
            self.tally.done.append((name, ended, ended - started))
        return response

    def one(self) -> None:
        if self.spec.raw:
            self._call(RAW, self.raw, b"x" * 200)
            return
        name = self.rng.choices([n for n, _ in self.spec.mix], weights=[w for _, w in self.spec.mix])[0]
        known = self.rng.choice(self.spec.known)
        if name == "RegisterLearner new":
            person, key = next(self.new_people), f"N{self.index}-{self.registered}"
            self.registered += 1
            other = threading.Thread(target=self._register, args=(name, person, key, True))
            other.start()
            self._register(name, person, key)
            other.join()
        elif name == "RegisterLearner known":
            self._register(name, known, f"K{known.uln}")
        elif name == "FindLearnerByDemographics":
            self._call(
                name,
                self.registration.FindLearnerByDemographics,
                reg_pb.FindLearnerByDemographicsRequest(identity=known.message()),
            )
        elif name == "VerifyLearner":
            verify = reg_pb.VerifyLearnerRequest(
                uln=known.uln,
                given_name=known.given_name,
                family_name=known.family_name,
                date_of_birth=known.date_of_birth,
            )
            self._call(name, self.registration.VerifyLearner, verify)
        elif name == "FindLearnerByUln":
            find = reg_pb.FindLearnerByUlnRequest(
                uln=known.uln, given_name=known.given_name, family_name=known.family_name
            )
            self._call(name, self.registration.FindLearnerByUln, find)
        else:
            read = rec_pb.GetLearnerRecordRequest(
                uln=known.uln, given_name=known.given_name, family_name=known.family_name
            )
            self._call(name, self.records.GetLearnerRecord, read)

    def _register(self, name: str, person: Person, key: str, other_school: bool = False) -> None:
        request = reg_pb.RegisterLearnerRequest(
            request_id=str(uuid.uuid4()), identity=person.message(), mis_identifier=key
        )
        if other_school:
            response = self._call(name, self.other_school.RegisterLearner, request, self.other_metadata)
        else:
            response = self._call(name, self.registration.RegisterLearner, request)
        if response is not None:
            outcome = enum_name(reg_pb.RegistrationOutcome, response.outcome)
            with self.lock:
                self.tally.registrations.append((name, key, person, outcome, response.learner.uln))


def _run_clients(spec: ProcessSpec, ready: Any, go: Any, start: Any, results: Any) -> None:
    """A client process: a thread per client; the tally goes back on ``results``."""
    tallies = [Tally() for _ in spec.clients]
    clients = [_Client(spec, index, tally) for index, tally in zip(spec.clients, tallies, strict=True)]
    for client in clients:
        grpc.channel_ready_future(client.channel).result(timeout=60)
    ready.put(os.getpid())
    go.wait()
    deadline = start.value + spec.seconds

    def loop(client: _Client) -> None:
        while time.monotonic() < deadline:
            client.one()

    threads = [threading.Thread(target=loop, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for client in clients:
        client.channel.close()
        client.other_channel.close()
    total = Tally()
    for tally in tallies:
        total.merge(tally)
    results.put(total)


@dataclass
class Load:
    """Client processes started and connected; ``go()`` starts the clock, ``collect()`` waits."""

    processes: list[Any]
    go_event: Any
    start: Any
    results: Any
    started: float = 0.0

    def go(self) -> float:
        self.started = time.monotonic()
        self.start.value = self.started
        self.go_event.set()
        return self.started

    def collect(self) -> Tally:
        total = Tally()
        for _ in self.processes:
            total.merge(self.results.get(timeout=600))
        for process in self.processes:
            process.join(timeout=60)
        return total


def start_load(specs: Sequence[ProcessSpec]) -> Load:
    context = multiprocessing.get_context("spawn")  # gRPC must not be forked after it started
    ready, results, go, start = context.Queue(), context.Queue(), context.Event(), context.Value("d", 0.0)
    processes = [
        context.Process(target=_run_clients, args=(spec, ready, go, start, results), daemon=True)
        for spec in specs
    ]
    for process in processes:
        process.start()
    for _ in processes:
        ready.get(timeout=120)
    return Load(processes, go, start, results)


def _specs(
    target: str,
    tokens: Sequence[str],
    clients: int,
    seconds: float,
    options: Options,
    known: list[Person],
    raw: bool,
) -> list[ProcessSpec]:
    """Client g runs in process p = g % P, as school p; its other school is school p + 1 (there is
    one more school than processes, so it is always another school)."""
    processes = len(tokens) - 1
    mix = ((options.only, 1),) if options.only else tuple(MIX.items())
    return [
        ProcessSpec(
            target,
            tokens[p],
            tokens[p + 1],
            range(p, clients, processes),
            seconds,
            options.seed,
            known,
            raw,
            mix,
        )
        for p in range(processes)
        if p < clients
    ]


# -- the servers --------------------------------------------------------------------------------


@dataclass
class Replica:
    """``lrs-server serve --workers W`` on a port of its own; restartable."""

    db: str
    port: int
    workers: int
    log: Path
    process: subprocess.Popen[str] | None = None
    cpu_before_kill: float = 0.0

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("a") as log:
            self.process = start_server(self.db, self.address, "--workers", str(self.workers), stderr=log)

    def pids(self) -> list[int]:
        """The replica's process and its workers."""
        if self.process is None or self.process.poll() is not None:
            return []
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            children = []
        return [pid, *(int(child) for child in children)]

    def cpu_seconds(self) -> float:
        total = self.cpu_before_kill
        for pid in self.pids():
            with suppress(OSError):
                total += _cpu_seconds(pid)
        return total

    def kill(self) -> None:
        assert self.process is not None
        self.cpu_before_kill = self.cpu_seconds()
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextmanager
def echo_servers(ports: Sequence[int], workers: int) -> Iterator[None]:
    """bench.grpc_baseline --serve: ``workers`` processes sharing each port."""
    started: list[subprocess.Popen[str]] = []
    try:
        for port in ports:
            for _ in range(workers):
                process = subprocess.Popen(
                    [sys.executable, "-m", "bench.grpc_baseline", "--serve", f"127.0.0.1:{port}"],
                    stdout=subprocess.PIPE,
                    text=True,
                )
                started.append(process)
                assert process.stdout is not None
                if "listening" not in process.stdout.readline():
                    raise RuntimeError("the echo server did not start")
        yield
    finally:
        for process in started:
            process.terminate()
        for process in started:
            process.wait(timeout=30)


def _target(ports: Sequence[int]) -> str:
    return "ipv4:" + ",".join(f"127.0.0.1:{port}" for port in ports)


# -- the batch file -----------------------------------------------------------------------------


@dataclass
class Batch:
    """A school sending LRB files with ``lrs-school register FILE``, one after another until the
    load ends, so a file is in flight through both faults. Each file is run to the end, resumed (the
    same command) after a failure. The rows of all files are distinct people (one stream of
    school_client.files.generate, cut into files) with distinct MIS identifiers."""

    target: str
    token: str
    folder: Path
    rows_per_file: int
    seed: int
    people: dict[str, Person] = field(default_factory=dict)  # MIS identifier -> who
    files: int = 0  # sent to the end
    runs: int = 0  # lrs-school commands (more than files: resumed after a fault)
    outputs: list[str] = field(default_factory=list)
    thread: threading.Thread | None = None
    seconds: float = 0.0

    def start(self, until: float, give_up_at: float) -> None:
        self.thread = threading.Thread(target=self._run, args=(until, give_up_at), daemon=True)
        self.thread.start()

    def _file(self, index: int, rows: Iterator[LearnerRow]) -> Path:
        source = self.folder / f"batch-{index}.csv"
        chunk = [replace(next(rows), mis_identifier=f"F{index}R{n}") for n in range(self.rows_per_file)]
        self.people.update((row.mis_identifier, _batch_person(row)) for row in chunk)
        with source.open("w", encoding="utf-8", newline="") as stream:
            write_lrb(stream, chunk, file_name=source.name, ukprn="10000001", record_count=len(chunk))
        return source

    def _run(self, until: float, give_up_at: float) -> None:
        started = time.monotonic()
        rows = generate_learners(10**6, seed=self.seed)
        while time.monotonic() < until:
            source = self._file(self.files, rows)
            command = [str(BIN / "lrs-school"), "register", str(source), "--out", str(self._results(source))]
            command += ["--json", "--server", self.target, "--token", self.token]
            while True:
                self.runs += 1
                done = subprocess.run(command, capture_output=True, text=True, env=_env())
                self.outputs.append(done.stdout + done.stderr)
                if done.returncode == 0:
                    self.files += 1
                    break
                if time.monotonic() > give_up_at:
                    return
                time.sleep(1.0)
        self.seconds = time.monotonic() - started

    @staticmethod
    def _results(source: Path) -> Path:
        return source.with_suffix(".results.csv")

    def wait(self) -> None:
        if self.thread is not None:
            self.thread.join()

    def answered(self) -> dict[str, tuple[str, str]]:
        """MIS identifier -> (outcome, ULN) of every row the server answered with a ULN."""
        found: dict[str, tuple[str, str]] = {}
        for results in sorted(self.folder.glob("batch-*.results.csv")):
            with results.open(newline="") as stream:
                found.update(
                    (row["MISIdentifier"], (row["Outcome"], row["ULN"]))
                    for row in csv.DictReader(stream)
                    if row.get("ULN")
                )
        return found


# -- checks -------------------------------------------------------------------------------------


@dataclass
class Checks:
    two_ulns: list[str] = field(default_factory=list)  # people answered, or holding, two ULNs
    shared_ulns: list[str] = field(default_factory=list)  # ULNs answered for two people
    wrong_learner: list[str] = field(default_factory=list)  # re-registrations given another's ULN
    lost: list[str] = field(default_factory=list)  # ULNs answered but not in the register
    internal: int = 0

    def failures(self) -> dict[str, int]:
        return {
            "people_with_two_ulns": len(self.two_ulns),
            "ulns_of_two_people": len(self.shared_ulns) + len(self.wrong_learner),
            "lost_acknowledged_writes": len(self.lost),
            "internal": self.internal,
        }

    @property
    def ok(self) -> bool:
        return not any(self.failures().values())


def check(db: str, first_new_id: int, tally: Tally, batch: Batch) -> Checks:
    checks = Checks()
    checks.internal = sum(n for (_, code), n in tally.attempts.items() if code == "INTERNAL")
    checks.internal += sum("INTERNAL" in output for output in batch.outputs)
    engine = make_engine(db)
    with engine.connect() as connection:
        stored = {
            uln: (given.casefold(), family.casefold(), born.isoformat())
            for uln, given, family, born in connection.execute(
                select(LEARNER.c.uln, LEARNER.c.given_name, LEARNER.c.family_name, LEARNER.c.date_of_birth)
            )
        }
        new_rows = connection.execute(
            select(LEARNER.c.given_name, LEARNER.c.family_name, LEARNER.c.date_of_birth, func.count())
            .where(LEARNER.c.id >= first_new_id, LEARNER.c.master_id.is_(None))
            .group_by(LEARNER.c.given_name, LEARNER.c.family_name, LEARNER.c.date_of_birth)
        ).all()
    engine.dispose()
    held = Counter({(g.casefold(), f.casefold(), d.isoformat()): n for g, f, d, n in new_rows})
    answered: dict[str, set[str]] = defaultdict(set)  # person key -> ULNs answered
    people: dict[str, Person] = {}
    for call, key, person, outcome, uln in tally.registrations:
        if outcome not in ("NEW", "MATCHED"):
            continue  # a review: nothing issued
        people[key] = person
        if call == "RegisterLearner known" and uln != person.uln:
            checks.wrong_learner.append(f"{key}: answered {uln}")
            continue
        answered[key].add(uln)
    for mis, (outcome, uln) in batch.answered().items():
        if outcome in ("NEW", "MATCHED") and mis in batch.people:
            people[f"B{mis}"] = batch.people[mis]
            answered[f"B{mis}"].add(uln)
    owners: dict[str, set[str]] = defaultdict(set)
    for key, ulns in answered.items():
        person = people[key]
        if len(ulns) > 1:
            checks.two_ulns.append(f"{key}: answered {sorted(ulns)}")
        elif not key.startswith("K") and held[person.key()] > 1:
            checks.two_ulns.append(f"{key}: {held[person.key()]} learners in the register")
        for uln in ulns:
            owners[uln].add(key)
            if uln not in stored:
                checks.lost.append(f"{key}: {uln}")
            elif stored[uln] != person.key():
                checks.shared_ulns.append(f"{key}: {uln} is {stored[uln]}")
    checks.shared_ulns += [f"{uln}: {sorted(keys)}" for uln, keys in owners.items() if len(keys) > 1]
    return checks


# -- figures ------------------------------------------------------------------------------------


def _percentile(sorted_values: Sequence[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * q))] if sorted_values else 0.0


def per_call(tally: Tally, seconds: float) -> dict[str, dict[str, float]]:
    """Calls/s, p50 and p99 (ms) of each call kind, and of all registrations and all calls."""
    latencies: dict[str, list[float]] = defaultdict(list)
    for name, _, took in tally.done:
        latencies[name].append(took)
        latencies["all calls"].append(took)
        if name.startswith("RegisterLearner"):
            latencies["RegisterLearner (all)"].append(took)
    figures = {}
    for name, values in sorted(latencies.items()):
        values.sort()
        figures[name] = {
            "calls": len(values),
            "per_second": round(len(values) / seconds, 1),
            "p50_ms": round(_percentile(values, 0.5) * 1e3, 2),
            "p99_ms": round(_percentile(values, 0.99) * 1e3, 2),
        }
    return figures


def per_second(tally: Tally, started: float, seconds: float) -> list[int]:
    counts = [0] * int(seconds + 1)
    for _, ended, _ in tally.done:
        at = int(ended - started)
        if 0 <= at < len(counts):
            counts[at] += 1
    return counts[: int(seconds)]


def back_after(tally: Tally, started: float, before: float, returned: float, end: float) -> float | None:
    """Seconds from ``returned`` to the first one-second window at RECOVERED x the median rate of
    the whole seconds from the second one to ``before`` (the first fault); None if never."""
    rates = per_second(tally, started, before - started)[1:]
    if not rates:
        return None
    wanted = RECOVERED * statistics.median(rates)
    ends = sorted(ended for _, ended, _ in tally.done if ended >= returned)
    first = 0
    for index, ended in enumerate(ends):  # the window (ended - 1 s, ended]
        while ends[first] <= ended - 1.0:
            first += 1
        if ended - 1.0 >= returned and index - first + 1 >= wanted:
            return round(ended - 1.0 - returned, 2)
    return None


def _logged_errors(logs: Sequence[Path]) -> dict[str, int]:
    """The servers' logged errors and tracebacks, by their last line (the exception)."""
    found: Counter[str] = Counter()
    for log in logs:
        lines = log.read_text(errors="replace").splitlines() if log.exists() else []
        for index, line in enumerate(lines):
            if line.startswith("Traceback"):
                end = index + 1
                while end < len(lines) and (lines[end].startswith((" ", "\t")) or not lines[end].strip()):
                    end += 1
                found[lines[end][:200] if end < len(lines) else "Traceback"] += 1
            elif " ERROR " in line:
                found[line.split(" ERROR ", 1)[1][:200]] += 1  # without the time
    return dict(found.most_common(10))


class LockWaits:
    """Samples, every ``interval`` s, how many sessions wait on a lock (pg_stat_activity) and on
    which statement; the database going away is sampled as nothing."""

    def __init__(self, db: str, interval: float = 0.25) -> None:
        self.engine = create_engine(db, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
        self.interval = interval
        self.samples: list[int] = []
        self.statements: Counter[str] = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                with self.engine.connect() as connection:
                    waiting = (
                        connection.exec_driver_sql(
                            "SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 80) FROM pg_stat_activity "
                            "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                        )
                        .scalars()
                        .all()
                    )
            except Exception:  # PostgreSQL restarting: nothing to sample
                continue
            self.samples.append(len(waiting))
            self.statements.update(waiting)

    def stop(self) -> dict[str, Any]:
        self._stop.set()
        self._thread.join()
        self.engine.dispose()
        samples = self.samples or [0]
        return {
            "mean_sessions_waiting": round(statistics.fmean(samples), 2),
            "max_sessions_waiting": max(samples),
            "share_of_samples_with_a_wait": round(sum(1 for n in samples if n) / len(samples), 3),
            "statements": dict(self.statements.most_common(3)),
        }


def _machine_busy() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot, from /proc/stat."""
    fields_ = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields_[3] + fields_[4]
    return sum(fields_) - idle, sum(fields_)


# -- the run ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    replicas: int = 2
    workers: int = 1
    clients: int = 64
    client_processes: int = 2
    seconds: float = 60.0
    raw_seconds: float = 5.0
    learners: int = 100_000
    batch_rows: int = 2_000
    faults: bool = True
    seed: int = 2026
    postgres_restart: str = "fast"  # pg_ctl's shutdown mode; "immediate" is a crash
    only: str = ""  # one call of MIX instead of the mix


def _known(db: str, count: int, seed: int) -> tuple[list[Person], int]:
    """A sample of preloaded learners, and the first learner id after the preload."""
    engine = make_engine(db)
    with engine.connect() as connection:
        highest = int(connection.execute(select(func.max(LEARNER.c.id))).scalar_one())
        ids = random.Random(seed).sample(range(1, highest + 1), min(count, highest))
        rows = connection.execute(
            select(
                LEARNER.c.uln,
                LEARNER.c.given_name,
                LEARNER.c.family_name,
                LEARNER.c.date_of_birth,
                LEARNER.c.gender,
                LEARNER.c.postcode,
            ).where(LEARNER.c.id.in_(ids))
        ).all()
    engine.dispose()
    known = [
        Person(given, family, born.isoformat(), gender.replace("_", "-"), postcode, uln)
        for uln, given, family, born, gender, postcode in rows
    ]
    assert all(person.gender in GENDERS for person in known)
    return known, highest + 1


def _database(cluster: ScratchCluster) -> str:
    admin = create_engine(cluster.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql("CREATE DATABASE lrs_replicas")
    admin.dispose()
    return make_url(cluster.url).set(database="lrs_replicas").render_as_string(hide_password=False)


def run(options: Options, progress: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="lrs-replicas-bench-") as scratch, ExitStack() as stack:
        folder = Path(scratch)
        cluster = ScratchCluster()
        stack.callback(cluster.remove)
        cluster.start()
        db = _database(cluster)
        progress(f"preloading {options.learners:,} learners into a scratch PostgreSQL ...")
        engine = make_engine(db)
        preload(engine, options.learners, options.seed)
        engine.dispose()
        known, first_new_id = _known(db, KNOWN_SAMPLE, options.seed)
        processes = max(1, min(options.client_processes, options.clients))
        tokens = [add_school(db, f"BENCH-CLIENTS-{p}", f"Benchmark School {p}") for p in range(processes + 1)]
        batch_token = add_school(db, "BENCH-BATCH", "Benchmark Batch School")
        batch = Batch("", batch_token, folder, options.batch_rows, options.seed)

        ports = [free_port() for _ in range(options.replicas)]
        target = _target(ports)
        progress(f"raw gRPC unary rate ({options.replicas} x {options.workers} echo processes) ...")
        with echo_servers(ports, options.workers):
            specs = _specs(target, tokens, options.clients, options.raw_seconds, options, known, True)
            load = start_load(specs)
            load.go()
            raw_tally = load.collect()
        raw = per_call(raw_tally, options.raw_seconds)[RAW]

        replicas = [
            Replica(db, port, options.workers, folder / f"replica-{i}.log") for i, port in enumerate(ports)
        ]
        for replica in replicas:
            replica.start()
            stack.callback(replica.stop)
        batch.target = target
        progress(f"{options.clients} clients for {options.seconds:.0f} s ...")
        specs = _specs(target, tokens, options.clients, options.seconds, options, known, False)
        load = start_load(specs)
        busy_before = _machine_busy()
        lock_waits = LockWaits(db)
        lock_waits.start()
        started = load.go()
        if options.batch_rows:
            batch.start(until=started + options.seconds, give_up_at=started + options.seconds + 120)
        events: dict[str, float] = {}
        if options.faults:
            time.sleep(max(0.0, started + KILL_AT * options.seconds - time.monotonic()))
            events["replica_killed"] = time.monotonic()
            replicas[0].kill()
            replicas[0].start()
            events["replica_back"] = time.monotonic()
            time.sleep(max(0.0, started + RESTART_POSTGRES_AT * options.seconds - time.monotonic()))
            events["postgres_restarting"] = time.monotonic()
            cluster.restart(options.postgres_restart)
            events["postgres_back"] = time.monotonic()
        tally = load.collect()
        locks = lock_waits.stop()
        busy_after = _machine_busy()
        load_average = os.getloadavg()[0]
        server_cpu = sum(replica.cpu_seconds() for replica in replicas)
        batch.wait()
        for replica in replicas:
            replica.stop()
        logged = _logged_errors([replica.log for replica in replicas])
        checks = check(db, first_new_id, tally, batch)
        batch_answered = len(batch.answered())

    figures = per_call(tally, options.seconds)
    for values in figures.values():
        values["ratio_to_raw"] = (
            round(values["per_second"] / raw["per_second"], 4) if raw["per_second"] else 0.0
        )
    refused = Counter({f"{call} {code}": n for (call, code), n in tally.attempts.items() if code != "OK"})
    report: dict[str, Any] = {
        "command": " ".join(["python -m bench.replicas", *sys.argv[1:]]),
        "options": options.__dict__,
        "raw_grpc_unary": raw,
        "calls": figures,
        "refused_attempts": dict(sorted(refused.items())),
        "gave_up": {f"{call} {code}": n for (call, code), n in sorted(tally.failed.items())},
        "per_second": per_second(tally, started, options.seconds),
        "batch": {
            "rows_per_file": options.batch_rows,
            "files": batch.files,
            "lrs_school_runs": batch.runs,
            "rows_answered_with_uln": batch_answered,
            "rows_per_second": round(batch.files * options.batch_rows / batch.seconds, 1)
            if batch.seconds
            else 0,
        },
        "server_cpu_ms_per_call": round(server_cpu * 1e3 / max(1, len(tally.done)), 2),
        "machine_cpu_busy": round(
            (busy_after[0] - busy_before[0]) / max(1, busy_after[1] - busy_before[1]), 3
        ),
        "lock_waits": locks,
        "server_logged_errors": logged,
        "checks": checks.failures(),
        "check_examples": {
            "two_ulns": checks.two_ulns[:5],
            "shared_ulns": checks.shared_ulns[:5],
            "wrong_learner": checks.wrong_learner[:5],
            "lost": checks.lost[:5],
        },
        "ok": checks.ok,
        "load_average_1min_at_end": round(load_average, 2),
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
    }
    if options.faults:
        report["faults"] = {name: round(at - started, 2) for name, at in events.items()} | {
            "postgres_restart_seconds": round(events["postgres_back"] - events["postgres_restarting"], 2),
            "replica_restart_seconds": round(events["replica_back"] - events["replica_killed"], 2),
            "throughput_back_after_postgres_seconds": back_after(
                tally, started, events["replica_killed"], events["postgres_back"], started + options.seconds
            ),
        }
    return report


def _batch_person(row: LearnerRow) -> Person:
    return Person(row.given_name, row.family_name, row.date_of_birth, row.gender, row.postcode)


def _print(report: dict[str, Any]) -> None:
    options = report["options"]
    raw = report["raw_grpc_unary"]
    print(
        f"{options['replicas']} replica(s) x {options['workers']} worker(s), {options['clients']} clients, "
        f"{options['seconds']:.0f} s, {options['learners']:,} learners preloaded, "
        f"faults {'on' if options['faults'] else 'off'}"
    )
    print(f"raw gRPC unary: {raw['per_second']:,.0f} calls/s, p50 {raw['p50_ms']} ms, p99 {raw['p99_ms']} ms")
    print(f"{'call':<28}{'calls':>8}{'calls/s':>10}{'ratio':>9}{'p50 ms':>9}{'p99 ms':>9}")
    for name, values in report["calls"].items():
        print(
            f"{name:<28}{values['calls']:>8}{values['per_second']:>10}{values['ratio_to_raw']:>9}"
            f"{values['p50_ms']:>9}{values['p99_ms']:>9}"
        )
    print(f"per second: {report['per_second']}")
    if "faults" in report:
        print(f"faults: {report['faults']}")
    print(f"refused attempts (retried): {report['refused_attempts']}")
    print(f"gave up: {report['gave_up']}")
    print(f"batch: {report['batch']}")
    print(
        f"server CPU {report['server_cpu_ms_per_call']} ms a call; machine CPU busy "
        f"{report['machine_cpu_busy']:.0%}, load average {report['load_average_1min_at_end']}"
    )
    print(f"lock waits: {report['lock_waits']}")
    print(f"server logged errors: {report['server_logged_errors']}")
    print(f"checks: {report['checks']} -> {'OK' if report['ok'] else 'FAILED'}")
    for name, examples in report["check_examples"].items():
        for example in examples:
            print(f"  {name}: {example}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--workers", type=int, default=1, help="serve --workers of each replica")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--raw-seconds", type=float, default=5.0)
    parser.add_argument("--learners", type=int, default=100_000)
    parser.add_argument("--batch-rows", type=int, default=2_000, help="rows a file (0: no batch)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--no-faults", dest="faults", action="store_false")
    parser.add_argument(
        "--postgres-restart",
        choices=("fast", "immediate"),
        default="fast",
        help="pg_ctl restart -m MODE (immediate: a crash, recovered from the WAL)",
    )
    parser.add_argument("--only", choices=list(MIX), default="", help="this call alone instead of the mix")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    options = Options(
        args.replicas,
        args.workers,
        args.clients,
        args.client_processes,
        args.seconds,
        args.raw_seconds,
        args.learners,
        args.batch_rows,
        args.faults,
        args.seed,
        args.postgres_restart,
        args.only,
    )
    report = run(options, progress=lambda line: print(line, file=sys.stderr, flush=True))
    if args.json:
        print(json.dumps(report))
    else:
        _print(report)
    if not report["ok"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
