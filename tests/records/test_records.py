"""Achievements, sharing preferences and learner self-service through a real server."""

from __future__ import annotations

from datetime import timedelta

import grpc
import pytest

from lrs.v1 import learner_service_pb2 as self_pb
from lrs.v1 import record_service_pb2 as rec_pb
from lrs.v1 import registration_service_pb2 as reg_pb
from lrs_server.domain.learner_access import CREDENTIAL_LIFETIME
from lrs_server.domain.model import OrgKind
from lrs_server.storage.records import principal_for_learner_token
from tests.conftest import TODAY
from tests.records.conftest import (
    bearer,
    learner_token,
    record,
    records,
    result_row,
    selfservice,
    submit,
)
from tests.service.conftest import Api, failure
from tests.service.factories import register_new, register_request

AB = OrgKind.AWARDING_BODY
OPT_OUT_ALL = [
    self_pb.ORGANISATION_KIND_SCHOOL,
    self_pb.ORGANISATION_KIND_POST16,
    self_pb.ORGANISATION_KIND_AWARDING_BODY,
]


def test_results_are_applied_per_row_and_a_resubmission_updates(api: Api) -> None:
    uln = register_new(api).uln
    answers = submit(
        api,
        api.auth(AB),
        result_row(uln, 1),
        result_row(uln, 2, family_name="Nobody"),
        result_row(uln, 3, subject="English", grade="", kind=rec_pb.ACHIEVEMENT_KIND_UNSPECIFIED),
        result_row("1000000063", 4),
    )
    assert answers[0].outcome == rec_pb.SUBMIT_OUTCOME_CREATED
    assert answers[1].rejection_reason == "LEARNER_NOT_VERIFIED"
    assert set(answers[2].rejected_fields) == {"achievement.kind", "achievement.grade"}
    assert answers[3].rejection_reason == "ULN_CHECKSUM_INVALID"
    again = submit(api, api.auth(AB), result_row(uln, 1), result_row(uln, 2, grade="8"))
    assert [a.outcome for a in again] == [rec_pb.SUBMIT_OUTCOME_UNCHANGED, rec_pb.SUBMIT_OUTCOME_UPDATED]
    held = record(api, api.auth(OrgKind.POST16), uln)
    assert [(a.subject, a.grade) for a in held.achievements] == [("Mathematics", "8")]
    assert not held.achievements_withheld


def test_opted_out_achievements_are_withheld_except_from_the_submitter(api: Api) -> None:
    uln = register_new(api).uln
    submit(api, api.auth(AB), result_row(uln))
    token = learner_token(api, uln)
    selfservice(api).SetSharingPreferences(
        self_pb.SetSharingPreferencesRequest(withheld_from=[self_pb.ORGANISATION_KIND_POST16]),
        metadata=bearer(token),
    )
    college = record(api, api.auth(OrgKind.POST16), uln)
    assert college.achievements_withheld and not college.achievements and college.withheld_message
    assert college.learner.uln == uln  # identity verification still works
    assert record(api, api.auth(AB), uln).achievements  # the submitter still sees its own result
    assert not record(api, api.auth(OrgKind.SCHOOL), uln).achievements_withheld
    selfservice(api).SetSharingPreferences(
        self_pb.SetSharingPreferencesRequest(withheld_from=OPT_OUT_ALL), metadata=bearer(token)
    )
    for kind in (OrgKind.SCHOOL, OrgKind.POST16, OrgKind.ADMIN):
        seen = record(api, api.auth(kind), uln)
        assert seen.achievements_withheld and not seen.achievements, kind
    assert record(api, api.auth(AB), uln).achievements
    # The learner's own record is complete, and so is the export.
    own = records(api).GetLearnerRecord(rec_pb.GetLearnerRecordRequest(), metadata=bearer(token))
    assert own.achievements and not own.achievements_withheld
    export = selfservice(api).ExportMyData(self_pb.ExportMyDataRequest(), metadata=bearer(token))
    assert export.achievements and export.learner.identity.postcode == "SW1A 1AA"
    assert [list(s.withheld_from) for s in export.sharing_history][-1] == sorted(OPT_OUT_ALL)


