"""Grants through the gRPC server, on both backends: a learner's grant to one named organisation beats
their opt-out for that organisation only, until its date or a revoke; it never reaches an organisation
that may not read records; and merges and unmerges keep the most restrictive outcome."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import grpc
import pytest
from sqlalchemy import Engine

from lrs.v1 import admin_service_pb2 as admin_pb
from lrs.v1 import learner_pb2 as pb
from lrs.v1 import learner_service_pb2 as self_pb
from lrs.v1 import learner_service_pb2_grpc, record_service_pb2_grpc
from lrs.v1 import record_service_pb2 as rec_pb
from lrs_server import auth
from lrs_server.domain.clock import Clock
from lrs_server.domain.model import OrgKind
from lrs_server.server import LrsServer, ServerConfig
from lrs_server.storage.organisations import OrganisationStore
from lrs_server.storage.records import SqlRecordStore
from tests.conftest import TODAY
from tests.records.conftest import (
    Metadata,
    admin,
    bearer,
    learner_token,
    record,
    result_row,
    selfservice,
    submit,
)
from tests.service.conftest import Api, failure
from tests.service.factories import register_new, register_request

POST16 = [self_pb.ORGANISATION_KIND_POST16]
SECOND = {"given_name": "Amarah", "postcode": "M1 1AE"}  # registered as a second learner


def _org(api: Api, kind: OrgKind, ref: str, name: str, town: str) -> Metadata:
    return bearer(OrganisationStore(api.engine).add(kind, ref, name, town=town).token)


def _colleges(api: Api) -> tuple[Metadata, Metadata]:
    c = _org(api, OrgKind.POST16, "20000001", "Riverside College", "Leeds")
    d = _org(api, OrgKind.POST16, "20000002", "Hillside College", "Leeds")
    return c, d


def _choose(api: Api, token: str, withheld: list[self_pb.OrganisationKind.ValueType]) -> None:
    request = self_pb.SetSharingPreferencesRequest(withheld_from=withheld)
    selfservice(api).SetSharingPreferences(request, metadata=bearer(token))


def _grant(api: Api, token: str, ref: str, until: str = "") -> self_pb.Grant:
    request = self_pb.CreateGrantRequest(organisation_ref=ref, expires_on=until)
    response = selfservice(api).CreateGrant(request, metadata=bearer(token))
    grant: self_pb.Grant = response.grant
    return grant


def _revoke(api: Api, token: str, ref: str) -> int:
    request = self_pb.DeleteGrantRequest(organisation_ref=ref)
    return int(selfservice(api).DeleteGrant(request, metadata=bearer(token)).grants_revoked)


def _subjects(response: rec_pb.GetLearnerRecordResponse) -> set[str]:
    return {a.subject for a in response.achievements}


def _opted_out_learner(api: Api) -> tuple[str, str]:
    """A learner with a result from the awarding body, withholding achievements from post-16 providers."""
    uln = register_new(api).uln
    submit(api, api.auth(OrgKind.AWARDING_BODY), result_row(uln))
    token = learner_token(api, uln)
    _choose(api, token, POST16)
    return uln, token


@contextmanager
def _later(engine: Engine, days: int) -> Iterator[record_service_pb2_grpc.LearnerRecordServiceStub]:
    """The same database served with the clock ``days`` on: how the service answers on that day."""
    server = LrsServer(
        engine,
        ServerConfig(listen="127.0.0.1:0", token_cache_seconds=0),
        clock=Clock(fixed=TODAY + timedelta(days=days)),
    )
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    try:
        yield record_service_pb2_grpc.LearnerRecordServiceStub(channel)
    finally:
        channel.close()
        server.stop(grace=1)


def _read(
    stub: record_service_pb2_grpc.LearnerRecordServiceStub, md: Metadata, uln: str
) -> rec_pb.GetLearnerRecordResponse:
    request = rec_pb.GetLearnerRecordRequest(uln=uln, given_name="Amara", family_name="Okafor")
    response: rec_pb.GetLearnerRecordResponse = stub.GetLearnerRecord(request, metadata=md, timeout=10)
    return response


def test_a_grant_opens_the_record_to_that_college_only_until_its_date(api: Api) -> None:
    c, d = _colleges(api)
    uln, token = _opted_out_learner(api)
    assert record(api, c, uln).achievements_withheld

    grant = _grant(api, token, "20000001", "2027-01-31")
    assert (grant.organisation.name, grant.organisation.town, grant.expires_on) == (
        "Riverside College",
        "Leeds",
        "2027-01-31",
    )
    seen = record(api, c, uln)
    assert not seen.achievements_withheld and _subjects(seen) == {"Mathematics"}
    other = record(api, d, uln)
    assert other.achievements_withheld and not other.achievements

    # The last day is in force; the day after, the grant is as if it never was.
    last_day = (TODAY.date().replace(year=2027, month=1, day=31) - TODAY.date()).days
    with _later(api.engine, last_day) as stub:
        assert _subjects(_read(stub, c, uln)) == {"Mathematics"}
    with _later(api.engine, last_day + 1) as stub:
        after = _read(stub, c, uln)
    assert after.achievements_withheld and not after.achievements


def test_a_revoked_grant_withholds_again_and_the_access_log_says_how_it_was_seen(api: Api) -> None:
    c, _ = _colleges(api)
    uln, token = _opted_out_learner(api)
    _grant(api, token, "20000001")
    assert _subjects(record(api, c, uln)) == {"Mathematics"}
    assert _revoke(api, token, "20000001") == 1
    assert _revoke(api, token, "20000001") == 0  # nothing live: revoking again changes nothing
    after = record(api, c, uln)
    assert after.achievements_withheld and not after.achievements
    log = selfservice(api).ListMyAccessLog(self_pb.ListMyAccessLogRequest(), metadata=bearer(token))
    reads = [e for e in log.entries if e.organisation_ref == "20000001"]
    assert "achievements_withheld" in reads[0].fields  # newest first: after the revoke
    assert {"achievements", "achievements_granted"} <= set(reads[1].fields)


def test_grants_are_listed_replaced_and_default_to_ninety_days(api: Api) -> None:
    _colleges(api)
    _, token = _opted_out_learner(api)
    assert _grant(api, token, "20000001").expires_on == (TODAY.date() + timedelta(days=90)).isoformat()
    _grant(api, token, "20000002", TODAY.date().isoformat())  # today is allowed: it ends tonight
    _grant(api, token, "20000001", "2028-11-28")  # again: replaces the first
    listed = selfservice(api).ListGrants(self_pb.ListGrantsRequest(), metadata=bearer(token)).grants
    assert [(g.organisation.ref, g.expires_on) for g in listed] == [
        ("20000002", "2026-11-28"),
        ("20000001", "2028-11-28"),
    ]
    first = selfservice(api).ListGrants(self_pb.ListGrantsRequest(page_size=1), metadata=bearer(token))
    assert len(first.grants) == 1 and first.next_page_token
    export = selfservice(api).ExportMyData(self_pb.ExportMyDataRequest(), metadata=bearer(token))
    assert sorted(g.organisation.ref for g in export.grants) == ["20000001", "20000002"]


@pytest.mark.parametrize(
    ("until", "said"),
    [
        ("2026-11-27", "past"),
        ("2028-11-29", "two years"),
        ("28/11/2027", "YYYY-MM-DD"),
        ("2027-02-30", "not a calendar date"),
    ],
)
def test_a_grant_date_in_the_past_or_beyond_two_years_is_refused_field_by_field(
    api: Api, until: str, said: str
) -> None:
    _colleges(api)
    _, token = _opted_out_learner(api)
    with pytest.raises(grpc.RpcError) as caught:
        _grant(api, token, "20000001", until)
    refused = failure(caught.value)
    assert refused.code == grpc.StatusCode.INVALID_ARGUMENT
    assert refused.fields == {"expires_on": "GRANT_EXPIRY_INVALID"} and said in refused.message
    assert not selfservice(api).ListGrants(self_pb.ListGrantsRequest(), metadata=bearer(token)).grants


def test_only_organisations_that_read_records_can_be_found_or_granted(api: Api) -> None:
    _colleges(api)
    _org(api, OrgKind.AWARDING_BODY, "20000003", "Northern Exams Board", "Manchester")
    _org(api, OrgKind.ADMIN, "ADMIN002", "Riverside Operators", "Leeds")
    OrganisationStore(api.engine).add(OrgKind.POST16, "20000004", "Riverside Sixth Form", town="York")
    OrganisationStore(api.engine).revoke("20000004")
    _, token = _opted_out_learner(api)

    def search(**criteria: object) -> list[str]:
        request = self_pb.SearchOrganisationsRequest(**criteria)  # type: ignore[arg-type]
        found = selfservice(api).SearchOrganisations(request, metadata=bearer(token))
        return [o.ref for o in found.organisations]

    assert search(name="riverside") == ["20000001"]  # not the administrator, not the revoked one
    assert search(town="LEEDS") == ["20000002", "20000001"]  # by name
    assert search(kind=self_pb.ORGANISATION_KIND_AWARDING_BODY) == ["20000003", "10000003"]
    assert search(name="%") == []  # the name is text, not a pattern
    assert search(ref="20000002") == ["20000002"]
    first = selfservice(api).SearchOrganisations(
        self_pb.SearchOrganisationsRequest(town="Leeds", page_size=1), metadata=bearer(token)
    )
    rest = selfservice(api).SearchOrganisations(
        self_pb.SearchOrganisationsRequest(town="Leeds", page_token=first.next_page_token),
        metadata=bearer(token),
    )
    assert [o.ref for o in [*first.organisations, *rest.organisations]] == ["20000002", "20000001"]
    assert not rest.next_page_token
    for ref in ("ADMIN002", "20000004", "99999999"):
        with pytest.raises(grpc.RpcError) as caught:
            _grant(api, token, ref)
        assert failure(caught.value).reason == "ORGANISATION_NOT_FOUND"
    with pytest.raises(grpc.RpcError) as caught:
        _grant(api, token, "")
    assert failure(caught.value).fields == {"organisation_ref": "FIELD_REQUIRED"}
    for bad, field, reason in (
        ({"page_size": 101}, "page_size", "PAGE_SIZE_INVALID"),
        ({"page_token": "abc"}, "page_token", "PAGE_TOKEN_INVALID"),
        ({"name": "x" * 201}, "name", "FIELD_TOO_LONG"),
        ({"town": "Leeds\u0000"}, "town", "TEXT_INVALID"),
    ):
        with pytest.raises(grpc.RpcError) as caught:
            search(**bad)
        refused = failure(caught.value)
        assert (refused.code, refused.fields) == (grpc.StatusCode.INVALID_ARGUMENT, {field: reason})
    with pytest.raises(grpc.RpcError) as caught:
        selfservice(api).ListGrants(self_pb.ListGrantsRequest(page_token="-1"), metadata=bearer(token))
    assert failure(caught.value).fields == {"page_token": "PAGE_TOKEN_INVALID"}
    # Organisations cannot search or grant: these are the learner's calls.
    with pytest.raises(grpc.RpcError) as caught:
        selfservice(api).SearchOrganisations(self_pb.SearchOrganisationsRequest(), metadata=api.auth())
    assert failure(caught.value).code == grpc.StatusCode.PERMISSION_DENIED


def test_a_grant_never_reaches_a_kind_without_the_read_right(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Take awarding bodies' read right away in the one table: they can be neither found nor granted,
    and a grant made before cannot be used."""
    board = _org(api, OrgKind.AWARDING_BODY, "20000003", "Northern Exams Board", "Manchester")
    uln = register_new(api).uln
    submit(api, api.auth(OrgKind.SCHOOL), result_row(uln, subject="History"))
    token = learner_token(api, uln)
    _choose(api, token, [self_pb.ORGANISATION_KIND_AWARDING_BODY])
    _grant(api, token, "20000003")
    policy = dict(auth.POLICY)
    policy[auth.RECORD_READ] = policy[auth.RECORD_READ] - {OrgKind.AWARDING_BODY}
    monkeypatch.setattr(auth, "POLICY", policy)
    restricted = LrsServer(
        api.engine, ServerConfig(listen="127.0.0.1:0", token_cache_seconds=0), clock=Clock(fixed=TODAY)
    )
    restricted.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{restricted.port}")
    try:
        learner = learner_service_pb2_grpc.LearnerSelfServiceStub(channel)
        request = self_pb.SearchOrganisationsRequest(kind=self_pb.ORGANISATION_KIND_AWARDING_BODY)
        with pytest.raises(grpc.RpcError) as caught:
            learner.SearchOrganisations(request, metadata=bearer(token))
        assert failure(caught.value).fields == {"kind": "ORGANISATION_KIND_INVALID"}
        found = learner.SearchOrganisations(self_pb.SearchOrganisationsRequest(), metadata=bearer(token))
        assert "20000003" not in [o.ref for o in found.organisations]
        with pytest.raises(grpc.RpcError) as caught:
            learner.CreateGrant(
                self_pb.CreateGrantRequest(organisation_ref="20000003"), metadata=bearer(token)
            )
        assert failure(caught.value).reason == "ORGANISATION_NOT_FOUND"
        with pytest.raises(grpc.RpcError) as caught:
            _read(record_service_pb2_grpc.LearnerRecordServiceStub(channel), board, uln)
        assert failure(caught.value).code == grpc.StatusCode.PERMISSION_DENIED
    finally:
        channel.close()
        restricted.stop(grace=1)


