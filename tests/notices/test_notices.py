"""A notice for every look: each organisation's find, verification, record read and refused read
reaches the learner, named, and "new since you last looked" follows the learner's marker."""

from __future__ import annotations

import grpc
import pytest

from lrs.v1 import admin_service_pb2 as admin_pb
from lrs.v1 import learner_service_pb2 as self_pb
from lrs.v1 import registration_service_pb2 as reg_pb
from lrs_server.domain.model import OrgKind
from tests.notices.conftest import Learner, notices, signed_in_learner
from tests.records.conftest import admin, record, result_row, selfservice, submit
from tests.service.conftest import Api, failure
from tests.service.factories import identity, register_new

KIND = self_pb.NoticeKind


def look_in_every_way(api: Api, learner: Learner) -> None:
    """A college finds, verifies and reads the learner; the learner opts out; the college is refused."""
    college = api.auth(OrgKind.POST16)
    found = api.registration.FindLearnerByDemographics(
        reg_pb.FindLearnerByDemographicsRequest(identity=identity()), metadata=college
    )
    assert [c.learner.uln for c in found.candidates] == [learner.uln]
    api.registration.VerifyLearner(
        reg_pb.VerifyLearnerRequest(uln=learner.uln, given_name="Amara", family_name="Okafor"),
        metadata=college,
    )
    submit(api, api.auth(OrgKind.AWARDING_BODY), result_row(learner.uln))
    assert record(api, college, learner.uln).achievements
    selfservice(api).SetSharingPreferences(
        self_pb.SetSharingPreferencesRequest(withheld_from=[self_pb.ORGANISATION_KIND_POST16]),
        metadata=learner.md,
    )
    refused = record(api, college, learner.uln)
    assert refused.achievements_withheld and not refused.achievements


def test_a_learner_sees_a_notice_for_each_look_naming_the_organisation(api: Api) -> None:
    learner = signed_in_learner(api)
    look_in_every_way(api, learner)
    record(api, learner.md, "")  # the learner's own read is in the access log, but is no notice
    page = notices(api, learner)
    by_college = [n for n in page.notices if n.organisation_name == "Test post16"]
    assert [n.kind for n in by_college] == [
        KIND.NOTICE_KIND_RECORD_REFUSED,
        KIND.NOTICE_KIND_RECORD_READ,
        KIND.NOTICE_KIND_VERIFIED,
        KIND.NOTICE_KIND_FOUND_BY_DETAILS,
    ]
    refused, read, verified, found = by_college
    assert "achievements_withheld" in refused.given and "achievements" not in refused.given
    assert "achievements" in read.given and "sharing choice" in refused.summary
    assert "given_name" in verified.given and "achievements" not in verified.given
    assert "postcode" not in found.given  # a college is given no address: the notice says what it got
    assert {n.organisation_kind for n in by_college} == {"post16"} and by_college[0].organisation_ref
    assert all(n.uln == learner.uln and n.at for n in by_college)
    # The awarding body's results were verified against the learner first: that is a look too.
    assert any(
        n.organisation_name == "Test awarding_body" and n.kind == KIND.NOTICE_KIND_VERIFIED
        for n in page.notices
    )
    # The school that registered the learner and issued the code saw the details too.
    assert {n.organisation_name for n in page.notices} >= {"Test school"}
    assert all(n.organisation_name != "you" for n in page.notices)
    assert all(n.new for n in page.notices) and page.new_count == len(page.notices)
    assert page.last_seen_at == ""


def test_new_since_you_last_looked(api: Api) -> None:
    learner = signed_in_learner(api)
    look_in_every_way(api, learner)
    first = notices(api, learner)
    seen = selfservice(api).MarkNoticesSeen(
        self_pb.MarkNoticesSeenRequest(through_notice_id=first.notices[0].id), metadata=learner.md
    )
    assert seen.new_count == 0
    after = notices(api, learner)
    assert after.new_count == 0 and not any(n.new for n in after.notices) and after.last_seen_at
    record(api, api.auth(OrgKind.AWARDING_BODY), learner.uln)
    again = notices(api, learner)
    assert again.new_count == 1
    assert [n.new for n in again.notices] == [True] + [False] * len(first.notices)
    assert again.notices[0].organisation_name == "Test awarding_body"
    # Marking an older notice never moves the marker back; a number beyond the newest notice stops at it.
    older = selfservice(api).MarkNoticesSeen(
        self_pb.MarkNoticesSeenRequest(through_notice_id=first.notices[-1].id), metadata=learner.md
    )
    assert older.new_count == 1
    beyond = selfservice(api).MarkNoticesSeen(
        self_pb.MarkNoticesSeenRequest(through_notice_id="999999"), metadata=learner.md
    )
    assert beyond.new_count == 0
    record(api, api.auth(OrgKind.POST16), learner.uln)
    assert notices(api, learner).new_count == 1


