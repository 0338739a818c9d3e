"""Back-pressure and per-organisation rate limits, applied by the interceptor before a call runs.

- ``Admission``: a bound on the calls in flight in one process. A call over it is refused at once
  (``RESOURCE_EXHAUSTED`` ``SERVER_BUSY`` with a ``RetryInfo``) instead of queueing without limit.
- ``RateLimiter``: a token bucket per organisation per kind of call (``LIMITED_RPCS``), kept in a
  store every replica and worker shares (``TokenBuckets``; Redis in ``storage/redis_buckets.py``).
  A call over it is refused ``RESOURCE_EXHAUSTED`` ``RATE_LIMITED`` with a ``QuotaFailure`` and a
  ``RetryInfo``. The batch path pays one token per row.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from lrs_server.domain.errors import DomainError, ErrorKind, QuotaViolation, Reason
from lrs_server.domain.model import Principal

_REG = "/lrs.v1.LearnerRegistrationService/"


class LimitKind(enum.StrEnum):
    """The kinds of call an organisation's rate is limited on (one bucket each)."""

    LOOKUPS = "lookups"
    VERIFICATIONS = "verifications"
    RECORD_READS = "record_reads"
    REGISTRATIONS = "registrations"


# Which RPCs draw on which bucket. A call not listed here is not rate-limited.
LIMITED_RPCS: Mapping[str, LimitKind] = {
    f"{_REG}FindLearnerByUln": LimitKind.LOOKUPS,
    f"{_REG}FindLearnerByDemographics": LimitKind.LOOKUPS,
    f"{_REG}VerifyLearner": LimitKind.VERIFICATIONS,
    "/lrs.v1.LearnerRecordService/GetLearnerRecord": LimitKind.RECORD_READS,
    f"{_REG}RegisterLearner": LimitKind.REGISTRATIONS,
    # One token per row of each message, not per call.
    "/lrs.v1.BatchRegistrationService/BatchRegisterLearners": LimitKind.REGISTRATIONS,
}

BUSY_RETRY_SECONDS = 0.2


@dataclass(frozen=True, slots=True)
class Bucket:
    """``per_minute`` tokens added a minute, up to ``burst`` held (default: one minute's worth)."""

    per_minute: float
    burst: float = 0.0

    def __post_init__(self) -> None:
        if self.per_minute <= 0:
            raise ValueError("a rate limit must be above 0 a minute")
        if self.burst <= 0:
            object.__setattr__(self, "burst", self.per_minute)

    @property
    def per_second(self) -> float:
        return self.per_minute / 60.0

    @classmethod
    def parse(cls, text: str) -> Bucket:
        """``PER_MINUTE`` or ``PER_MINUTE/BURST`` (e.g. ``600`` or ``600/100``)."""
        rate, _, burst = text.partition("/")
        return cls(float(rate), float(burst) if burst else 0.0)


@dataclass(frozen=True, slots=True)
class RateLimits:
    """The configured bucket of each kind; a kind without one is not limited."""

    buckets: Mapping[LimitKind, Bucket] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Taken:
    allowed: bool
    retry_after: float  # seconds until ``cost`` tokens are there (0 when allowed)


class TokenBuckets(Protocol):
    """A shared store of token buckets (every replica and worker must see the same buckets)."""

    def take(self, key: str, per_second: float, burst: float, cost: float) -> Taken: ...


class RateLimiter:
    def __init__(self, limits: RateLimits, buckets: TokenBuckets) -> None:
        self._limits = limits
        self._buckets = buckets

    def charge(self, method: str, principal: Principal | None, cost: int = 1) -> None:
        """Take ``cost`` tokens from the caller's bucket for ``method``, or raise RATE_LIMITED.

        Organisations only: a learner reading their own record is not harvesting anything."""
        kind = LIMITED_RPCS.get(method)
        if kind is None or principal is None or principal.is_learner or cost <= 0:
            return
        bucket = self._limits.buckets.get(kind)
        if bucket is None:
            return
        taken = self._buckets.take(f"{kind.value}:{principal.ref}", bucket.per_second, bucket.burst, cost)
        if taken.allowed:
            return
        raise DomainError(
            ErrorKind.RESOURCE_EXHAUSTED,
            Reason.RATE_LIMITED,
            f"organisation {principal.ref} is over its limit of {bucket.per_minute:g} {kind.value} "
            f"a minute; retry in {taken.retry_after:.1f} s",
            metadata={"limit_kind": kind.value, "per_minute": f"{bucket.per_minute:g}"},
            retry_after=taken.retry_after,
            quota_violations=[
                QuotaViolation(
                    subject=f"organisation:{principal.ref}",
                    description=f"{kind.value}: {bucket.per_minute:g} a minute, bursts of {bucket.burst:g}",
                )
            ],
        )


class Admission:
    """At most ``limit`` calls in flight in this process (admitted and not yet finished)."""

    def __init__(self, limit: int, on_change: Callable[[int], None] | None = None) -> None:
        if limit < 1:
            raise ValueError("the bound on calls in flight must be at least 1")
        self.limit = limit
        self._in_flight = 0
        self._lock = threading.Lock()
        self._on_change = on_change

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def try_enter(self) -> bool:
        with self._lock:
            if self._in_flight >= self.limit:
                return False
            self._in_flight += 1
            count = self._in_flight
        if self._on_change is not None:
            self._on_change(count)
        return True

    def leave(self) -> None:
        with self._lock:
            self._in_flight -= 1
            count = self._in_flight
        if self._on_change is not None:
            self._on_change(count)


def server_busy(limit: int) -> DomainError:
    return DomainError(
        ErrorKind.RESOURCE_EXHAUSTED,
        Reason.SERVER_BUSY,
        f"the server has {limit} calls in flight, its bound; retry shortly",
        metadata={"max_in_flight": str(limit)},
        retry_after=BUSY_RETRY_SECONDS,
    )
