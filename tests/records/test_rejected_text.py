"""Control characters in merge reasons, review decisions and achievements, which the fuzzer found
answered INTERNAL on PostgreSQL (text cannot hold NUL): refused field by field (TEXT_INVALID) over a
real server; a results stream rejects the bad rows and applies the good ones."""

from __future__ import annotations

import grpc
import pytest
from sqlalchemy import text

from lrs.v1 import admin_service_pb2 as admin_pb
from lrs.v1 import record_service_pb2 as rec_pb
from lrs.v1 import registration_service_pb2 as reg_pb
from lrs_server.domain.model import OrgKind
from tests.records.conftest import admin, records, result_row, submit
from tests.service.conftest import Api, Failure, failure
from tests.service.factories import register_new, register_request


def refused(call) -> Failure:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as caught:
        call()
    return failure(caught.value)


def test_a_review_decision_with_a_control_character_is_refused_and_the_item_stays_open(api: Api) -> None:
    register_new(api)
    # One letter off the family name, another postcode: the matcher asks (see test_audit_merge_review).
    asked = api.registration.RegisterLearner(
        register_request(mis_identifier="Q1", family_name="Okafur", postcode="M1 1AE"), metadata=api.auth()
    )
    assert asked.outcome == reg_pb.REGISTRATION_OUTCOME_POSSIBLE_MATCH
    as_admin = api.auth(OrgKind.ADMIN)
    (item,) = admin(api).ListReviewItems(admin_pb.ListReviewItemsRequest(), metadata=as_admin).items
    got = refused(
        lambda: admin(api).ResolveReviewItem(
            admin_pb.ResolveReviewItemRequest(id=item.id, issue_new_reason="diff\x00erent"), metadata=as_admin
        )
    )
    assert (got.code, got.fields) == (grpc.StatusCode.INVALID_ARGUMENT, {"issue_new_reason": "TEXT_INVALID"})
    still = admin(api).ListReviewItems(admin_pb.ListReviewItemsRequest(), metadata=as_admin).items
    assert [i.id for i in still] == [item.id]


def _pair(api: Api) -> tuple[str, str]:
    master = register_new(api).uln
    linked = register_new(
        api, given_name="Amarah", family_name="Okafor", date_of_birth="2010-07-15", postcode="M1 1AE"
    ).uln
    return master, linked


def test_merge_and_unmerge_reasons_with_control_characters_are_refused(api: Api) -> None:
    master, linked = _pair(api)
    as_admin = api.auth(OrgKind.ADMIN)
    for reason in ("dup\x00", "dup\x1b[0m", "\x7f"):
        got = refused(
            lambda r=reason: admin(api).MergeLearners(
                admin_pb.MergeLearnersRequest(master_uln=master, linked_uln=linked, reason=r),
                metadata=as_admin,
            )
        )
        assert (got.code, got.reason, got.fields) == (
            grpc.StatusCode.INVALID_ARGUMENT,
            "TEXT_INVALID",
            {"reason": "TEXT_INVALID"},
        )
    verified = api.registration.VerifyLearner(
        reg_pb.VerifyLearnerRequest(uln=linked, given_name="Amarah", family_name="Okafor"),
        metadata=api.auth(),
    )
    assert verified.outcome != reg_pb.VERIFICATION_OUTCOME_LINKED  # not merged
    # White space (line breaks, tabs) is free text's white space: collapsed, as in address lines.
    admin(api).MergeLearners(
        admin_pb.MergeLearnersRequest(master_uln=master, linked_uln=linked, reason=" same\r\nperson\t"),
        metadata=as_admin,
    )
    got = refused(
        lambda: admin(api).UnmergeLearners(
            admin_pb.UnmergeLearnersRequest(linked_uln=linked, reason="undo\x00"), metadata=as_admin
        )
    )
    assert (got.code, got.fields) == (grpc.StatusCode.INVALID_ARGUMENT, {"reason": "TEXT_INVALID"})
    with api.engine.connect() as c:
        stored = c.execute(text("SELECT reason, undone_at FROM learner_merge")).one()
    assert (stored.reason, stored.undone_at) == ("same person", None)


ACHIEVEMENT_TEXT = ("qualification_ref", "subject", "component", "level", "grade", "awarding_organisation")


def test_a_result_row_with_a_control_character_is_rejected_and_the_stream_goes_on(api: Api) -> None:
    uln = register_new(api).uln
    values = ["601/4502\x00", "Ma\x00ths", "Paper\x011", "2\x1b", "7\x7f", "AQA\x9f"]
    bad = [
        result_row(uln, row, **{"subject": f"Subject {row}", name: value})
        for row, (name, value) in enumerate(zip(ACHIEVEMENT_TEXT, values, strict=True), start=2)
    ]
    rows = [result_row(uln, 1, subject="Physics"), *bad, result_row(uln, 8, subject="Chemistry")]
    answers = submit(api, api.auth(OrgKind.AWARDING_BODY), *rows)
    assert [a.row_number for a in answers] == list(range(1, 9))
    assert answers[0].outcome == answers[-1].outcome == rec_pb.SUBMIT_OUTCOME_CREATED
    for answer, name in zip(answers[1:-1], ACHIEVEMENT_TEXT, strict=True):
        assert (answer.rejection_reason, list(answer.rejected_fields)) == (
            "TEXT_INVALID",
            [f"achievement.{name}"],
        ), name
    held = records(api).GetLearnerRecord(
        rec_pb.GetLearnerRecordRequest(uln=uln, given_name="Amara", family_name="Okafor"), metadata=api.auth()
    )
    assert sorted(a.subject for a in held.achievements) == ["Chemistry", "Physics"]
