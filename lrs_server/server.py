"""Server assembly and lifecycle: wiring, health, reflection, TLS, graceful stop."""

from __future__ import annotations

import gc
import ipaddress
import logging
import signal
import threading
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from sqlalchemy import Engine

from lrs.v1 import (
    admin_service_pb2,
    admin_service_pb2_grpc,
    batch_service_pb2,
    batch_service_pb2_grpc,
    learner_service_pb2,
    learner_service_pb2_grpc,
    record_service_pb2,
    record_service_pb2_grpc,
    registration_service_pb2,
    registration_service_pb2_grpc,
)
from lrs_server.api.batch import BatchRegistrationServicer
from lrs_server.api.records import AdminServicer, LearnerRecordServicer, LearnerSelfServicer
from lrs_server.api.registration import LearnerRegistrationServicer
from lrs_server.auth import POLICY, Authoriser, record_readers
from lrs_server.domain.batch import BatchRegistration
from lrs_server.domain.clock import Clock
from lrs_server.domain.grants import GrantService
from lrs_server.domain.learner_access import CREDENTIAL_LIFETIME, LearnerAccessService
from lrs_server.domain.lookup import LookupService
from lrs_server.domain.merges import MergeService
from lrs_server.domain.model import Principal
from lrs_server.domain.notice_ports import Mailer
from lrs_server.domain.notices import NoticeService
from lrs_server.domain.record_ports import AUDIENCES
from lrs_server.domain.records import RecordService
from lrs_server.domain.registration import RegistrationService
from lrs_server.domain.review import ReviewHooks, ReviewService
from lrs_server.domain.sharing import SharingService
from lrs_server.domain.updates import UpdateService
from lrs_server.interceptor import ServiceInterceptor
from lrs_server.limits import Admission, RateLimiter
from lrs_server.observe import Observer
from lrs_server.privacy import Disclosure
from lrs_server.storage.engine import WalCheckpointer, database_reachable, is_database_unavailable
from lrs_server.storage.notices import SqlNoticeStore
from lrs_server.storage.organisations import OrganisationStore
from lrs_server.storage.records import SqlRecordStore, principal_for_learner_token
from matching import default_matcher
from matching.types import Matcher

log = logging.getLogger(__name__)
SERVICE_NAMES = (
    registration_service_pb2.DESCRIPTOR.services_by_name["LearnerRegistrationService"].full_name,
    batch_service_pb2.DESCRIPTOR.services_by_name["BatchRegistrationService"].full_name,
    record_service_pb2.DESCRIPTOR.services_by_name["LearnerRecordService"].full_name,
    learner_service_pb2.DESCRIPTOR.services_by_name["LearnerSelfService"].full_name,
    admin_service_pb2.DESCRIPTOR.services_by_name["AdminService"].full_name,
)
SERVICE_MODULES = (
    registration_service_pb2,
    batch_service_pb2,
    record_service_pb2,
    learner_service_pb2,
    admin_service_pb2,
)
MAX_MESSAGE_BYTES = 4 * 1024 * 1024
# Allocations between young collections, and young/middle collections between the older ones
# (CPython's defaults: 700, 10, 10).
GC_THRESHOLDS = (50_000, 20, 100)


