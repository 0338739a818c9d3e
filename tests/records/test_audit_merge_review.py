"""Access-log tamper evidence, merges (with the sharing rule) and the review queue, through a real server."""

from __future__ import annotations

import grpc
import pytest
from sqlalchemy import text

from lrs.v1 import admin_service_pb2 as admin_pb
from lrs.v1 import learner_service_pb2 as self_pb
from lrs.v1 import record_service_pb2 as rec_pb
from lrs.v1 import registration_service_pb2 as reg_pb
from lrs_server import app
from lrs_server.auth import POLICY, matrix_markdown
from lrs_server.domain import uln as uln_rules
from lrs_server.domain.model import OrgKind
from lrs_server.storage import audit
from tests.records.conftest import admin, bearer, learner_token, records, result_row, selfservice, submit
from tests.service.conftest import Api, failure
from tests.service.factories import register_new, register_request


def _reads(api: Api) -> str:
    uln = register_new(api).uln
    for _ in range(audit.CHAINS + 1):  # more entries than chains: some chain holds two
        api.registration.VerifyLearner(
            reg_pb.VerifyLearnerRequest(uln=uln, given_name="Amara", family_name="Okafor"),
            metadata=api.auth(),
        )
    return uln


@pytest.mark.parametrize("tamper", ["update", "delete_middle", "delete_last"])
def test_altering_or_deleting_a_log_row_is_detected(api: Api, db_url: str, tamper: str) -> None:
    _reads(api)
    assert audit.verify(api.engine).ok
    assert app.main(["audit", "verify", "--db", db_url]) == 0
    with api.engine.begin() as c:
        # A chain holding two entries or more, wherever the appends put them.
        chain = (
            c.execute(
                text("SELECT chain FROM access_log GROUP BY chain HAVING COUNT(*) > 1 ORDER BY chain DESC")
            )
            .scalars()
            .first()
        )
        where = {"chain": chain}
        if tamper == "update":
            c.execute(text("UPDATE access_log SET rpc = 'x' WHERE chain = :chain AND seq = 2"), where)
        elif tamper == "delete_middle":
            c.execute(text("DELETE FROM access_log WHERE chain = :chain AND seq = 1"), where)
        else:  # the newest entry of all: only its chain's head knows it was there
            c.execute(text("DELETE FROM access_log WHERE id = (SELECT MAX(id) FROM access_log)"))
    report = audit.verify(api.engine)
    assert not report.ok and report.first_bad_seq is not None
    assert app.main(["audit", "verify", "--db", db_url]) == 1


def test_merge_substitutes_master_applies_strictest_sharing_and_unmerges(api: Api) -> None:
    master = register_new(api).uln
    linked = register_new(
        api, given_name="Amarah", family_name="Okafor", date_of_birth="2010-07-15", postcode="M1 1AE"
    ).uln
    assert linked != master
    submit(api, api.auth(OrgKind.AWARDING_BODY), result_row(linked, given_name="Amarah"))
    selfservice(api).SetSharingPreferences(
        self_pb.SetSharingPreferencesRequest(withheld_from=[self_pb.ORGANISATION_KIND_POST16]),
        metadata=bearer(learner_token(api, linked, born="2010-07-15")),
    )
    merged = admin(api).MergeLearners(
        admin_pb.MergeLearnersRequest(master_uln=master, linked_uln=linked, reason="duplicate"),
        metadata=api.auth(OrgKind.ADMIN),
    )
    assert merged.master.uln == master
    found = api.registration.FindLearnerByUln(
        reg_pb.FindLearnerByUlnRequest(uln=linked, given_name="Amara", family_name="Okafor"),
        metadata=api.auth(OrgKind.POST16),
    )
    assert found.master_substituted and found.learner.uln == master
    verified = api.registration.VerifyLearner(
        reg_pb.VerifyLearnerRequest(uln=linked, given_name="Amara", family_name="Okafor"), metadata=api.auth()
    )
    assert verified.outcome == reg_pb.VERIFICATION_OUTCOME_LINKED
    # The linked record's opt-out now covers the master's record too, until the learner chooses again.
    college = records(api).GetLearnerRecord(
        rec_pb.GetLearnerRecordRequest(uln=master, given_name="Amara", family_name="Okafor"),
        metadata=api.auth(OrgKind.POST16),
    )
    assert college.achievements_withheld and not college.achievements
    school = records(api).GetLearnerRecord(
        rec_pb.GetLearnerRecordRequest(uln=master, given_name="Amara", family_name="Okafor"),
        metadata=api.auth(),
    )
    assert [a.uln for a in school.achievements] == [linked]
    token = learner_token(api, master)
    selfservice(api).SetSharingPreferences(self_pb.SetSharingPreferencesRequest(), metadata=bearer(token))
    college = records(api).GetLearnerRecord(
        rec_pb.GetLearnerRecordRequest(uln=master, given_name="Amara", family_name="Okafor"),
        metadata=api.auth(OrgKind.POST16),
    )
    assert not college.achievements_withheld and college.achievements
    undone = admin(api).UnmergeLearners(
        admin_pb.UnmergeLearnersRequest(linked_uln=linked, reason="not the same person"),
        metadata=api.auth(OrgKind.ADMIN),
    )
    assert undone.master_uln == master
    again = api.registration.FindLearnerByUln(
        reg_pb.FindLearnerByUlnRequest(uln=linked, given_name="Amarah", family_name="Okafor"),
        metadata=api.auth(),
    )
    assert not again.master_substituted and again.learner.uln == linked
    with pytest.raises(grpc.RpcError) as caught:
        admin(api).UnmergeLearners(
            admin_pb.UnmergeLearnersRequest(linked_uln=linked, reason="again"),
            metadata=api.auth(OrgKind.ADMIN),
        )
    assert (failure(caught.value).code, failure(caught.value).reason) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "NOT_MERGED",
    )