def test_school_record_never_overrides_the_learners_own_choice(api: Api) -> None:
    request = register_request(mis_identifier="P1")
    request.ability_to_share = 3  # SHARING_CHOICE_DO_NOT_SHARE
    uln = api.registration.RegisterLearner(request, metadata=api.auth()).learner.uln
    submit(api, api.auth(AB), result_row(uln))
    assert record(api, api.auth(OrgKind.POST16), uln).achievements_withheld
    token = learner_token(api, uln)
    selfservice(api).SetSharingPreferences(self_pb.SetSharingPreferencesRequest(), metadata=bearer(token))
    assert not record(api, api.auth(OrgKind.POST16), uln).achievements_withheld
    again = register_request(mis_identifier="P1")
    again.ability_to_share = 3
    api.registration.RegisterLearner(again, metadata=api.auth())
    assert not record(api, api.auth(OrgKind.POST16), uln).achievements_withheld
    prefs = selfservice(api).GetSharingPreferences(
        self_pb.GetSharingPreferencesRequest(), metadata=bearer(token)
    )
    assert prefs.preferences.source == self_pb.SHARING_SOURCE_LEARNER


def test_learner_reads_only_their_own_data_and_cannot_register(api: Api) -> None:
    mine = register_new(api).uln
    other = register_new(api, given_name="Zebedee", family_name="Quartermain", date_of_birth="2010-01-02").uln
    md = bearer(learner_token(api, mine))
    with pytest.raises(grpc.RpcError) as caught:
        records(api).GetLearnerRecord(rec_pb.GetLearnerRecordRequest(uln=other), metadata=md)
    assert (failure(caught.value).code, failure(caught.value).reason) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "NOT_OWN_RECORD",
    )
    for call in (
        lambda: api.registration.RegisterLearner(register_request(), metadata=md),
        lambda: api.registration.FindLearnerByUln(
            reg_pb.FindLearnerByUlnRequest(uln=other, given_name="Zebedee", family_name="Quartermain"),
            metadata=md,
        ),
        lambda: submit(api, md, result_row(mine)),
    ):
        with pytest.raises(grpc.RpcError) as denied:
            call()
        assert failure(denied.value).code == grpc.StatusCode.PERMISSION_DENIED


def test_every_read_is_in_the_learners_access_log(api: Api) -> None:
    uln = register_new(api).uln
    api.registration.FindLearnerByUln(
        reg_pb.FindLearnerByUlnRequest(uln=uln, given_name="Amara", family_name="Okafor"),
        metadata=api.auth(OrgKind.POST16),
    )
    api.registration.VerifyLearner(
        reg_pb.VerifyLearnerRequest(uln=uln, given_name="Amara", family_name="Okafor"), metadata=api.auth(AB)
    )
    record(api, api.auth(OrgKind.POST16), uln)
    md = bearer(learner_token(api, uln))
    log = selfservice(api).ListMyAccessLog(self_pb.ListMyAccessLogRequest(), metadata=md).entries
    rpcs = [(e.organisation_ref, e.rpc.rsplit("/", 1)[-1]) for e in log]
    assert ("10000002", "GetLearnerRecord") in rpcs
    assert ("10000003", "VerifyLearner") in rpcs
    assert ("10000002", "FindLearnerByUln") in rpcs
    assert ("100001", "RegisterLearner") in rpcs
    assert all(e.at and e.organisation_name for e in log)
    page = selfservice(api).ListMyAccessLog(self_pb.ListMyAccessLogRequest(page_size=1), metadata=md)
    assert len(page.entries) == 1 and page.next_page_token


