"""What the interceptor tells whoever watches the server (metrics), without depending on how it is
exported: ``lrs_server/metrics.py`` implements it with prometheus-client."""

from __future__ import annotations

from typing import Any, Protocol


class Observer(Protocol):
    def call_finished(self, method: str, code: str, seconds: float) -> None:
        """A call ended with status ``code`` (a grpc.StatusCode name) after ``seconds``."""

    def responded(self, method: str, response: Any) -> None:
        """A response message was sent (outcomes are read from it)."""

    def in_flight(self, count: int) -> None:
        """This process now has ``count`` calls admitted (running or waiting for a thread)."""
