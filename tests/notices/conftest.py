"""Fixtures for notices: a learner looked at by organisations, and a local SMTP sink."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from lrs.v1 import learner_service_pb2 as self_pb
from tests.records.conftest import api as api_fixture
from tests.records.conftest import bearer, learner_token, selfservice
from tests.service.conftest import Api
from tests.service.factories import register_new

api = api_fixture


@dataclass
class Sink:
    """A real SMTP server on a free loopback port that keeps every message it is sent."""

    port: int
    messages: list[Message] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.arrived:
            self.messages.append(message_from_bytes(envelope.content))
            self.arrived.notify_all()
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 10) -> list[Message]:
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.messages) >= count, timeout), self.messages
            return list(self.messages)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def smtp_sink() -> Iterator[Sink]:
    sink = Sink(free_port())
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    yield sink
    controller.stop()


def body(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


@dataclass(frozen=True)
class Learner:
    uln: str
    md: tuple[tuple[str, str], ...]


def signed_in_learner(on: Api) -> Learner:
    uln = register_new(on).uln
    return Learner(uln, bearer(learner_token(on, uln)))


def notices(on: Api, learner: Learner, **request: Any) -> self_pb.ListNoticesResponse:
    response: self_pb.ListNoticesResponse = selfservice(on).ListNotices(
        self_pb.ListNoticesRequest(**request), metadata=learner.md, timeout=10
    )
    return response