def test_possible_matches_are_queued_and_resolved(api: Api) -> None:
    first = register_new(api).uln
    # Same given name, date of birth and gender, the family name one letter off and another postcode:
    # the default matcher can neither accept nor rule out the pair (match weight about 2, between its
    # thresholds of -4 and 6), so it asks, and the registration is queued for an administrator.
    near = {"family_name": "Okafur", "postcode": "M1 1AE"}
    schools = {"Q1": api.add_school("400004"), "Q2": api.add_school("400005")}
    for mis, md in schools.items():
        asked = api.registration.RegisterLearner(register_request(mis_identifier=mis, **near), metadata=md)
        assert asked.outcome == reg_pb.REGISTRATION_OUTCOME_POSSIBLE_MATCH, (
            "the default matcher decides this pair outright now: pick a pair it asks about (matching/)"
        )
        assert first in [c.learner.uln for c in asked.candidates]
    as_admin = api.auth(OrgKind.ADMIN)
    page = admin(api).ListReviewItems(admin_pb.ListReviewItemsRequest(page_size=10), metadata=as_admin)
    assert sorted(i.mis_identifier for i in page.items) == ["Q1", "Q2"]
    for queued in page.items:
        assert [c.uln for c in queued.candidates] == [first]
        assert (queued.identity.family_name, queued.identity.postcode) == ("Okafur", "M1 1AE")
        assert queued.submitted_by_ref in ("400004", "400005") and queued.created_at
    items = {i.mis_identifier: i.id for i in page.items}

    # Q1: the administrator decides it is the same learner.
    linked = admin(api).ResolveReviewItem(
        admin_pb.ResolveReviewItemRequest(id=items["Q1"], link_uln=first), metadata=as_admin
    )
    assert (linked.uln, linked.issued) == (first, False)
    # The link took effect: the school now holds an MIS link for the learner (so may issue a code).
    assert (
        selfservice(api)
        .IssueActivationCode(self_pb.IssueActivationCodeRequest(uln=first), metadata=schools["Q1"])
        .code
    )
    left = admin(api).ListReviewItems(admin_pb.ListReviewItemsRequest(), metadata=as_admin).items
    assert [i.mis_identifier for i in left] == ["Q2"]

    # Q2: a different learner; linking to a ULN that is not a candidate is refused first.
    with pytest.raises(grpc.RpcError) as not_candidate:
        admin(api).ResolveReviewItem(
            admin_pb.ResolveReviewItemRequest(id=items["Q2"], link_uln="1000000043"), metadata=as_admin
        )
    assert failure(not_candidate.value).fields == {"link_uln": "CONFIRMATION_INVALID"}
    issued = admin(api).ResolveReviewItem(
        admin_pb.ResolveReviewItemRequest(id=items["Q2"], issue_new_reason="different person"),
        metadata=as_admin,
    )
    assert issued.issued and issued.uln != first and uln_rules.is_valid(issued.uln)
    found = api.registration.FindLearnerByUln(
        reg_pb.FindLearnerByUlnRequest(uln=issued.uln, given_name="Amara", family_name="Okafur"),
        metadata=schools["Q2"],
    )
    assert found.learner.identity.postcode == "M1 1AE" and not found.master_substituted

    # Decided items leave the queue and cannot be decided again.
    with pytest.raises(grpc.RpcError) as caught:
        admin(api).ResolveReviewItem(
            admin_pb.ResolveReviewItemRequest(id=items["Q2"], link_uln=first), metadata=as_admin
        )
    assert failure(caught.value).reason == "REVIEW_ITEM_RESOLVED"
    assert not admin(api).ListReviewItems(admin_pb.ListReviewItemsRequest(), metadata=as_admin).items


def test_the_authorisation_document_is_generated_from_policy() -> None:
    with open("docs/AUTHORISATION.md", encoding="utf-8") as doc:
        assert matrix_markdown() in doc.read()
    assert all(method.startswith("/lrs.v1.") for method in POLICY)
