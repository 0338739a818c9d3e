"""Retrying calls that failed in transit or were turned away for now. Only safe for idempotent
calls (reads, or writes with a request id / MIS identifier), which is every call this client makes.

A call refused ``RESOURCE_EXHAUSTED`` with a ``google.rpc.RetryInfo`` (the server is at its bound
on calls in flight, or the organisation is over a rate limit) is tried again after the delay the
server asked for, plus jitter, at most ``MAX_DELAY_SECONDS`` at a time and ``attempts`` times in
all; without a RetryInfo it is not retried (nothing says waiting will help)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

T = TypeVar("T")
TRANSIENT = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})
MAX_DELAY_SECONDS = 30.0


def retry_delay(error: grpc.RpcError) -> float | None:
    """The delay a RetryInfo in the call's status details asks for, in seconds (None: none sent)."""
    if not isinstance(error, grpc.Call):
        return None
    status = rpc_status.from_call(error)
    if status is None:
        return None
    for detail in status.details:
        info = error_details_pb2.RetryInfo()
        if detail.Is(info.DESCRIPTOR):
            detail.Unpack(info)
            return float(info.retry_delay.ToNanoseconds()) / 1e9
    return None


def call_with_retry(
    call: Callable[[], T],
    attempts: int = 5,
    first_delay: float = 0.2,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    delay = first_delay
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except grpc.RpcError as error:
            if attempt == attempts:
                raise
            code = error.code()
            if code in TRANSIENT:
                wait = delay
            elif code == grpc.StatusCode.RESOURCE_EXHAUSTED and (asked := retry_delay(error)) is not None:
                wait = max(asked, delay)
            else:
                raise
            sleep(min(wait, MAX_DELAY_SECONDS) * random.uniform(1.0, 1.25))
            delay = min(delay * 2, 5.0)
    raise AssertionError("unreachable")
