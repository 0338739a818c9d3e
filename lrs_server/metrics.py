"""Prometheus metrics (``serve --metrics-listen HOST:PORT``), in prometheus-client's multiprocess
mode so that every worker process of ``serve --workers N`` counts into one exposition.

Import this module only after ``PROMETHEUS_MULTIPROC_DIR`` is set (``metrics_setup``):
prometheus-client chooses how values are stored when it is first imported.

- ``lrs_calls_total{rpc,code}`` and ``lrs_call_seconds{rpc}``: every call the interceptor sees
  (health and reflection are not counted), refusals (busy, rate-limited) included;
- ``lrs_batch_rows_total{outcome}``: rows answered by BatchRegisterLearners, by outcome;
- ``lrs_outcomes_total{rpc,outcome}``: the outcome of each single registration, find and verify;
- ``lrs_calls_in_flight``: calls admitted and not finished, all workers (``--max-in-flight`` each);
- ``lrs_worker_calls{pid}``: calls served by each worker process;
- ``lrs_db_connections_in_use``: database connections checked out of the pools (all workers);
- ``lrs_review_queue_depth``: registrations waiting for a review operator (read at scrape time);
- ``lrs_lock_wait_seconds{lock}``: time taken to lock a row every writer of some kind needs, today
  ``access_log_head`` (an access-log chain head, taken by every disclosure; PostgreSQL only).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, multiprocess, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, event

from lrs_server.storage import audit
from lrs_server.storage.stats import open_review_items

_LATENCY_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
_LOCK_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)
_OUTCOME_RPCS = ("RegisterLearner", "FindLearnerByUln", "FindLearnerByDemographics", "VerifyLearner")


def mark_worker_dead(pid: int) -> None:
    """Drop a stopped worker's live gauges (its counters stay counted)."""
    multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


class PrometheusObserver:
    """The interceptor's ``Observer``: counts calls, latencies and outcomes."""

    def __init__(self) -> None:
        self.calls = Counter("lrs_calls", "Calls by RPC and status code", ["rpc", "code"])
        self.latency = Histogram("lrs_call_seconds", "Call latency by RPC", ["rpc"], buckets=_LATENCY_BUCKETS)
        self.batch_rows = Counter("lrs_batch_rows", "Batch rows answered, by outcome", ["outcome"])
        self.outcomes = Counter("lrs_outcomes", "Outcomes of single calls", ["rpc", "outcome"])
        self.calls_in_flight = Gauge(
            "lrs_calls_in_flight", "Calls admitted and not yet finished", multiprocess_mode="livesum"
        )
        # Per process (a pid label each): how evenly the kernel spreads connections over the workers.
        self.worker_calls = Gauge(
            "lrs_worker_calls", "Calls served by each worker process", multiprocess_mode="all"
        )

    def call_finished(self, method: str, code: str, seconds: float) -> None:
        rpc = method.rsplit("/", 1)[-1]
        self.calls.labels(rpc, code).inc()
        self.latency.labels(rpc).observe(seconds)
        self.worker_calls.inc()

    def responded(self, method: str, response: Any) -> None:
        rpc = method.rsplit("/", 1)[-1]
        if rpc == "BatchRegisterLearners":
            for result in response.results:
                self.batch_rows.labels(_outcome_name(result)).inc()
        elif rpc in _OUTCOME_RPCS:
            self.outcomes.labels(rpc, _outcome_name(response)).inc()

    def in_flight(self, count: int) -> None:
        self.calls_in_flight.set(count)


def _outcome_name(message: Any) -> str:
    field = message.DESCRIPTOR.fields_by_name.get("outcome")
    if field is None or field.enum_type is None:
        return "UNKNOWN"
    value = field.enum_type.values_by_number.get(message.outcome)
    return str(value.name) if value is not None else str(message.outcome)


def watch_pool(engine: Engine) -> None:
    """Count this process's checked-out connections into ``lrs_db_connections_in_use``."""
    in_use = Gauge(
        "lrs_db_connections_in_use",
        "Database connections checked out of the pools",
        multiprocess_mode="livesum",
    )

    @event.listens_for(engine, "checkout")
    def _checkout(*_args: Any) -> None:
        in_use.inc()

    @event.listens_for(engine, "checkin")
    def _checkin(*_args: Any) -> None:
        in_use.dec()


def watch_lock_waits(engine: Engine) -> None:
    """Observe this process's waits for contended row locks into ``lrs_lock_wait_seconds``."""
    waits = Histogram(
        "lrs_lock_wait_seconds", "Time taken to lock a shared row", ["lock"], buckets=_LOCK_BUCKETS
    )
    audit.watch_lock_waits(engine, lambda lock, seconds: waits.labels(lock).observe(seconds))


class _ReviewQueue(Collector):
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            depth = float(open_review_items(self._engine))
        except Exception:  # the database is down: the health service says so; no figure is better than 0
            return
        yield GaugeMetricFamily("lrs_review_queue_depth", "Registrations waiting for review", value=depth)


def serve_metrics(listen: str, engine: Engine) -> None:
    """Expose every process's metrics (and the review queue depth) at http://HOST:PORT/metrics,
    from a daemon thread of the calling process."""
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    registry.register(_ReviewQueue(engine))
    host, _, port = listen.rpartition(":")
    start_http_server(int(port), addr=host.strip("[]") or "127.0.0.1", registry=registry)
