"""The service fixtures (a real server on a real database), plus helpers for records and learners."""

from __future__ import annotations

from typing import Any

from lrs.v1 import admin_service_pb2_grpc, learner_service_pb2, learner_service_pb2_grpc
from lrs.v1 import record_service_pb2 as rec_pb
from lrs.v1 import record_service_pb2_grpc
from tests.service.conftest import Api, api, failure  # noqa: F401  (fixtures re-exported)

Metadata = tuple[tuple[str, str], ...]


def records(api: Api) -> record_service_pb2_grpc.LearnerRecordServiceStub:
    return record_service_pb2_grpc.LearnerRecordServiceStub(api.channel)


def selfservice(api: Api) -> learner_service_pb2_grpc.LearnerSelfServiceStub:
    return learner_service_pb2_grpc.LearnerSelfServiceStub(api.channel)


def admin(api: Api) -> admin_service_pb2_grpc.AdminServiceStub:
    return admin_service_pb2_grpc.AdminServiceStub(api.channel)


def bearer(token: str) -> Metadata:
    return (("authorization", f"Bearer {token}"),)


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
    names = {"given_name": overrides.pop("given_name", "Amara"), "family_name": overrides.pop("family_name", "Okafor")}
    achievement.update(overrides)
    return rec_pb.SubmitAchievementsRequest(
        row_number=row, uln=uln, achievement=rec_pb.Achievement(**achievement), **names
    )


def submit(api: Api, md: Metadata, *rows: rec_pb.SubmitAchievementsRequest) -> list[rec_pb.SubmitAchievementsResponse]:
    return list(records(api).SubmitAchievements(iter(rows), metadata=md, timeout=30))


def learner_token(api: Api, uln: str, school: Metadata | None = None, born: str = "2011-03-14") -> str:
    code = selfservice(api).IssueActivationCode(
        learner_service_pb2.IssueActivationCodeRequest(uln=uln), metadata=school or api.auth()
    ).code
    request = learner_service_pb2.ActivateLearnerRequest(uln=uln, date_of_birth=born, code=code)
    return str(selfservice(api).ActivateLearner(request, timeout=10).token)