def test_notices_page_newest_first(api: Api) -> None:
    learner = signed_in_learner(api)
    look_in_every_way(api, learner)
    every = notices(api, learner).notices
    pages, token = [], ""
    while True:
        page = notices(api, learner, page_size=2, page_token=token)
        pages += list(page.notices)
        assert page.new_count == len(every)
        token = page.next_page_token
        if not token:
            break
    assert [n.id for n in pages] == [n.id for n in every]
    assert [int(n.id) for n in every] == sorted((int(n.id) for n in every), reverse=True)


def test_another_learners_looks_are_not_my_notices(api: Api) -> None:
    me = signed_in_learner(api)
    other = api.registration.RegisterLearner(
        reg_pb.RegisterLearnerRequest(
            identity=identity(
                given_name="Oliver", family_name="Pemberton", date_of_birth="2010-05-30", postcode="TR1 1AA"
            )
        ),
        metadata=api.auth(),
    ).learner
    before = notices(api, me).new_count
    record(api, api.auth(OrgKind.POST16), other.uln, given_name="Oliver", family_name="Pemberton")
    assert notices(api, me).new_count == before


@pytest.mark.parametrize(
    ("through", "reason"),
    [
        ("", "FIELD_REQUIRED"),
        ("abc", "NOTICE_ID_INVALID"),
        ("-1", "NOTICE_ID_INVALID"),
        ("١٢", "NOTICE_ID_INVALID"),
    ],
)
def test_marking_seen_with_a_bad_id_is_refused(api: Api, through: str, reason: str) -> None:
    learner = signed_in_learner(api)
    with pytest.raises(grpc.RpcError) as caught:
        selfservice(api).MarkNoticesSeen(
            self_pb.MarkNoticesSeenRequest(through_notice_id=through), metadata=learner.md
        )
    f = failure(caught.value)
    assert (f.code, f.reason, set(f.fields)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        reason,
        {"through_notice_id"},
    )


def test_bad_page_requests_are_refused(api: Api) -> None:
    learner = signed_in_learner(api)
    for request, field in (({"page_token": "x"}, "page_token"), ({"page_size": 5000}, "page_size")):
        with pytest.raises(grpc.RpcError) as caught:
            notices(api, learner, **request)
        f = failure(caught.value)
        assert f.code == grpc.StatusCode.INVALID_ARGUMENT and set(f.fields) == {field}


@pytest.mark.parametrize("kind", list(OrgKind))
def test_only_a_learner_reads_notices(api: Api, kind: OrgKind) -> None:
    for call, request in (
        (selfservice(api).ListNotices, self_pb.ListNoticesRequest()),
        (selfservice(api).MarkNoticesSeen, self_pb.MarkNoticesSeenRequest(through_notice_id="1")),
        (selfservice(api).GetNoticeDigest, self_pb.GetNoticeDigestRequest()),
    ):
        with pytest.raises(grpc.RpcError) as caught:
            call(request, metadata=api.auth(kind))
        assert failure(caught.value).reason == "CALLER_NOT_PERMITTED"
    with pytest.raises(grpc.RpcError) as caught:
        selfservice(api).ListNotices(self_pb.ListNoticesRequest())
    assert failure(caught.value).code == grpc.StatusCode.UNAUTHENTICATED


def test_looks_at_a_record_merged_into_mine_are_my_notices(api: Api) -> None:
    learner = signed_in_learner(api)
    linked = register_new(
        api, given_name="Amarah", family_name="Okafor", date_of_birth="2010-07-15", postcode="M1 1AE"
    ).uln
    # A college verifies the duplicate record before anyone knew it was the same learner.
    api.registration.VerifyLearner(
        reg_pb.VerifyLearnerRequest(uln=linked, given_name="Amarah", family_name="Okafor"),
        metadata=api.auth(OrgKind.POST16),
    )
    assert all(n.uln != linked for n in notices(api, learner).notices)
    admin(api).MergeLearners(
        admin_pb.MergeLearnersRequest(master_uln=learner.uln, linked_uln=linked, reason="duplicate"),
        metadata=api.auth(OrgKind.ADMIN),
    )
    on_linked = [n for n in notices(api, learner).notices if n.uln == linked]
    assert [(n.organisation_name, n.kind) for n in on_linked if n.organisation_kind == "post16"] == [
        ("Test post16", KIND.NOTICE_KIND_VERIFIED)
    ]
