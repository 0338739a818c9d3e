"""A running server with one organisation of each kind, and a client channel to it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from sqlalchemy import Engine

from lrs.v1 import batch_service_pb2_grpc, registration_service_pb2_grpc
from lrs_server.domain.clock import Clock
from lrs_server.domain.model import OrgKind
from lrs_server.server import LrsServer, ServerConfig
from lrs_server.storage.organisations import OrganisationStore
from tests.conftest import TODAY

ORG_REFS = {
    OrgKind.SCHOOL: "100001",
    OrgKind.POST16: "10000002",
    OrgKind.AWARDING_BODY: "10000003",
    OrgKind.ADMIN: "ADMIN001",
}


@dataclass
class Api:
    """Stubs on a channel to the test server, with a token per kind of organisation."""

    channel: grpc.Channel
    tokens: dict[OrgKind, str]
    server: LrsServer
    engine: Engine

    @property
    def registration(self) -> registration_service_pb2_grpc.LearnerRegistrationServiceStub:
        return registration_service_pb2_grpc.LearnerRegistrationServiceStub(self.channel)

    @property
    def batch(self) -> batch_service_pb2_grpc.BatchRegistrationServiceStub:
        return batch_service_pb2_grpc.BatchRegistrationServiceStub(self.channel)

    def auth(self, kind: OrgKind = OrgKind.SCHOOL) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.tokens[kind]}"),)

    def add_school(self, ref: str) -> tuple[tuple[str, str], ...]:
        issued = OrganisationStore(self.engine).add(OrgKind.SCHOOL, ref, f"School {ref}")
        return (("authorization", f"Bearer {issued.token}"),)


def start_server(engine: Engine, **config: Any) -> LrsServer:
    server = LrsServer(
        engine,
        ServerConfig(listen="127.0.0.1:0", token_cache_seconds=0, **config),
        clock=Clock(fixed=TODAY),
    )
    server.start()
    return server


@pytest.fixture
def api(engine: Engine) -> Iterator[Api]:
    orgs = OrganisationStore(engine)
    tokens = {kind: orgs.add(kind, ref, f"Test {kind.value}").token for kind, ref in ORG_REFS.items()}
    server = start_server(engine)
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    yield Api(channel, tokens, server, engine)
    channel.close()
    server.stop(grace=1)


@dataclass(frozen=True)
class Failure:
    code: grpc.StatusCode
    reason: str
    fields: dict[str, str]
    message: str


def failure(error: grpc.RpcError) -> Failure:
    """The status code, ErrorInfo reason and BadRequest field violations (field -> reason)."""
    assert isinstance(error, grpc.Call)
    status = rpc_status.from_call(error)
    reason = ""
    fields: dict[str, str] = {}
    if status is not None:
        for detail in status.details:
            info, bad = error_details_pb2.ErrorInfo(), error_details_pb2.BadRequest()
            if detail.Unpack(info):
                reason = info.reason
            elif detail.Unpack(bad):
                fields.update({v.field: v.reason for v in bad.field_violations})
    return Failure(error.code(), reason, fields, error.details() or "")
