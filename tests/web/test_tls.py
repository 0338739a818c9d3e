"""lrs-web speaks TLS to lrs-server when given --ca-file, as lrs-school does; without it, a TLS server
is unreachable and the sign-in page says the service is not working."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from lrs.v1 import learner_service_pb2 as self_pb
from lrs.v1 import learner_service_pb2_grpc, registration_service_pb2_grpc
from lrs_server.domain.model import OrgKind
from lrs_server.server import LrsServer, TlsConfig
from lrs_server.storage.organisations import OrganisationStore
from tests.service.conftest import start_server
from tests.service.factories import register_request
from tests.service.test_server_lifecycle import Pki
from tests.web.conftest import start_web
from tests.web.http import sign_in


@pytest.fixture
def tls_server(engine: Engine, tmp_path: Path) -> Iterator[tuple[LrsServer, Pki, str]]:
    pki = Pki(tmp_path)
    token = OrganisationStore(engine).add(OrgKind.SCHOOL, "100001", "TLS school").token
    server = start_server(engine, tls=TlsConfig(pki.cert_path, pki.key_path))
    yield server, pki, token
    server.stop(grace=0)


def _learner_with_code(server: LrsServer, pki: Pki, token: str) -> tuple[str, str]:
    md = (("authorization", f"Bearer {token}"),)
    with pki.channel(server.port) as channel:
        registration = registration_service_pb2_grpc.LearnerRegistrationServiceStub(channel)
        uln = registration.RegisterLearner(register_request(), metadata=md).learner.uln
        learner = learner_service_pb2_grpc.LearnerSelfServiceStub(channel)
        code = learner.IssueActivationCode(self_pb.IssueActivationCodeRequest(uln=uln), metadata=md).code
    return uln, code


def test_sign_in_over_tls(tls_server: tuple[LrsServer, Pki, str]) -> None:
    server, pki, token = tls_server
    uln, code = _learner_with_code(server, pki, token)
    web = start_web(server.port, "--ca-file", str(pki.cert_path))
    try:
        with httpx.Client(base_url=web.url) as client:
            assert sign_in(client, uln, code).headers["location"] == "/record"
            assert uln in client.get("/record").text
    finally:
        web.stop()


def test_without_the_ca_the_page_says_the_service_is_down(tls_server: tuple[LrsServer, Pki, str]) -> None:
    server, pki, token = tls_server
    uln, code = _learner_with_code(server, pki, token)
    web = start_web(server.port)  # plaintext to a TLS server
    try:
        with httpx.Client(base_url=web.url) as client:
            refused = sign_in(client, uln, code)
            assert refused.status_code == 503 and "not working at the moment" in refused.text
    finally:
        web.stop()
