"""The interceptor fails closed: a handler of a kind it does not wrap is refused, never served
without authentication."""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from lrs_server.auth import Authoriser
from lrs_server.interceptor import ServiceInterceptor


class _Details(grpc.HandlerCallDetails):  # type: ignore[misc]
    def __init__(self, method: str) -> None:
        self.method = method
        self.invocation_metadata = ()


def _echo(request: Any, context: Any) -> Any:
    yield request  # pragma: no cover - never called


@pytest.mark.parametrize(
    "one_way",
    [grpc.unary_stream_rpc_method_handler(_echo), grpc.stream_unary_rpc_method_handler(_echo)],
)
def test_a_one_way_streaming_handler_is_refused_not_served_unauthenticated(one_way: Any) -> None:
    interceptor = ServiceInterceptor(Authoriser(lambda token: None))
    method = "/lrs.v1.LearnerRegistrationService/RegisterLearner"
    assert interceptor.intercept_service(lambda details: one_way, _Details(method)) is None
