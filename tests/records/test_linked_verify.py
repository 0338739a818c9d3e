"""VerifyLearner with a linked ULN: after an administrator's merge it answers LINKED with the master's
ULN, checking the quoted details against the master; after an unmerge the ULN stands alone again."""

from __future__ import annotations

from typing import Any

from lrs.v1 import admin_service_pb2 as admin_pb
from lrs.v1 import learner_pb2
from lrs.v1 import learner_service_pb2 as self_pb
from lrs.v1 import registration_service_pb2 as reg_pb
from lrs_server.domain.model import OrgKind
from tests.records.conftest import admin, bearer, learner_token, selfservice
from tests.service.conftest import Api
from tests.service.factories import register_new

LINKED = reg_pb.VERIFICATION_OUTCOME_LINKED


def verify(api: Api, uln: str, kind: OrgKind = OrgKind.POST16, **quoted: Any) -> reg_pb.VerifyLearnerResponse:
    fields: dict[str, Any] = {"given_name": "Amara", "family_name": "Okafor", **quoted}
    response: reg_pb.VerifyLearnerResponse = api.registration.VerifyLearner(
        reg_pb.VerifyLearnerRequest(uln=uln, **fields), metadata=api.auth(kind), timeout=10
    )
    return response


def merged_pair(api: Api) -> tuple[str, str]:
    """Two records of one learner (the second registered with a misspelt name and old address), merged."""
    master = register_new(api).uln
    linked = register_new(
        api, given_name="Amarah", family_name="Okafor", date_of_birth="2011-03-14", postcode="M1 1AE"
    ).uln
    assert linked != master
    merged = admin(api).MergeLearners(
        admin_pb.MergeLearnersRequest(master_uln=master, linked_uln=linked, reason="duplicate"),
        metadata=api.auth(OrgKind.ADMIN),
    )
    assert (merged.master.uln, merged.linked_uln) == (master, linked)
    return master, linked


def test_a_linked_uln_verifies_as_linked_and_gives_the_master(api: Api) -> None:
    master, linked = merged_pair(api)
    assert verify(api, master).outcome == reg_pb.VERIFICATION_OUTCOME_VERIFIED
    for kind in (OrgKind.SCHOOL, OrgKind.POST16, OrgKind.AWARDING_BODY):
        answer = verify(api, linked, kind)
        assert (answer.outcome, answer.uln, list(answer.mismatched_fields)) == (LINKED, master, []), kind
    # All five details agreeing with the master: still LINKED (the learner should quote the master's ULN).
    full = verify(api, linked, date_of_birth="2011-03-14", gender=learner_pb2.GENDER_FEMALE)
    assert (full.outcome, full.uln) == (LINKED, master)
    # Names similar to the master's (the linked record's misspelling) are LINKED too, as the LRS does.
    assert verify(api, linked, given_name="Amarah").outcome == LINKED


def test_details_are_checked_against_the_master(api: Api) -> None:
    master, linked = merged_pair(api)
    wrong_birth = verify(api, linked, date_of_birth="2011-03-15")
    assert wrong_birth.outcome == reg_pb.VERIFICATION_OUTCOME_MISMATCH
    assert list(wrong_birth.mismatched_fields) == [reg_pb.VERIFICATION_FIELD_DATE_OF_BIRTH]
    wrong_name = verify(api, linked, family_name="Quartermain")
    assert wrong_name.outcome == reg_pb.VERIFICATION_OUTCOME_MISMATCH
    assert list(wrong_name.mismatched_fields) == [reg_pb.VERIFICATION_FIELD_FAMILY_NAME]
    # Details that do not match earn no master's ULN: the answer names only the ULN quoted.
    assert wrong_birth.uln == wrong_name.uln == linked != master


def test_linked_verification_is_in_the_masters_access_log(api: Api) -> None:
    master, linked = merged_pair(api)
    verify(api, linked)
    log = (
        selfservice(api)
        .ListMyAccessLog(self_pb.ListMyAccessLogRequest(), metadata=bearer(learner_token(api, master)))
        .entries
    )
    reads = [e for e in log if e.rpc.endswith("/VerifyLearner")]
    assert reads and reads[0].organisation_ref == "10000002" and reads[0].uln == master


def test_after_an_unmerge_the_uln_verifies_on_its_own(api: Api) -> None:
    master, linked = merged_pair(api)
    admin(api).UnmergeLearners(
        admin_pb.UnmergeLearnersRequest(linked_uln=linked, reason="not the same person"),
        metadata=api.auth(OrgKind.ADMIN),
    )
    alone = verify(api, linked, given_name="Amarah")
    assert (alone.outcome, alone.uln) == (reg_pb.VERIFICATION_OUTCOME_VERIFIED, linked)
    assert verify(api, master).outcome == reg_pb.VERIFICATION_OUTCOME_VERIFIED
