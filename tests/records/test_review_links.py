"""Resolving a review item links the school's MIS identifier to the learner it is resolved to,
unless the school linked that identifier itself while the item waited."""

from __future__ import annotations

from sqlalchemy import text

from lrs.v1 import admin_service_pb2 as admin_pb
from lrs.v1 import registration_service_pb2 as reg_pb
from lrs_server.domain.model import OrgKind
from tests.records.conftest import admin
from tests.service.conftest import Api
from tests.service.factories import register_new, register_request

NEAR = {"family_name": "Okafur", "postcode": "M1 1AE"}  # a possible match for the first learner


def _linked_uln(api: Api, mis: str) -> str:
    with api.engine.connect() as c:
        return str(
            c.execute(
                text(
                    "SELECT l.uln FROM mis_link m JOIN learner l ON l.id = m.learner_id"
                    " WHERE m.mis_identifier = :m"
                ),
                {"m": mis},
            ).scalar_one()
        )


def test_a_stale_item_does_not_move_a_link_the_school_made_since(api: Api) -> None:
    first = register_new(api).uln
    school = api.add_school("REVIEW-LINK")
    request = register_request(mis_identifier="Q1", **NEAR)
    asked = api.registration.RegisterLearner(request, metadata=school)
    assert asked.outcome == reg_pb.REGISTRATION_OUTCOME_POSSIBLE_MATCH
    request.confirmation.confirm_new_reason = "our pupil is not this learner"
    own = api.registration.RegisterLearner(request, metadata=school).learner.uln
    assert own != first and _linked_uln(api, "Q1") == own
    (item,) = (
        admin(api).ListReviewItems(admin_pb.ListReviewItemsRequest(), metadata=api.auth(OrgKind.ADMIN)).items
    )
    admin(api).ResolveReviewItem(
        admin_pb.ResolveReviewItemRequest(id=item.id, link_uln=first), metadata=api.auth(OrgKind.ADMIN)
    )
    assert _linked_uln(api, "Q1") == own


def test_resolving_an_item_links_the_identifier(api: Api) -> None:
    first = register_new(api).uln
    school = api.add_school("REVIEW-LINK-2")
    asked = api.registration.RegisterLearner(register_request(mis_identifier="Q2", **NEAR), metadata=school)
    assert asked.outcome == reg_pb.REGISTRATION_OUTCOME_POSSIBLE_MATCH
    (item,) = (
        admin(api).ListReviewItems(admin_pb.ListReviewItemsRequest(), metadata=api.auth(OrgKind.ADMIN)).items
    )
    admin(api).ResolveReviewItem(
        admin_pb.ResolveReviewItemRequest(id=item.id, link_uln=first), metadata=api.auth(OrgKind.ADMIN)
    )
    assert _linked_uln(api, "Q2") == first
