"""``lrs-server serve --workers N``: N serving processes on one port (SO_REUSEPORT), as gRPC's own
multiprocessing example runs them, so one server uses every core despite Python's GIL.

The parent binds nothing and creates no gRPC object: it starts the workers (``spawn``: fresh
interpreters, nothing inherited from the parent's threads, engine or connections), serves the
metrics of all of them when asked, and on SIGTERM/SIGINT passes SIGTERM to each worker, which stops
taking calls and lets those in flight finish. If a worker dies on its own the parent stops the
others and exits 1, for the supervisor (systemd, Kubernetes) to restart the whole server.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event as MpEvent
from types import FrameType

from lrs_server.limits import RateLimiter, RateLimits
from lrs_server.mail import SmtpMailer, SmtpSettings
from lrs_server.observe import Observer
from lrs_server.server import LrsServer, ServerConfig, tune_garbage_collector
from lrs_server.storage.engine import make_engine

log = logging.getLogger(__name__)
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True, slots=True)
class WorkerSpec:
    """Everything a worker needs to build its own server (sent to a fresh interpreter)."""

    db: str | None
    config: ServerConfig
    limits: RateLimits | None = None
    redis_url: str | None = None
    redis_prefix: str = "lrs:ratelimit:"
    metrics: bool = False
    grace: float = 10.0
    smtp: SmtpSettings | None = None


def build_server(spec: WorkerSpec) -> LrsServer:
    """This process's server: its own engine (and pool), limiter and metrics."""
    engine = make_engine(spec.db)
    observer: Observer | None = None
    if spec.metrics:
        from lrs_server import metrics  # only now: PROMETHEUS_MULTIPROC_DIR is set

        observer = metrics.PrometheusObserver()
        metrics.watch_pool(engine)
        metrics.watch_lock_waits(engine)
    limiter = None
    if spec.limits is not None and spec.limits.buckets:
        if spec.redis_url is None:
            raise ValueError("rate limits need a Redis URL")
        from lrs_server.storage.redis_buckets import RedisTokenBuckets

        limiter = RateLimiter(spec.limits, RedisTokenBuckets.from_url(spec.redis_url, spec.redis_prefix))
    mailer = SmtpMailer(spec.smtp) if spec.smtp is not None else None
    return LrsServer(engine, spec.config, limiter=limiter, observer=observer, mailer=mailer)


def _die_with_parent(parent: int | None) -> None:
    """SIGKILL this worker when the parent dies (Linux PR_SET_PDEATHSIG): a parent killed outright
    (SIGKILL, OOM) must not leave workers serving on the port, unsupervised and unseen."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if parent is not None and os.getppid() != parent:  # it died before prctl took effect
        os._exit(1)


def run_worker(
    spec: WorkerSpec,
    ready: MpEvent | None = None,
    started: Callable[[], None] | None = None,
    parent: int | None = None,
) -> None:
    """A worker process's body (also the whole server with one worker): ``ready`` is set, or
    ``started`` called, once it takes calls."""
    if ready is not None:  # a spawned worker: it logs like the parent, and dies with it
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        _die_with_parent(parent)
        started = ready.set
    server = build_server(spec)
    tune_garbage_collector()
    server.serve_until_signalled(spec.grace, started=started)


def supervise(
    spec: WorkerSpec, workers: int, started: Callable[[], None], worker_ended: Callable[[int], None]
) -> int:
    """Run ``workers`` worker processes until SIGTERM/SIGINT; the exit status for the command."""
    context = multiprocessing.get_context("spawn")
    stopping = threading.Event()

    def _on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s: stopping %d workers gracefully", signum, workers)
        stopping.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    processes: list[tuple[BaseProcess, MpEvent]] = []
    for number in range(workers):
        ready = context.Event()
        process = context.Process(
            target=run_worker, args=(spec, ready, None, os.getpid()), name=f"lrs-worker-{number}"
        )
        process.start()
        processes.append((process, ready))
    try:
        status = _serve(processes, stopping, started)
    finally:
        _stop_all(processes, spec.grace, worker_ended)
    if status == 0 and any(p.exitcode != 0 for p, _ in processes):
        log.error("a worker did not stop cleanly: exit statuses %s", [p.exitcode for p, _ in processes])
        status = 1
    return status


def _serve(
    processes: list[tuple[BaseProcess, MpEvent]], stopping: threading.Event, started: Callable[[], None]
) -> int:
    for process, ready in processes:
        while not ready.wait(0.2):
            if stopping.is_set():
                return 0
            if process.exitcode is not None:
                log.error("worker %s did not start (exit %s)", process.pid, process.exitcode)
                return 1
    started()
    while not stopping.wait(0.5):
        dead = [p for p, _ in processes if p.exitcode is not None]
        if dead:
            for process in dead:
                log.error("worker %s ended on its own (exit %s): stopping", process.pid, process.exitcode)
            return 1
    return 0


def _stop_all(
    processes: list[tuple[BaseProcess, MpEvent]], grace: float, worker_ended: Callable[[int], None]
) -> None:
    for process, _ in processes:
        if process.exitcode is None and process.pid is not None:
            os.kill(process.pid, signal.SIGTERM)
    for process, _ in processes:
        process.join(grace + 10)
        if process.exitcode is None:
            log.error("worker %s did not stop in time: killed", process.pid)
            process.kill()
            process.join()
        if process.pid is not None:
            worker_ended(process.pid)
