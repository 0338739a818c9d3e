"""A school's AbilityToShare sent with a registration that went to review is recorded when the
item is resolved, whichever way: a DO_NOT_SHARE must not be lost on the way through the queue."""

from __future__ import annotations

import pytest

from lrs.v1 import admin_service_pb2 as admin_pb
from lrs.v1 import learner_pb2 as pb
from lrs.v1 import registration_service_pb2 as reg_pb
from lrs_server.domain.model import OrgKind
from tests.records.conftest import admin, record, result_row, submit
from tests.service.conftest import Api
from tests.service.factories import register_new, register_request

NEAR = {"family_name": "Okafur", "postcode": "M1 1AE"}  # a possible match for the first learner


@pytest.mark.parametrize("resolution", ["issue_new", "link"])
def test_a_do_not_share_sent_with_a_possible_match_applies_once_resolved(api: Api, resolution: str) -> None:
    first = register_new(api).uln
    request = register_request(mis_identifier="Q1", **NEAR)
    request.ability_to_share = pb.SHARING_CHOICE_DO_NOT_SHARE
    asked = api.registration.RegisterLearner(request, metadata=api.add_school("REVIEW-1"))
    assert asked.outcome == reg_pb.REGISTRATION_OUTCOME_POSSIBLE_MATCH
    (item,) = (
        admin(api).ListReviewItems(admin_pb.ListReviewItemsRequest(), metadata=api.auth(OrgKind.ADMIN)).items
    )
    decision = (
        admin_pb.ResolveReviewItemRequest(id=item.id, issue_new_reason="a different learner")
        if resolution == "issue_new"
        else admin_pb.ResolveReviewItemRequest(id=item.id, link_uln=first)
    )
    uln = admin(api).ResolveReviewItem(decision, metadata=api.auth(OrgKind.ADMIN)).uln
    family = NEAR["family_name"] if resolution == "issue_new" else "Okafor"
    submit(api, api.auth(OrgKind.AWARDING_BODY), result_row(uln, family_name=family))
    seen = record(api, api.auth(OrgKind.POST16), uln, family_name=family)
    assert seen.achievements_withheld
    assert not seen.achievements


def test_a_queued_share_does_not_lift_a_do_not_share_recorded_while_it_waited(api: Api) -> None:
    first = register_new(api).uln
    request = register_request(mis_identifier="Q1", **NEAR)
    request.ability_to_share = pb.SHARING_CHOICE_SHARE
    asked = api.registration.RegisterLearner(request, metadata=api.add_school("REVIEW-2"))
    assert asked.outcome == reg_pb.REGISTRATION_OUTCOME_POSSIBLE_MATCH
    meanwhile = register_request(mis_identifier="B-7")
    meanwhile.ability_to_share = pb.SHARING_CHOICE_DO_NOT_SHARE
    joined = api.registration.RegisterLearner(meanwhile, metadata=api.add_school("OTHER-SCHOOL"))
    assert joined.learner.uln == first
    (item,) = (
        admin(api).ListReviewItems(admin_pb.ListReviewItemsRequest(), metadata=api.auth(OrgKind.ADMIN)).items
    )
    link = admin_pb.ResolveReviewItemRequest(id=item.id, link_uln=first)
    admin(api).ResolveReviewItem(link, metadata=api.auth(OrgKind.ADMIN))
    submit(api, api.auth(OrgKind.AWARDING_BODY), result_row(first))
    assert record(api, api.auth(OrgKind.POST16), first).achievements_withheld


def test_a_retried_registration_does_not_replay_its_ability_to_share_over_a_newer_one(api: Api) -> None:
    school = api.add_school("RETRY-SHARE")
    request = register_request(request_id="r-share", mis_identifier="S1")
    request.ability_to_share = pb.SHARING_CHOICE_SHARE
    uln = api.registration.RegisterLearner(request, metadata=school).learner.uln
    later = register_request(mis_identifier="B-8")
    later.ability_to_share = pb.SHARING_CHOICE_DO_NOT_SHARE
    assert api.registration.RegisterLearner(later, metadata=api.add_school("NEWER")).learner.uln == uln
    assert api.registration.RegisterLearner(request, metadata=school).learner.uln == uln  # the retry
    submit(api, api.auth(OrgKind.AWARDING_BODY), result_row(uln))
    assert record(api, api.auth(OrgKind.POST16), uln).achievements_withheld