def test_a_grant_to_an_administrator_reveals_nothing_and_learners_still_read_only_their_own(api: Api) -> None:
    uln, token = _opted_out_learner(api)
    other = register_new(api, **SECOND).uln
    # Grants to administrators cannot be made through the API; one written straight to the database
    # (as a bug might) still opens nothing: only kinds a learner can withhold from are granted to.
    with SqlRecordStore(api.engine).write(()) as tx:
        learner = tx.learner_by_uln(uln)
        admin_org = tx.organisation_by_ref("ADMIN001")
        assert learner is not None and admin_org is not None
        tx.add_grant([learner.id], admin_org.id, TODAY, TODAY + timedelta(days=30))
    seen = record(api, api.auth(OrgKind.ADMIN), uln)
    assert seen.achievements_withheld and not seen.achievements
    with pytest.raises(grpc.RpcError) as caught:
        records = record_service_pb2_grpc.LearnerRecordServiceStub(api.channel)
        records.GetLearnerRecord(rec_pb.GetLearnerRecordRequest(uln=other), metadata=bearer(token))
    assert failure(caught.value).reason == "NOT_OWN_RECORD"


def test_a_schools_ability_to_share_never_overrides_the_learners_grant(api: Api) -> None:
    c, d = _colleges(api)
    request = register_request()
    request.ability_to_share = pb.SHARING_CHOICE_DO_NOT_SHARE
    uln = api.registration.RegisterLearner(request, metadata=api.auth()).learner.uln
    submit(api, api.auth(OrgKind.AWARDING_BODY), result_row(uln))
    token = learner_token(api, uln)
    _grant(api, token, "20000001")
    again = register_request()
    again.ability_to_share = pb.SHARING_CHOICE_DO_NOT_SHARE  # the school sends its choice again later
    api.registration.RegisterLearner(again, metadata=api.auth())
    assert _subjects(record(api, c, uln)) == {"Mathematics"}
    assert record(api, d, uln).achievements_withheld


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