def test_activation_codes_are_single_use_and_failures_lock_the_uln(api: Api) -> None:
    uln = register_new(api).uln
    service = selfservice(api)
    code = service.IssueActivationCode(self_pb.IssueActivationCodeRequest(uln=uln), metadata=api.auth()).code
    good = self_pb.ActivateLearnerRequest(uln=uln, date_of_birth="2011-03-14", code=code)
    assert service.ActivateLearner(good).token
    with pytest.raises(grpc.RpcError) as used:
        service.ActivateLearner(good)
    assert failure(used.value).reason == "ACTIVATION_FAILED"
    fresh = service.IssueActivationCode(self_pb.IssueActivationCodeRequest(uln=uln), metadata=api.auth()).code
    for _ in range(4):
        with pytest.raises(grpc.RpcError):
            service.ActivateLearner(
                self_pb.ActivateLearnerRequest(uln=uln, date_of_birth="2011-03-14", code="WRONG")
            )
    with pytest.raises(grpc.RpcError) as locked:
        service.ActivateLearner(
            self_pb.ActivateLearnerRequest(uln=uln, date_of_birth="2011-03-14", code=fresh)
        )
    assert (failure(locked.value).code, failure(locked.value).reason) == (
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "ACTIVATION_LOCKED",
    )
    # Another school cannot issue a code for a learner it has no link to.
    with pytest.raises(grpc.RpcError) as unknown:
        service.IssueActivationCode(
            self_pb.IssueActivationCodeRequest(uln=uln), metadata=api.add_school("300003")
        )
    assert failure(unknown.value).code == grpc.StatusCode.NOT_FOUND


def test_a_new_activation_ends_the_learners_earlier_sign_ins(api: Api) -> None:
    """A school's new code is how a learner recovers from a lost or stolen device."""
    uln = register_new(api).uln
    lost = learner_token(api, uln)
    own = rec_pb.GetLearnerRecordRequest()
    assert records(api).GetLearnerRecord(own, metadata=bearer(lost)).learner.uln == uln
    fresh = learner_token(api, uln)
    assert records(api).GetLearnerRecord(own, metadata=bearer(fresh)).learner.uln == uln
    with pytest.raises(grpc.RpcError) as refused:
        records(api).GetLearnerRecord(own, metadata=bearer(lost))
    assert failure(refused.value).code == grpc.StatusCode.UNAUTHENTICATED


def test_a_learner_credential_lasts_its_lifetime_and_no_longer(api: Api) -> None:
    uln = register_new(api).uln
    token = learner_token(api, uln)
    issued = TODAY  # the test server's fixed clock issued it
    assert principal_for_learner_token(api.engine, token, issued - CREDENTIAL_LIFETIME) is not None
    # The same check a day after the lifetime is over (what the server asks then).
    assert principal_for_learner_token(api.engine, token, issued + timedelta(days=1)) is None
    assert principal_for_learner_token(api.engine, "lrsl_not-a-token", issued - CREDENTIAL_LIFETIME) is None


def test_signing_out_everywhere_ends_the_learners_tokens(api: Api) -> None:
    uln = register_new(api).uln
    token = learner_token(api, uln)
    own = rec_pb.GetLearnerRecordRequest()
    assert records(api).GetLearnerRecord(own, metadata=bearer(token)).learner.uln == uln
    done = selfservice(api).SignOutEverywhere(self_pb.SignOutEverywhereRequest(), metadata=bearer(token))
    assert done.credentials_revoked == 1
    with pytest.raises(grpc.RpcError) as refused:
        records(api).GetLearnerRecord(own, metadata=bearer(token))
    assert failure(refused.value).code == grpc.StatusCode.UNAUTHENTICATED
    # An organisation has no learner credentials to end.
    with pytest.raises(grpc.RpcError) as denied:
        selfservice(api).SignOutEverywhere(self_pb.SignOutEverywhereRequest(), metadata=api.auth())
    assert failure(denied.value).code == grpc.StatusCode.PERMISSION_DENIED


def test_another_schools_not_seen_does_not_undo_a_do_not_share(api: Api) -> None:
    """'Privacy notice not seen' records that no one decided; it must not lift a choice a school
    recorded before. A later school's SHARE is the pupil's newer word and does."""
    request = register_request(mis_identifier="P1")
    request.ability_to_share = 3  # SHARING_CHOICE_DO_NOT_SHARE
    uln = api.registration.RegisterLearner(request, metadata=api.auth()).learner.uln
    submit(api, api.auth(AB), result_row(uln))
    college = api.auth(OrgKind.POST16)
    assert record(api, college, uln).achievements_withheld
    for ref, choice, withheld in (("NOT-SEEN", 1, True), ("SHARES", 2, False)):  # NOT_SEEN, SHARE
        again = register_request(mis_identifier="P7")
        again.ability_to_share = choice
        joined = api.registration.RegisterLearner(again, metadata=api.add_school(ref))
        assert joined.learner.uln == uln
        assert record(api, college, uln).achievements_withheld is withheld, ref
