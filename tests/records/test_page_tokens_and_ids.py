"""Page tokens and review item ids the fuzzer found answered INTERNAL on PostgreSQL (other scripts'
digits, numbers beyond the 32-bit id columns): refused as PAGE_TOKEN_INVALID, or for an id no item can
have, REVIEW_ITEM_NOT_FOUND like any unknown id, over a real server."""

from __future__ import annotations

import grpc
import pytest

from lrs.v1 import admin_service_pb2 as admin_pb
from lrs.v1 import learner_service_pb2 as self_pb
from lrs_server.domain.model import OrgKind
from tests.records.conftest import admin, bearer, learner_token, selfservice
from tests.service.conftest import Api, Failure, failure
from tests.service.factories import register_new

BAD_TOKENS = ["²", "٣", "９", "9" * 10, "9" * 18, str(2**31), "-1", "1e3", " 12", "12 "]
OUT_OF_RANGE_IDS = [2**31, -(2**31) - 1, 2**63 - 1, -(2**63)]


def refused(call) -> Failure:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as caught:
        call()
    return failure(caught.value)


def _bad_token(got: Failure) -> tuple[object, ...]:
    return (got.code, got.reason, got.fields)


BAD_TOKEN = (grpc.StatusCode.INVALID_ARGUMENT, "PAGE_TOKEN_INVALID", {"page_token": "PAGE_TOKEN_INVALID"})


def test_review_page_tokens_other_than_ascii_digits_of_a_possible_id_are_refused(api: Api) -> None:
    as_admin = api.auth(OrgKind.ADMIN)
    for token in BAD_TOKENS:
        request = admin_pb.ListReviewItemsRequest(page_token=token)
        assert _bad_token(refused(lambda r=request: admin(api).ListReviewItems(r, metadata=as_admin))) == (
            BAD_TOKEN
        ), token
    # The largest id a row can have is still a token (nothing after it).
    last = admin_pb.ListReviewItemsRequest(page_token=str(2**31 - 1))
    assert not admin(api).ListReviewItems(last, metadata=as_admin).items


def test_access_log_page_tokens_other_than_ascii_digits_of_a_possible_seq_are_refused(api: Api) -> None:
    uln = register_new(api).uln
    me = bearer(learner_token(api, uln))
    for token in BAD_TOKENS:
        request = self_pb.ListMyAccessLogRequest(page_token=token)
        assert _bad_token(refused(lambda r=request: selfservice(api).ListMyAccessLog(r, metadata=me))) == (
            BAD_TOKEN
        ), token
    everything = selfservice(api).ListMyAccessLog(
        self_pb.ListMyAccessLogRequest(page_token=str(2**31 - 1)), metadata=me
    )
    assert everything.entries  # before the largest possible entry id: every entry


@pytest.mark.parametrize("item_id", OUT_OF_RANGE_IDS)
def test_a_review_item_id_no_item_can_have_is_not_found_like_any_unknown_id(api: Api, item_id: int) -> None:
    as_admin = api.auth(OrgKind.ADMIN)
    unknown = refused(
        lambda: admin(api).ResolveReviewItem(
            admin_pb.ResolveReviewItemRequest(id=12345, issue_new_reason="new"), metadata=as_admin
        )
    )
    beyond = refused(
        lambda: admin(api).ResolveReviewItem(
            admin_pb.ResolveReviewItemRequest(id=item_id, issue_new_reason="new"), metadata=as_admin
        )
    )
    assert (beyond.code, beyond.reason) == (unknown.code, unknown.reason)
    assert (beyond.code, beyond.reason) == (grpc.StatusCode.NOT_FOUND, "REVIEW_ITEM_NOT_FOUND")