def tune_garbage_collector() -> None:
    """Set the serving process's cyclic garbage collector for a long-lived, allocation-heavy server.

    Deciding a chunk allocates hundreds of thousands of short-lived objects (rows, records, scores),
    almost all freed by reference counting; at CPython's default the collector still ran every 700
    allocations and kept re-scanning the long-lived caches and modules. Freezing what start-up
    built and collecting the young generation every 50,000 allocations cut the CPU per registered
    row by ~18% (0.66 -> 0.54 ms, 15,000 rows into 1M learners, in-process). Process-wide: called
    by ``lrs-server serve`` (and the benchmarks that stand for it), not by in-process test servers.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


@dataclass(frozen=True, slots=True)
class TlsConfig:
    cert: Path
    key: Path
    client_ca: Path | None = None


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """One serving process. ``threads`` run calls; ``max_in_flight`` bounds the calls admitted
    (running or waiting for a thread) before new ones are refused SERVER_BUSY; ``reuse_port`` lets
    several processes listen on one port (``serve --workers``); ``health_interval`` is how often the
    database is probed for the health service (0: never)."""

    listen: str = "127.0.0.1:50051"
    tls: TlsConfig | None = None
    threads: int = 16
    max_in_flight: int = 64
    token_cache_seconds: float = 5.0
    max_batch_rows: int = 100_000
    allow_insecure: bool = False
    reuse_port: bool = False
    health_interval: float = 2.0


class DatabaseHealth:
    """Probes the database every ``interval`` seconds from a thread of its own and reports each
    change (reachable or not) to ``report``: the health service answers NOT_SERVING while the
    database is unreachable, so a load balancer or orchestrator takes the process out of rotation."""

    def __init__(self, engine: Engine, report: Callable[[bool], None], interval: float) -> None:
        self._engine = engine
        self._report = report
        self._interval = interval
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lrs-health-probe", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self._interval + 10)

    def _run(self) -> None:
        serving = True
        while not self._stopping.wait(self._interval):
            reachable = database_reachable(self._engine)
            if reachable != serving and not self._stopping.is_set():
                log.warning(
                    "database %s: health %s",
                    "back" if reachable else "unreachable",
                    "SERVING" if reachable else "NOT_SERVING",
                )
                self._report(reachable)
                serving = reachable


class InsecureListenRefused(Exception):
    pass


def _is_loopback(listen: str) -> bool:
    host = listen.rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name other than localhost: it may resolve anywhere
        return False


def _check_policy() -> None:
    """Every RPC served must have an entry in the authorisation table."""
    served = {
        f"/{service.full_name}/{method.name}"
        for module in SERVICE_MODULES
        for service in module.DESCRIPTOR.services_by_name.values()
        for method in service.methods
    }
    missing = served - POLICY.keys()
    if missing:
        raise RuntimeError(f"RPCs without an authorisation rule: {sorted(missing)}")


def check_listen(config: ServerConfig) -> None:
    """Plaintext only on loopback, unless the operator said ``--insecure``."""
    if config.tls is None and not config.allow_insecure and not _is_loopback(config.listen):
        raise InsecureListenRefused(
            f"refusing to listen on {config.listen} without TLS; give --tls-cert/--tls-key "
            "(or --insecure if a proxy in front terminates TLS)"
        )


class LrsServer:
    """A running server. ``port`` is the bound port (useful with port 0 in tests)."""

    def __init__(
        self,
        engine: Engine,
        config: ServerConfig,
        matcher: Matcher | None = None,
        clock: Clock | None = None,
        limiter: RateLimiter | None = None,
        observer: Observer | None = None,
        mailer: Mailer | None = None,
    ) -> None:
        _check_policy()
        check_listen(config)
        self.engine = engine
        self._checkpointer = WalCheckpointer.for_engine(engine)
        matcher = matcher or default_matcher()
        clock = clock or Clock()
        store = SqlRecordStore(engine)
        disclosure = Disclosure()
        registration = RegistrationService(store, matcher, clock, disclosure, ReviewHooks())
        organisations = OrganisationStore(engine)

        def principal_for_token(token: str) -> Principal | None:
            return organisations.principal_for_token(token) or principal_for_learner_token(
                engine, token, clock.now() - CREDENTIAL_LIFETIME
            )

        authoriser = Authoriser(principal_for_token, config.token_cache_seconds)
        self.admission = Admission(config.max_in_flight, observer.in_flight if observer is not None else None)
        self._server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=config.threads, thread_name_prefix="lrs-rpc"),
            interceptors=[
                ServiceInterceptor(authoriser, self.admission, limiter, observer, is_database_unavailable)
            ],
            options=[
                ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
                # Several worker processes share the port only when asked (serve --workers N);
                # otherwise a second server on a port in use fails to start, as it should.
                ("grpc.so_reuseport", 1 if config.reuse_port else 0),
            ],
        )
        lookup = LookupService(store, matcher, clock, disclosure)
        record_service_pb2_grpc.add_LearnerRecordServiceServicer_to_server(
            LearnerRecordServicer(RecordService(store, lookup, clock, disclosure)), self._server
        )
        learner_service_pb2_grpc.add_LearnerSelfServiceServicer_to_server(
            LearnerSelfServicer(
                LearnerAccessService(store, clock, disclosure),
                SharingService(store),
                GrantService(store, clock, record_readers() & AUDIENCES),
                clock,
                NoticeService(SqlNoticeStore(engine), clock, mailer),
            ),
            self._server,
        )
        admin_service_pb2_grpc.add_AdminServiceServicer_to_server(
            AdminServicer(
                MergeService(store, clock, disclosure), ReviewService(store, matcher, clock, disclosure)
            ),
            self._server,
        )
        registration_service_pb2_grpc.add_LearnerRegistrationServiceServicer_to_server(
            LearnerRegistrationServicer(
                registration,
                lookup,
                UpdateService(store, matcher, clock, disclosure),
            ),
            self._server,
        )
        batch_service_pb2_grpc.add_BatchRegistrationServiceServicer_to_server(
            BatchRegistrationServicer(BatchRegistration(registration, config.max_batch_rows)), self._server
        )
        self._health = health.HealthServicer()
        self._health_probe = (
            DatabaseHealth(engine, self._set_health, config.health_interval)
            if config.health_interval > 0
            else None
        )
        health_pb2_grpc.add_HealthServicer_to_server(self._health, self._server)
        reflection.enable_server_reflection(
            (
                *SERVICE_NAMES,
                health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                reflection.SERVICE_NAME,
            ),
            self._server,
        )
        self.port = self._bind(config)

    def _bind(self, config: ServerConfig) -> int:
        if config.tls is None:
            port: int = self._server.add_insecure_port(config.listen)
        else:
            tls = config.tls
            credentials = grpc.ssl_server_credentials(
                [(tls.key.read_bytes(), tls.cert.read_bytes())],
                root_certificates=tls.client_ca.read_bytes() if tls.client_ca else None,
                require_client_auth=tls.client_ca is not None,
            )
            port = self._server.add_secure_port(config.listen, credentials)
        if port == 0:
            raise OSError(f"could not listen on {config.listen}")
        return port

    def _set_health(self, serving: bool) -> None:
        status = (
            health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        for name in ("", *SERVICE_NAMES):
            self._health.set(name, status)

    def start(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.start()
        self._server.start()
        self._set_health(True)
        if self._health_probe is not None:
            self._health_probe.start()

    def stop(self, grace: float = 10.0) -> None:
        """Stop taking calls, let in-flight calls finish (up to ``grace`` seconds)."""
        if self._health_probe is not None:
            self._health_probe.stop()
        self._health.enter_graceful_shutdown()
        self._server.stop(grace).wait()
        if self._checkpointer is not None:
            self._checkpointer.stop()

    def wait(self) -> None:
        self._server.wait_for_termination()

    def serve_until_signalled(self, grace: float = 10.0, started: Callable[[], None] | None = None) -> None:
        stopping = threading.Event()

        def _on_signal(signum: int, _frame: FrameType | None) -> None:
            log.info("signal %s: stopping gracefully", signum)
            stopping.set()

        signal.signal(signal.SIGTERM, _on_signal)
        signal.signal(signal.SIGINT, _on_signal)
        self.start()
        if started is not None:
            started()
        stopping.wait()
        self.stop(grace)
