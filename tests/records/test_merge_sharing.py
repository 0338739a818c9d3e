"""Merges and their undoing: sharing choices survive them (neither person's record may end up shared
more widely than a choice made for it, whichever record the choice was written to), and chains of
merges stay bounded and always lead to their master."""

from __future__ import annotations

import itertools

import grpc
import pytest

from lrs.v1 import admin_service_pb2 as admin_pb
from lrs.v1 import learner_service_pb2 as self_pb
from lrs.v1 import registration_service_pb2 as reg_pb
from lrs_server.domain import merges
from lrs_server.domain.model import OrgKind
from tests.records.conftest import admin, bearer, learner_token, record, result_row, selfservice, submit
from tests.service.conftest import Api, failure
from tests.service.factories import register_new

ALL = [
    self_pb.ORGANISATION_KIND_SCHOOL,
    self_pb.ORGANISATION_KIND_POST16,
    self_pb.ORGANISATION_KIND_AWARDING_BODY,
]
SECOND = {"given_name": "Amarah", "postcode": "M1 1AE"}  # registered as a second learner


def _withheld_from_post16(api: Api, uln: str, given_name: str) -> bool:
    return bool(record(api, api.auth(OrgKind.POST16), uln, given_name=given_name).achievements_withheld)


def _merge(api: Api, master: str, linked: str) -> None:
    admin(api).MergeLearners(
        admin_pb.MergeLearnersRequest(master_uln=master, linked_uln=linked, reason="duplicate"),
        metadata=api.auth(OrgKind.ADMIN),
    )


def _unmerge(api: Api, linked: str) -> None:
    admin(api).UnmergeLearners(
        admin_pb.UnmergeLearnersRequest(linked_uln=linked, reason="two people after all"),
        metadata=api.auth(OrgKind.ADMIN),
    )


def _choose(api: Api, token: str, withheld: list[int]) -> None:
    request = self_pb.SetSharingPreferencesRequest(withheld_from=withheld)
    selfservice(api).SetSharingPreferences(request, metadata=bearer(token))


def test_an_opt_out_made_while_merged_survives_the_unmerge(api: Api) -> None:
    master = register_new(api).uln
    linked = register_new(api, **SECOND).uln
    submit(api, api.auth(OrgKind.AWARDING_BODY), result_row(linked, given_name="Amarah"))
    token = learner_token(api, linked)
    _merge(api, master, linked)
    _choose(api, token, ALL)  # written to the master while merged
    assert _withheld_from_post16(api, linked, "Amarah")
    _unmerge(api, linked)
    assert _withheld_from_post16(api, linked, "Amarah")


def test_a_choice_made_through_a_wrong_merge_does_not_loosen_the_other_persons_opt_out(api: Api) -> None:
    master = register_new(api).uln
    linked = register_new(api, **SECOND).uln
    submit(api, api.auth(OrgKind.AWARDING_BODY), result_row(master))
    _choose(api, learner_token(api, master), ALL)
    linked_token = learner_token(api, linked)
    _merge(api, master, linked)
    _choose(api, linked_token, [])  # the other person, through the merge, shares everything
    _unmerge(api, linked)
    assert _withheld_from_post16(api, master, "Amara")


GIVEN = [
    "Amara",
    "Bola",
    "Chidi",
    "Dayo",
    "Ebere",
    "Femi",
    "Gozie",
    "Hauwa",
    "Ifeoma",
    "Jide",
    "Kemi",
    "Lola",
]


def test_a_chain_of_merges_always_answers_with_its_last_master(api: Api) -> None:
    """Each record merged into the next, as an administrator may do over the years: a ULN at the
    start of the chain is answered with the record at its end, however long the chain."""
    ulns = [
        register_new(api, given_name=name, date_of_birth=f"2010-0{1 + i % 9}-1{i % 9}").uln
        for i, name in enumerate(GIVEN)
    ]
    for linked, master in itertools.pairwise(ulns):
        _merge(api, master, linked)
    found = api.registration.FindLearnerByUln(
        reg_pb.FindLearnerByUlnRequest(uln=ulns[0], given_name=GIVEN[-1], family_name="Okafor"),
        metadata=api.auth(),
    )
    assert found.learner.uln == ulns[-1]


def test_a_merge_that_would_group_too_many_records_is_refused(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(merges, "MAX_LINKS", 3)
    a, b, c, d = (
        register_new(api, given_name=name, date_of_birth=f"2010-02-1{i}").uln
        for i, name in enumerate(GIVEN[:4])
    )
    _merge(api, a, b)
    _merge(api, c, d)
    with pytest.raises(grpc.RpcError) as caught:
        _merge(api, a, c)
    refused = failure(caught.value)
    assert (refused.code, refused.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "MERGE_INVALID")
    assert "at most 3" in refused.message


def test_an_opt_out_made_while_merged_into_a_chain_survives_the_unmerge(api: Api) -> None:
    """Linked into a record that was later merged into a third: the learner's choice is written to
    the top of the chain, and must still be theirs when their own merge is undone."""
    top = register_new(api, given_name="Chidi", date_of_birth="2010-02-11").uln
    master = register_new(api).uln
    linked = register_new(api, **SECOND).uln
    submit(api, api.auth(OrgKind.AWARDING_BODY), result_row(linked, given_name="Amarah"))
    token = learner_token(api, linked)
    _merge(api, master, linked)
    _merge(api, top, master)
    _choose(api, token, ALL)  # written to the top
    _unmerge(api, linked)
    assert _withheld_from_post16(api, linked, "Amarah")
