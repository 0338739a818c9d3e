"""Channels and stubs: server address, TLS and the bearer token in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import grpc

from lrs.v1 import (
    admin_service_pb2_grpc,
    batch_service_pb2_grpc,
    learner_service_pb2_grpc,
    record_service_pb2_grpc,
    registration_service_pb2_grpc,
)

DEFAULT_SERVER = "127.0.0.1:50051"


@dataclass(frozen=True, slots=True)
class ConnectionSettings:
    server: str
    token: str
    ca_file: Path | None = None
    tls: bool = False

    @classmethod
    def from_env(
        cls, server: str | None, token: str | None, ca_file: str | None = None, tls: bool = False
    ) -> ConnectionSettings:
        return cls(
            server=server or os.environ.get("LRS_SERVER", DEFAULT_SERVER),
            token=token or os.environ.get("LRS_TOKEN", ""),
            ca_file=Path(ca_file) if ca_file else None,
            tls=tls or ca_file is not None,
        )


class Client:
    """Stubs on one channel; every call carries the bearer token."""

    def __init__(self, settings: ConnectionSettings) -> None:
        self.settings = settings
        if settings.tls:
            roots = settings.ca_file.read_bytes() if settings.ca_file else None
            self.channel = grpc.secure_channel(settings.server, grpc.ssl_channel_credentials(roots))
        else:
            self.channel = grpc.insecure_channel(settings.server)
        self.registration = registration_service_pb2_grpc.LearnerRegistrationServiceStub(self.channel)
        self.batch = batch_service_pb2_grpc.BatchRegistrationServiceStub(self.channel)
        self.records = record_service_pb2_grpc.LearnerRecordServiceStub(self.channel)
        self.learner = learner_service_pb2_grpc.LearnerSelfServiceStub(self.channel)
        self.admin = admin_service_pb2_grpc.AdminServiceStub(self.channel)

    @property
    def metadata(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.settings.token}"),) if self.settings.token else ()

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
