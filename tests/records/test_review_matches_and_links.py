"""What the review pages read: each review item's candidates with the matcher's per-field comparisons, a
count of open items, a filter by submitting school; and the merges a ULN takes part in."""

from __future__ import annotations

import grpc
import pytest

from lrs.v1 import admin_service_pb2 as admin_pb
from lrs.v1 import registration_service_pb2 as reg_pb
from lrs_server.domain.model import OrgKind
from tests.records.conftest import admin
from tests.service.conftest import Api, failure
from tests.service.factories import SOMEONE_ELSE, register_new, register_request

NEAR = {"family_name": "Okafur", "postcode": "M1 1AE"}  # a possible match for the factories' learner


def _queue(api: Api, school: tuple[tuple[str, str], ...], **near: str) -> None:
    asked = api.registration.RegisterLearner(register_request(**near), metadata=school)
    assert asked.outcome == reg_pb.REGISTRATION_OUTCOME_POSSIBLE_MATCH


def test_items_carry_each_candidates_comparisons_a_count_and_a_school_filter(api: Api) -> None:
    first = register_new(api).uln
    other = register_new(api, **SOMEONE_ELSE).uln
    north, south = api.add_school("NORTH-1"), api.add_school("SOUTH-1")
    _queue(api, north, **NEAR)
    _queue(api, south, **NEAR, given_name="Amarah")
    _queue(api, south, **{**SOMEONE_ELSE, "family_name": "Pembertin", "postcode": "M1 1AE"})
    md = api.auth(OrgKind.ADMIN)

    page = admin(api).ListReviewItems(admin_pb.ListReviewItemsRequest(page_size=2), metadata=md)
    assert page.total_size == 3 and len(page.items) == 2 and page.next_page_token
    item = page.items[0]
    assert [m.learner.uln for m in item.matches] == [first]
    assert item.matches[0].learner == item.candidates[0]
    levels = {c.field: c for c in item.matches[0].comparisons}
    assert {"given_name", "family_name", "date_of_birth"} <= levels.keys()
    assert levels["given_name"].weight > 0 and levels["family_name"].weight < levels["given_name"].weight
    assert 0 < item.matches[0].match_probability < 1

    south_only = admin(api).ListReviewItems(
        admin_pb.ListReviewItemsRequest(submitted_by_ref="SOUTH-1"), metadata=md
    )
    assert south_only.total_size == 2
    assert {i.submitted_by_ref for i in south_only.items} == {"SOUTH-1"}
    assert [m.learner.uln for m in south_only.items[1].matches] == [other]
    none = admin(api).ListReviewItems(admin_pb.ListReviewItemsRequest(submitted_by_ref="NOBODY"), metadata=md)
    assert none.total_size == 0 and not none.items


def test_links_of_a_master_and_of_a_linked_uln_and_after_an_undo(api: Api) -> None:
    master = register_new(api).uln
    linked = register_new(api, **SOMEONE_ELSE).uln
    md = api.auth(OrgKind.ADMIN)
    admin(api).MergeLearners(
        admin_pb.MergeLearnersRequest(master_uln=master, linked_uln=linked, reason="same pupil"), metadata=md
    )
    of_master = admin(api).ListLearnerLinks(admin_pb.ListLearnerLinksRequest(uln=master), metadata=md)
    assert of_master.learner.uln == master and of_master.learner.identity.given_name == "Amara"
    assert [(lk.linked_uln, lk.master_uln) for lk in of_master.links] == [(linked, master)]
    assert of_master.links[0].merged_at
    of_linked = admin(api).ListLearnerLinks(admin_pb.ListLearnerLinksRequest(uln=linked), metadata=md)
    assert [(lk.linked_uln, lk.master_uln) for lk in of_linked.links] == [(linked, master)]

    admin(api).UnmergeLearners(
        admin_pb.UnmergeLearnersRequest(linked_uln=linked, reason="twins"), metadata=md
    )
    after = admin(api).ListLearnerLinks(admin_pb.ListLearnerLinksRequest(uln=master), metadata=md)
    assert not after.links


def test_links_of_an_unknown_or_malformed_uln(api: Api) -> None:
    md = api.auth(OrgKind.ADMIN)
    with pytest.raises(grpc.RpcError) as unknown:
        admin(api).ListLearnerLinks(admin_pb.ListLearnerLinksRequest(uln="9999999999"), metadata=md)
    assert failure(unknown.value).code in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT)
    with pytest.raises(grpc.RpcError) as bad:
        admin(api).ListLearnerLinks(admin_pb.ListLearnerLinksRequest(uln="12"), metadata=md)
    assert failure(bad.value).code == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.RpcError) as school:
        admin(api).ListLearnerLinks(admin_pb.ListLearnerLinksRequest(uln="9999999999"), metadata=api.auth())
    assert failure(school.value).code == grpc.StatusCode.PERMISSION_DENIED
