"""Operability (issue 13): worker processes on one port, back-pressure, rate limits shared by two
server processes through Redis, Prometheus metrics, and health following the database. Real
`lrs-server serve` processes on free loopback ports, real databases, a real Redis."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
import redis
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status
from sqlalchemy import Engine

from lrs.v1 import batch_service_pb2 as batch_pb
from lrs.v1 import batch_service_pb2_grpc, registration_service_pb2_grpc
from lrs.v1 import registration_service_pb2 as reg_pb
from lrs_server.domain.model import OrgKind
from lrs_server.server import LrsServer, ServerConfig
from lrs_server.storage import migrate
from lrs_server.storage.engine import make_engine
from lrs_server.storage.organisations import OrganisationStore
from school_client.retry import call_with_retry, retry_delay
from tests.service.conftest import failure, start_server
from tests.service.factories import SOMEONE_ELSE, identity, register_request
from tests.service.operations import (
    REDIS_URL,
    ScratchCluster,
    free_port,
    sample,
    scrape,
    scratch_cluster,
    serving,
    wait_for,
)

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
Metadata = tuple[tuple[str, str], ...]


def _org(engine: Engine, kind: OrgKind, ref: str) -> Metadata:
    issued = OrganisationStore(engine).add(kind, ref, f"Test {ref}")
    return (("authorization", f"Bearer {issued.token}"),)


def _find(
    channel: grpc.Channel, auth: Metadata, **overrides: object
) -> reg_pb.FindLearnerByDemographicsResponse:
    stub = registration_service_pb2_grpc.LearnerRegistrationServiceStub(channel)
    request = reg_pb.FindLearnerByDemographicsRequest(identity=identity(**overrides))
    response: reg_pb.FindLearnerByDemographicsResponse = stub.FindLearnerByDemographics(
        request, metadata=auth, timeout=30
    )
    return response


def _batch(channel: grpc.Channel, auth: Metadata, first: int, rows: int) -> list[batch_pb.BatchRowResult]:
    stub = batch_service_pb2_grpc.BatchRegistrationServiceStub(channel)
    people = [
        batch_pb.BatchRow(
            row_number=n,
            mis_identifier=f"MIS-{n}",
            identity=identity(
                given_name=["Amara", "Bethany", "Chloe", "Delia", "Esme", "Freya"][n % 6],
                date_of_birth=f"2010-0{1 + n % 9}-1{n % 10}",
            ),
        )
        for n in range(first, first + rows)
    ]
    request = batch_pb.BatchRegisterLearnersRequest(rows=people)
    return [
        r
        for response in stub.BatchRegisterLearners(iter([request]), metadata=auth, timeout=60)
        for r in response.results
    ]


def _details(error: grpc.RpcError) -> tuple[error_details_pb2.QuotaFailure | None, float | None]:
    assert isinstance(error, grpc.Call)
    status = rpc_status.from_call(error)
    assert status is not None
    quota = None
    for detail in status.details:
        candidate = error_details_pb2.QuotaFailure()
        if detail.Unpack(candidate):
            quota = candidate
    return quota, retry_delay(error)


def _health(channel: grpc.Channel) -> int:
    stub = health_pb2_grpc.HealthStub(channel)
    return int(stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=5).status)


# -- worker processes ---------------------------------------------------------------------------


def test_two_workers_both_serve_calls_and_all_stop_cleanly_on_sigterm(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    auth = _org(engine, OrgKind.POST16, "10000077")
    metrics_port = free_port()
    with serving(
        db_url, tmp_path, "--workers", "2", "--metrics-listen", f"127.0.0.1:{metrics_port}"
    ) as served:
        workers = served.worker_pids()
        assert len(workers) == 2
        for _ in range(24):  # a connection each: the kernel spreads them over the two listeners
            with served.channel() as channel:
                assert _find(channel, auth).outcome == reg_pb.FIND_OUTCOME_NO_MATCH
                assert _health(channel) == SERVING
        samples = scrape(metrics_port)
        per_worker = {
            int(dict(labels)["pid"]): value
            for (name, labels), value in samples.items()
            if name == "lrs_worker_calls"
        }
        assert {pid for pid, calls in per_worker.items() if calls > 0} == workers, per_worker
        assert sum(per_worker.values()) == 24
        # A registration discloses the learner: its append's wait for a chain head is measured
        # (PostgreSQL; SQLite's writers queue for the database lock, not for a head row).
        school = _org(engine, OrgKind.SCHOOL, "10000078")
        with served.channel() as channel:
            registration = registration_service_pb2_grpc.LearnerRegistrationServiceStub(channel)
            registration.RegisterLearner(register_request(), metadata=school, timeout=30)
        waits = sample(scrape(metrics_port), "lrs_lock_wait_seconds_count", lock="access_log_head")
        assert waits == (1 if db_url.startswith("postgresql") else 0)
        status = served.stop()
    assert status == 0, served.stderr.read_text()
    assert "lrs-server stopped" in served.stdout
    for pid in workers:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()


def test_workers_die_with_a_parent_killed_outright(tmp_path: Path) -> None:
    with serving(f"sqlite:///{tmp_path / 'lrs.sqlite3'}", tmp_path, "--workers", "2") as served:
        workers = served.worker_pids()
        assert len(workers) == 2
        served.process.kill()  # SIGKILL: no chance to stop them itself
        served.process.wait(timeout=30)
        wait_for(
            lambda: not any(Path(f"/proc/{pid}").exists() for pid in workers),
            20,
            "the orphaned workers are gone (PR_SET_PDEATHSIG)",
        )


def test_a_worker_that_dies_stops_the_server_with_exit_status_1(tmp_path: Path) -> None:
    with serving(f"sqlite:///{tmp_path / 'lrs.sqlite3'}", tmp_path, "--workers", "2") as served:
        one, other = sorted(served.worker_pids())
        os.kill(one, signal.SIGKILL)
        assert served.process.wait(timeout=60) == 1  # for the supervisor to restart the whole server
        assert not Path(f"/proc/{other}").exists()
    assert "worker" in served.stderr.read_text()


@pytest.mark.parametrize(
    ("options", "said"),
    [
        (("--limit-lookups", "600"), "--redis-url"),
        (("--limit-lookups", "0", "--redis-url", "redis://127.0.0.1:6379/0"), "PER_MINUTE"),
        (("--limit-verifications", "lots", "--redis-url", "redis://127.0.0.1:6379/0"), "PER_MINUTE"),
        (("--metrics-listen", "127.0.0.1:notaport"), "cannot serve metrics"),
    ],
)
def test_serve_refuses_bad_operations_flags_saying_why(
    tmp_path: Path, options: tuple[str, ...], said: str
) -> None:
    import subprocess

    from tests.service.operations import LRS_SERVER

    db = f"sqlite:///{tmp_path / 'lrs.sqlite3'}"
    command = [LRS_SERVER, "serve", "--db", db, "--listen", f"127.0.0.1:{free_port()}", "--workers", "1"]
    done = subprocess.run([*command, *options], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert said in done.stderr, done.stderr


def test_workers_need_a_fixed_port(db_url: str, engine: Engine) -> None:
    import subprocess

    from tests.service.operations import LRS_SERVER

    done = subprocess.run(
        [LRS_SERVER, "serve", "--db", db_url, "--listen", "127.0.0.1:0", "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "port" in done.stderr


# -- back-pressure --------------------------------------------------------------------------------


def test_a_full_server_refuses_server_busy_with_retry_info_and_the_client_retries(engine: Engine) -> None:
    auth = _org(engine, OrgKind.SCHOOL, "100077")
    server = start_server(engine, max_in_flight=1)
    gate = threading.Event()

    def held_rows() -> Iterator[batch_pb.BatchRegisterLearnersRequest]:
        gate.wait(30)
        yield from ()

    try:
        with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub = batch_service_pb2_grpc.BatchRegistrationServiceStub(channel)
            held = stub.BatchRegisterLearners(held_rows(), metadata=auth, timeout=60)  # takes the one place
            wait_for(lambda: server.admission.in_flight == 1, 10, "the stream is in flight")
            with pytest.raises(grpc.RpcError) as caught:
                _find(channel, auth)
            refused = failure(caught.value)
            assert refused.code == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert refused.reason == "SERVER_BUSY"
            assert retry_delay(caught.value) == pytest.approx(0.2)

            attempts: list[float] = []
            waits: list[float] = []

            def call() -> reg_pb.FindLearnerByDemographicsResponse:
                attempts.append(time.monotonic())
                return _find(channel, auth)

            def sleep(seconds: float) -> None:  # the first wait frees the place; then really wait
                waits.append(seconds)
                gate.set()
                time.sleep(seconds)

            assert call_with_retry(call, sleep=sleep).outcome == reg_pb.FIND_OUTCOME_NO_MATCH
            assert len(attempts) >= 2 and waits[0] >= 0.2
            assert list(held) == []
            wait_for(lambda: server.admission.in_flight == 0, 10, "every place given back")
    finally:
        gate.set()
        server.stop(grace=1)


def test_the_client_does_not_retry_resource_exhausted_without_retry_info() -> None:
    class Refused(grpc.RpcError):
        def code(self) -> grpc.StatusCode:
            return grpc.StatusCode.RESOURCE_EXHAUSTED

    calls: list[int] = []

    def call() -> None:
        calls.append(1)
        raise Refused()

    with pytest.raises(Refused):
        call_with_retry(call, sleep=lambda _s: None)
    assert calls == [1]


# -- rate limits across two server processes --------------------------------------------------------


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    if not REDIS_URL:
        pytest.skip("LRS_TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:6379/0)")
    prefix = f"lrs-test:{uuid.uuid4().hex}:"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)
    client.close()


def test_rate_limits_are_shared_by_two_server_processes(
    engine: Engine, db_url: str, tmp_path: Path, redis_prefix: str
) -> None:
    college = _org(engine, OrgKind.POST16, "10000088")
    other_college = _org(engine, OrgKind.POST16, "10000099")
    school = _org(engine, OrgKind.SCHOOL, "100088")
    limits = (
        "--workers", "1", "--redis-url", REDIS_URL, "--redis-prefix", redis_prefix,
        "--limit-lookups", "1/3", "--limit-registrations", "1/5",
    )  # fmt: skip
    with (
        serving(db_url, tmp_path / "a", *limits) as a,
        serving(db_url, tmp_path / "b", *limits) as b,
        a.channel() as on_a,
        b.channel() as on_b,
    ):
        # Three lookups in the burst, over both servers; the fourth is refused on either.
        _find(on_a, college)
        _find(on_b, college)
        _find(on_a, college)
        for channel in (on_b, on_a):
            with pytest.raises(grpc.RpcError) as caught:
                _find(channel, college)
            refused = failure(caught.value)
            assert refused.code == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert refused.reason == "RATE_LIMITED"
            quota, delay = _details(caught.value)
            assert quota is not None
            assert [v.subject for v in quota.violations] == ["organisation:10000088"]
            assert "lookups" in quota.violations[0].description
            assert delay is not None and 30 < delay <= 60  # one token at 1 a minute
        # Another organisation has a bucket of its own; other kinds of call are not limited.
        assert _find(on_b, other_college, **SOMEONE_ELSE).outcome == reg_pb.FIND_OUTCOME_NO_MATCH

        # The batch path pays a token per row: 3 rows fit the burst of 5, 3 more do not.
        assert len(_batch(on_a, school, 1, 3)) == 3
        with pytest.raises(grpc.RpcError) as caught:
            _batch(on_b, school, 4, 3)
        assert failure(caught.value).reason == "RATE_LIMITED"
        # ... and a single registration draws on the same bucket (2 left of 5).
        stub = registration_service_pb2_grpc.LearnerRegistrationServiceStub(on_a)
        stub.RegisterLearner(register_request(**SOMEONE_ELSE), metadata=school, timeout=30)


def test_lrs_school_waits_out_a_rate_limit_and_gets_through(
    engine: Engine, tmp_path: Path, redis_prefix: str
) -> None:
    import json
    import subprocess

    from tests.service.operations import LRS_SERVER

    college = _org(engine, OrgKind.POST16, "10000044")
    token = college[0][1].removeprefix("Bearer ")
    db_url = str(engine.url.render_as_string(hide_password=False))
    metrics_port = free_port()
    limits = ("--workers", "1", "--redis-url", REDIS_URL, "--redis-prefix", redis_prefix)
    metrics = ("--metrics-listen", f"127.0.0.1:{metrics_port}")
    with serving(db_url, tmp_path, *limits, *metrics, "--limit-lookups", "12/1") as served:  # 1 in 5 s
        command = [
            str(Path(LRS_SERVER).parent / "lrs-school"), "find", "--server", served.target, "--token", token,
            "--given-name", "Amara", "--family-name", "Okafor", "--date-of-birth", "2011-03-14",
            "--gender", "female", "--postcode", "SW1A 1AA", "--json",
        ]  # fmt: skip
        first = subprocess.run(command, capture_output=True, text=True, timeout=60)
        started = time.monotonic()
        second = subprocess.run(command, capture_output=True, text=True, timeout=60)
        took = time.monotonic() - started
        samples = scrape(metrics_port)
    assert first.returncode == 0, first.stdout + first.stderr
    assert second.returncode == 0, second.stdout + second.stderr
    assert json.loads(second.stdout)["outcome"] == "NO_MATCH"
    rpc = "FindLearnerByDemographics"
    assert sample(samples, "lrs_calls_total", rpc=rpc, code="RESOURCE_EXHAUSTED") >= 1  # refused first
    assert sample(samples, "lrs_calls_total", rpc=rpc, code="OK") == 2  # ... then let through
    assert took >= 2  # it waited for the token the RetryInfo announced


def test_lrs_school_batch_waits_out_the_rows_limit_and_finishes(
    engine: Engine, tmp_path: Path, redis_prefix: str
) -> None:
    import csv
    import subprocess

    from tests.service.operations import LRS_SERVER

    school = _org(engine, OrgKind.SCHOOL, "100044")
    token = school[0][1].removeprefix("Bearer ")
    db_url = str(engine.url.render_as_string(hide_password=False))
    data = Path(__file__).parents[1] / "data"
    metrics_port = free_port()
    options = (
        "--workers", "1", "--redis-url", REDIS_URL, "--redis-prefix", redis_prefix,
        "--metrics-listen", f"127.0.0.1:{metrics_port}", "--limit-registrations", "300/5",
    )  # fmt: skip
    with serving(db_url, tmp_path, *options) as served:  # 5 rows a second, bursts of 5
        runs = []
        for name in ("lrb_without_file_header.csv", "lrb_with_file_header.csv"):
            out = tmp_path / f"{name}.results.csv"
            command = [
                str(Path(LRS_SERVER).parent / "lrs-school"), "register", str(data / name), "--out", str(out),
                "--server", served.target, "--token", token,
            ]  # fmt: skip
            done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp_path)
            assert done.returncode == 0, done.stdout + done.stderr
            with (data / name).open(encoding="utf-8") as source, out.open(encoding="utf-8") as results:
                runs.append((len(list(csv.DictReader(source))), len(list(csv.DictReader(results)))))
        samples = scrape(metrics_port)
    assert all(sent == answered for sent, answered in runs), runs  # every row answered in the end
    rpc = "BatchRegisterLearners"
    assert sample(samples, "lrs_calls_total", rpc=rpc, code="RESOURCE_EXHAUSTED") >= 1  # it was held back
    # (a row the client cannot read is answered by the client and never reaches the server)
    assert 0 < sample(samples, "lrs_batch_rows_total") <= sum(sent for sent, _ in runs)


# -- metrics ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("workers", ["1", "2"])
def test_metrics_show_the_calls_made(engine: Engine, db_url: str, tmp_path: Path, workers: str) -> None:
    school = _org(engine, OrgKind.SCHOOL, "100066")
    metrics_port = free_port()
    with (
        serving(
            db_url, tmp_path, "--workers", workers, "--metrics-listen", f"127.0.0.1:{metrics_port}"
        ) as served,
        served.channel() as channel,
    ):
        stub = registration_service_pb2_grpc.LearnerRegistrationServiceStub(channel)
        first = stub.RegisterLearner(register_request(), metadata=school, timeout=30)
        again = stub.RegisterLearner(register_request(), metadata=school, timeout=30)
        assert (first.outcome, again.outcome) == (
            reg_pb.REGISTRATION_OUTCOME_NEW,
            reg_pb.REGISTRATION_OUTCOME_MATCHED,
        )
        with pytest.raises(grpc.RpcError):
            stub.RegisterLearner(register_request(given_name=""), metadata=school, timeout=30)
        with pytest.raises(grpc.RpcError):
            stub.RegisterLearner(register_request(), timeout=30)  # no token
        rows = _batch(channel, school, 1, 4)
        assert _find(channel, school).outcome == reg_pb.FIND_OUTCOME_EXACT_MATCH
        samples = scrape(metrics_port)

    assert sample(samples, "lrs_calls_total", rpc="RegisterLearner", code="OK") == 2
    assert sample(samples, "lrs_calls_total", rpc="RegisterLearner", code="INVALID_ARGUMENT") == 1
    assert sample(samples, "lrs_calls_total", rpc="RegisterLearner", code="UNAUTHENTICATED") == 1
    assert sample(samples, "lrs_calls_total", rpc="BatchRegisterLearners", code="OK") == 1
    assert sample(samples, "lrs_call_seconds_count", rpc="RegisterLearner") == 4
    assert sample(samples, "lrs_call_seconds_bucket", rpc="RegisterLearner", le="+Inf") == 4
    assert (
        sample(samples, "lrs_outcomes_total", rpc="RegisterLearner", outcome="REGISTRATION_OUTCOME_NEW") == 1
    )
    assert (
        sample(samples, "lrs_outcomes_total", rpc="RegisterLearner", outcome="REGISTRATION_OUTCOME_MATCHED")
        == 1
    )
    assert (
        sample(
            samples, "lrs_outcomes_total", rpc="FindLearnerByDemographics", outcome="FIND_OUTCOME_EXACT_MATCH"
        )
        == 1
    )
    assert sample(samples, "lrs_batch_rows_total") == len(rows) == 4
    for outcome in {r.outcome for r in rows}:
        name = reg_pb.RegistrationOutcome.Name(outcome)
        assert sample(samples, "lrs_batch_rows_total", outcome=name) == sum(
            r.outcome == outcome for r in rows
        )
    assert ("lrs_review_queue_depth", frozenset()) in samples
    assert sample(samples, "lrs_db_connections_in_use") >= 0
    assert any(name == "lrs_db_connections_in_use" for name, _ in samples)
    assert ("lrs_calls_in_flight", frozenset()) in samples


# -- health follows the database --------------------------------------------------------------------


@pytest.fixture
def cluster() -> Iterator[ScratchCluster]:
    scratch = scratch_cluster()
    try:
        scratch.start()
        yield scratch
    finally:
        scratch.remove()


def test_health_is_not_serving_while_postgresql_is_down_and_serving_when_it_is_back(
    cluster: ScratchCluster,
) -> None:
    engine = make_engine(cluster.url)
    migrate.upgrade(engine)
    college = _org(engine, OrgKind.POST16, "10000055")
    server = LrsServer(engine, ServerConfig(listen="127.0.0.1:0", health_interval=0.2, token_cache_seconds=0))
    server.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            assert _health(channel) == SERVING
            assert _find(channel, college).outcome == reg_pb.FIND_OUTCOME_NO_MATCH
            cluster.stop()
            wait_for(lambda: _health(channel) == NOT_SERVING, 20, "NOT_SERVING with the database down")
            # Calls meanwhile are refused as retryable, never INTERNAL.
            with pytest.raises(grpc.RpcError) as caught:
                _find(channel, college)
            down = failure(caught.value)
            assert (down.code, down.reason) == (grpc.StatusCode.UNAVAILABLE, "DATABASE_UNAVAILABLE")
            assert retry_delay(caught.value) == pytest.approx(1.0)
            cluster.start()
            wait_for(lambda: _health(channel) == SERVING, 20, "SERVING with the database back")
            # The pool's dead connections are replaced by themselves (pre-ping).
            assert _find(channel, college).outcome == reg_pb.FIND_OUTCOME_NO_MATCH
    finally:
        server.stop(grace=1)
        engine.dispose()


def test_health_probe_can_be_switched_off(engine: Engine) -> None:
    server = start_server(engine, health_interval=0)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            assert _health(channel) == SERVING
    finally:
        server.stop(grace=1)