def _pair(api: Api) -> tuple[str, str, str, str]:
    """Two records with a result each (Mathematics on the master, Biology on the other), and tokens."""
    master = register_new(api).uln
    linked = register_new(api, **SECOND).uln
    body = api.auth(OrgKind.AWARDING_BODY)
    submit(api, body, result_row(master), result_row(linked, given_name="Amarah", subject="Biology"))
    return master, linked, learner_token(api, master), learner_token(api, linked)


def test_a_grant_on_one_record_of_a_merged_pair_does_not_open_the_other(api: Api) -> None:
    c, d = _colleges(api)
    master, linked, master_token, _ = _pair(api)
    _choose(api, master_token, POST16)
    _grant(api, master_token, "20000001")
    _merge(api, master, linked)
    merged = record(api, c, master)
    assert _subjects(merged) == {"Mathematics"} and merged.achievements_withheld
    assert not record(api, d, master).achievements

    _grant(api, master_token, "20000001")  # granted again while merged: the whole record
    both = record(api, c, master)
    assert _subjects(both) == {"Mathematics", "Biology"} and not both.achievements_withheld

    # Undone: who made the grant while merged is not known, so neither record keeps it.
    _unmerge(api, linked)
    for uln, name in ((master, "Amara"), (linked, "Amarah")):
        after = record(api, c, uln, given_name=name)
        assert after.achievements_withheld and not after.achievements
    assert not selfservice(api).ListGrants(self_pb.ListGrantsRequest(), metadata=bearer(master_token)).grants


def test_a_grant_made_before_a_merge_keeps_to_its_own_record_through_the_unmerge(api: Api) -> None:
    c, d = _colleges(api)
    master, linked, _, linked_token = _pair(api)
    _choose(api, linked_token, POST16)
    _grant(api, linked_token, "20000001")
    _merge(api, master, linked)  # the master now withholds from post-16 too: the stricter choice
    merged = record(api, c, master)
    assert _subjects(merged) == {"Biology"} and merged.achievements_withheld
    assert not record(api, d, master).achievements
    _unmerge(api, linked)
    assert _subjects(record(api, c, linked, given_name="Amarah")) == {"Biology"}
    master_after = record(api, c, master)
    assert master_after.achievements_withheld and not master_after.achievements
    # Revoking while merged ends the grant on every record of the learner's.
    _merge(api, master, linked)
    assert _revoke(api, linked_token, "20000001") == 1
    assert not record(api, c, master).achievements
