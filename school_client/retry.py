"""Retrying calls that failed in transit. Only safe for idempotent calls (reads, or writes with a
request id / MIS identifier), which is every call this client makes."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import grpc

T = TypeVar("T")
TRANSIENT = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})


def call_with_retry(call: Callable[[], T], attempts: int = 5, first_delay: float = 0.2) -> T:
    delay = first_delay
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except grpc.RpcError as error:
            if attempt == attempts or error.code() not in TRANSIENT:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
    raise AssertionError("unreachable")
