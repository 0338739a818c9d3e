"""The service fixtures (a real server on a real database), plus helpers for records and learners."""

from __future__ import annotations

from typing import Any

from lrs.v1 import (
    admin_service_pb2_grpc,
    learner_service_pb2,
    learner_service_pb2_grpc,
    record_service_pb2_grpc,
)
from lrs.v1 import record_service_pb2 as rec_pb
from tests.service.conftest import Api, failure  # noqa: F401
from tests.service.conftest import api as api_fixture

api = api_fixture  # the fixture, re-exported under its own name

Metadata = tuple[tuple[str, str], ...]


def records(on: Api) -> record_service_pb2_grpc.LearnerRecordServiceStub:
    return record_service_pb2_grpc.LearnerRecordServiceStub(on.channel)


def selfservice(on: Api) -> learner_service_pb2_grpc.LearnerSelfServiceStub:
    return learner_service_pb2_grpc.LearnerSelfServiceStub(on.channel)


def admin(on: Api) -> admin_service_pb2_grpc.AdminServiceStub:
    return admin_service_pb2_grpc.AdminServiceStub(on.channel)


def bearer(token: str) -> Metadata:
    return (("authorization", f"Bearer {token}"),)


def record(on: Api, md: Metadata, uln: str, **names: str) -> rec_pb.GetLearnerRecordResponse:
    """GetLearnerRecord as ``md`` asks it, quoting the names (default: the factories' Amara Okafor)."""
    request = rec_pb.GetLearnerRecordRequest(
        uln=uln, given_name=names.get("given_name", "Amara"), family_name=names.get("family_name", "Okafor")
    )
    response: rec_pb.GetLearnerRecordResponse = records(on).GetLearnerRecord(request, metadata=md, timeout=10)
    return response


def result_row(uln: str, row: int = 1, **overrides: Any) -> rec_pb.SubmitAchievementsRequest:
    achievement: dict[str, Any] = {
        "kind": rec_pb.ACHIEVEMENT_KIND_GCSE,
        "qualification_ref": "601/4502/5",
        "subject": "Mathematics",
        "level": "2",
        "grade": "7",
        "award_date": "2026-08-20",
        "status": rec_pb.ACHIEVEMENT_STATUS_FINAL,
    }
    names = {
        "given_name": overrides.pop("given_name", "Amara"),
        "family_name": overrides.pop("family_name", "Okafor"),
    }
    achievement.update(overrides)
    return rec_pb.SubmitAchievementsRequest(
        row_number=row, uln=uln, achievement=rec_pb.Achievement(**achievement), **names
    )


def submit(
    on: Api, md: Metadata, *rows: rec_pb.SubmitAchievementsRequest
) -> list[rec_pb.SubmitAchievementsResponse]:
    return list(records(on).SubmitAchievements(iter(rows), metadata=md, timeout=30))


def learner_token(on: Api, uln: str, school: Metadata | None = None, born: str = "2011-03-14") -> str:
    code = (
        selfservice(on)
        .IssueActivationCode(
            learner_service_pb2.IssueActivationCodeRequest(uln=uln), metadata=school or on.auth()
        )
        .code
    )
    request = learner_service_pb2.ActivateLearnerRequest(uln=uln, date_of_birth=born, code=code)
    return str(selfservice(on).ActivateLearner(request, timeout=10).token)
