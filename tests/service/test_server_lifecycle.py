"""Server lifecycle: health, reflection, listen-address safety, TLS, mutual TLS, graceful stop, signals."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from google.protobuf import descriptor_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from sqlalchemy import Engine

from lrs.v1 import batch_service_pb2 as batch_pb
from lrs.v1 import batch_service_pb2_grpc
from lrs.v1 import registration_service_pb2 as reg_pb
from lrs_server.server import InsecureListenRefused, LrsServer, ServerConfig, TlsConfig
from tests.service.conftest import Api, failure, start_server
from tests.service.factories import identity

SERVING = health_pb2.HealthCheckResponse.SERVING


def health_status(channel: grpc.Channel, service: str = "") -> int:
    stub = health_pb2_grpc.HealthStub(channel)
    return int(stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5).status)


@pytest.mark.parametrize(
    "service", ["", "lrs.v1.LearnerRegistrationService", "lrs.v1.BatchRegistrationService"]
)
def test_health_is_serving(api: Api, service: str) -> None:
    assert health_status(api.channel, service) == SERVING


def test_health_of_an_unknown_service_is_not_found(api: Api) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        health_status(api.channel, "no.such.Service")
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


def _reflect(
    channel: grpc.Channel, request: reflection_pb2.ServerReflectionRequest
) -> reflection_pb2.ServerReflectionResponse:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    (response,) = list(stub.ServerReflectionInfo(iter([request]), timeout=5))
    return response


def test_reflection_lists_services_and_methods(api: Api) -> None:
    listed = _reflect(api.channel, reflection_pb2.ServerReflectionRequest(list_services=""))
    names = {s.name for s in listed.list_services_response.service}
    assert {
        "lrs.v1.LearnerRegistrationService",
        "lrs.v1.BatchRegistrationService",
        "grpc.health.v1.Health",
    } <= names
    methods: dict[str, set[str]] = {}
    for service in ("lrs.v1.LearnerRegistrationService", "lrs.v1.BatchRegistrationService"):
        found = _reflect(api.channel, reflection_pb2.ServerReflectionRequest(file_containing_symbol=service))
        for raw in found.file_descriptor_response.file_descriptor_proto:
            proto = descriptor_pb2.FileDescriptorProto.FromString(raw)
            for s in proto.service:
                if f"{proto.package}.{s.name}" == service:
                    methods[service] = {m.name for m in s.method}
    assert methods["lrs.v1.LearnerRegistrationService"] == {
        "RegisterLearner",
        "FindLearnerByUln",
        "FindLearnerByDemographics",
        "VerifyLearner",
        "UpdateLearner",
    }
    assert methods["lrs.v1.BatchRegistrationService"] == {"BatchRegisterLearners"}


def test_empty_register_request_is_invalid_argument(api: Api) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        api.registration.RegisterLearner(reg_pb.RegisterLearnerRequest(), metadata=api.auth())
    assert failure(caught.value).code == grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.parametrize("listen", ["0.0.0.0:0", "[::]:0", "192.0.2.1:0", "example.org:0"])
def test_plaintext_on_a_non_loopback_address_is_refused(engine: Engine, listen: str) -> None:
    with pytest.raises(InsecureListenRefused):
        LrsServer(engine, ServerConfig(listen=listen))


def test_plaintext_on_all_interfaces_is_allowed_when_insecure_is_explicit(engine: Engine) -> None:
    server = LrsServer(engine, ServerConfig(listen="0.0.0.0:0", allow_insecure=True))
    server.start()
    try:
        assert server.port > 0
        with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            assert health_status(channel) == SERVING
    finally:
        server.stop(grace=0)


@pytest.mark.parametrize("listen", ["127.0.0.1:0", "localhost:0", "[::1]:0"])
def test_loopback_plaintext_is_allowed(engine: Engine, listen: str) -> None:
    try:
        server = LrsServer(engine, ServerConfig(listen=listen))
    except OSError:
        pytest.skip(f"cannot bind {listen} here")
    server.stop(grace=0)


# -- TLS -----------------------------------------------------------------------------------------


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _cert(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[str, ec.EllipticCurvePrivateKey] | None = None,
    ca: bool = False,
    server: bool = False,
) -> x509.Certificate:
    issuer_name, issuer_key = issuer or (subject, key)
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(obj: x509.Certificate | ec.EllipticCurvePrivateKey) -> bytes:
    if isinstance(obj, x509.Certificate):
        return obj.public_bytes(serialization.Encoding.PEM)
    return obj.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


class Pki:
    def __init__(self, directory: Path) -> None:
        self.server_key = _key()
        self.server_cert = _cert("localhost", self.server_key, server=True)
        self.ca_key = _key()
        self.ca_cert = _cert("Test client CA", self.ca_key, ca=True)
        self.client_key = _key()
        self.client_cert = _cert("school 100001", self.client_key, issuer=("Test client CA", self.ca_key))
        self.cert_path, self.key_path, self.ca_path = (
            directory / "s.pem",
            directory / "s.key",
            directory / "ca.pem",
        )
        self.cert_path.write_bytes(_pem(self.server_cert))
        self.key_path.write_bytes(_pem(self.server_key))
        self.ca_path.write_bytes(_pem(self.ca_cert))

    def channel(self, port: int, with_client_cert: bool = False) -> grpc.Channel:
        credentials = grpc.ssl_channel_credentials(
            _pem(self.server_cert),
            _pem(self.client_key) if with_client_cert else None,
            _pem(self.client_cert) if with_client_cert else None,
        )
        return grpc.secure_channel(f"localhost:{port}", credentials)


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return Pki(tmp_path)


def test_tls_secure_channel_works_and_plaintext_fails(engine: Engine, pki: Pki) -> None:
    server = start_server(engine, tls=TlsConfig(pki.cert_path, pki.key_path))
    try:
        with pki.channel(server.port) as channel:
            assert health_status(channel) == SERVING
        with grpc.insecure_channel(f"127.0.0.1:{server.port}") as plain:
            with pytest.raises(grpc.RpcError) as caught:
                health_status(plain)
            assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        server.stop(grace=0)


def test_tls_on_all_interfaces_needs_no_insecure_flag(engine: Engine, pki: Pki) -> None:
    server = LrsServer(engine, ServerConfig(listen="0.0.0.0:0", tls=TlsConfig(pki.cert_path, pki.key_path)))
    server.start()
    try:
        with pki.channel(server.port) as channel:
            assert health_status(channel) == SERVING
    finally:
        server.stop(grace=0)


def test_client_certificate_mode_rejects_a_client_without_a_certificate(engine: Engine, pki: Pki) -> None:
    server = start_server(engine, tls=TlsConfig(pki.cert_path, pki.key_path, pki.ca_path))
    try:
        with pki.channel(server.port, with_client_cert=True) as channel:
            assert health_status(channel) == SERVING
        with pki.channel(server.port) as channel:
            with pytest.raises(grpc.RpcError) as caught:
                health_status(channel)
            assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        server.stop(grace=0)


# -- stopping ------------------------------------------------------------------------------------


def test_graceful_stop_lets_an_in_flight_stream_finish(api: Api) -> None:
    started, release = threading.Event(), threading.Event()

    def rows() -> Iterator[batch_pb.BatchRegisterLearnersRequest]:
        yield batch_pb.BatchRegisterLearnersRequest(
            rows=[batch_pb.BatchRow(row_number=1, identity=identity(), mis_identifier="p1")]
        )
        started.set()
        release.wait(timeout=10)
        yield batch_pb.BatchRegisterLearnersRequest(
            rows=[
                batch_pb.BatchRow(
                    row_number=2,
                    identity=identity(given_name="Bilal", family_name="Shah"),
                    mis_identifier="p2",
                )
            ]
        )

    stub = batch_service_pb2_grpc.BatchRegistrationServiceStub(api.channel)
    answers = stub.BatchRegisterLearners(rows(), metadata=api.auth(), timeout=30)
    collected: list[batch_pb.BatchRegisterLearnersResponse] = []
    reader = threading.Thread(target=lambda: collected.extend(answers))
    reader.start()
    assert started.wait(timeout=10)
    time.sleep(0.2)  # the first row is on the server
    stopper = threading.Thread(target=lambda: api.server.stop(grace=10))
    stopper.start()
    time.sleep(0.5)
    assert stopper.is_alive(), "stop() returned while a call was still in flight"
    release.set()
    reader.join(timeout=20)
    stopper.join(timeout=20)
    assert not reader.is_alive() and not stopper.is_alive()
    results = [r for a in collected for r in a.results]
    assert [r.row_number for r in results] == [1, 2]
    assert all(r.uln for r in results)
    # New calls are refused once stopped.
    with grpc.insecure_channel(f"127.0.0.1:{api.server.port}") as channel, pytest.raises(grpc.RpcError):
        health_status(channel)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_subprocess_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    port = _free_port()
    command = [
        str(Path(sys.executable).parent / "lrs-server"),
        "serve",
        "--db",
        f"sqlite:///{tmp_path / 'lrs.sqlite3'}",
        "--listen",
        f"127.0.0.1:{port}",
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy()
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "listening" in line, line + (
            process.stderr.read() if process.poll() is not None and process.stderr else ""
        )
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            grpc.channel_ready_future(channel).result(timeout=10)
            assert health_status(channel) == SERVING
        process.send_signal(signal.SIGTERM)
        out, _err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0
    assert "stopped" in out


def test_the_serving_process_tunes_its_garbage_collector() -> None:
    """Process-wide, so checked in a process of its own (as ``lrs-server serve`` runs it)."""
    code = (
        "import gc; from lrs_server.server import GC_THRESHOLDS, tune_garbage_collector; "
        "assert gc.get_threshold() != GC_THRESHOLDS; tune_garbage_collector(); "
        "assert gc.get_threshold() == GC_THRESHOLDS, gc.get_threshold(); "
        "assert gc.get_freeze_count() > 1000, gc.get_freeze_count()"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
