"""UpdateLearner through a real server."""

from __future__ import annotations

import grpc
import pytest

from lrs.v1 import learner_pb2 as pb
from lrs.v1 import registration_service_pb2 as reg_pb
from lrs_server.domain.model import OrgKind
from tests.service.conftest import Api, Failure, failure
from tests.service.factories import identity, register_new


def update(
    api: Api, uln: str, etag: str = "", kind: OrgKind = OrgKind.SCHOOL, **overrides: object
) -> pb.Learner:
    request = reg_pb.UpdateLearnerRequest(uln=uln, identity=identity(**overrides), etag=etag)
    return api.registration.UpdateLearner(request, metadata=api.auth(kind)).learner


def refused(call) -> Failure:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as caught:
        call()
    return failure(caught.value)


def test_family_name_change_keeps_the_old_name(api: Api) -> None:
    learner = register_new(api)
    updated = update(api, learner.uln, learner.etag, family_name="Mensah", postcode="m1 1ae")
    assert updated.uln == learner.uln
    assert updated.identity.family_name == "Mensah"
    assert updated.identity.postcode == "M1 1AE"
    assert list(updated.previous_family_names) == ["Okafor"]
    assert updated.etag and updated.etag != learner.etag
    # Still found by the old family name, by ULN and by demographics.
    by_uln = api.registration.FindLearnerByUln(
        reg_pb.FindLearnerByUlnRequest(uln=learner.uln, given_name="Amara", family_name="Okafor"),
        metadata=api.auth(),
    )
    assert by_uln.learner.identity.family_name == "Mensah"
    assert list(by_uln.learner.previous_family_names) == ["Okafor"]
    found = api.registration.FindLearnerByDemographics(
        reg_pb.FindLearnerByDemographicsRequest(identity=identity(postcode="M1 1AE")), metadata=api.auth()
    )
    assert found.outcome in (reg_pb.FIND_OUTCOME_EXACT_MATCH, reg_pb.FIND_OUTCOME_POSSIBLE_MATCHES)
    assert learner.uln in [c.learner.uln for c in found.candidates]


def test_second_family_name_change_keeps_both(api: Api) -> None:
    learner = register_new(api)
    first = update(api, learner.uln, learner.etag, family_name="Mensah")
    second = update(api, learner.uln, first.etag, family_name="Boateng")
    assert set(second.previous_family_names) == {"Okafor", "Mensah"}
    assert second.previous_family_names[0] == "Mensah"  # most recent first (learner.proto)


def test_re_registering_after_a_change_matches_the_same_learner(api: Api) -> None:
    learner = register_new(api)
    update(api, learner.uln, learner.etag, family_name="Mensah")
    again = api.registration.RegisterLearner(
        reg_pb.RegisterLearnerRequest(identity=identity(family_name="Mensah")), metadata=api.auth()
    )
    assert again.outcome == reg_pb.REGISTRATION_OUTCOME_MATCHED
    assert again.learner.uln == learner.uln


def test_stale_etag_is_a_version_conflict(api: Api) -> None:
    learner = register_new(api)
    update(api, learner.uln, learner.etag, given_name="Amarachi")
    bad = refused(lambda: update(api, learner.uln, learner.etag, given_name="Ama"))
    assert bad.code == grpc.StatusCode.ABORTED
    assert bad.reason == "VERSION_CONFLICT"
    current = api.registration.FindLearnerByUln(
        reg_pb.FindLearnerByUlnRequest(uln=learner.uln, given_name="Amarachi", family_name="Okafor"),
        metadata=api.auth(),
    ).learner
    assert current.identity.given_name == "Amarachi"  # the refused update changed nothing


def test_made_up_etag_is_a_version_conflict(api: Api) -> None:
    learner = register_new(api)
    bad = refused(lambda: update(api, learner.uln, 'W/"99"', given_name="Ama"))
    assert (bad.code, bad.reason) == (grpc.StatusCode.ABORTED, "VERSION_CONFLICT")


def test_unknown_uln_is_not_found(api: Api) -> None:
    bad = refused(lambda: update(api, "1000000043"))
    assert bad.code == grpc.StatusCode.NOT_FOUND
    assert bad.reason == "LEARNER_NOT_FOUND"


def test_bad_fields_are_invalid_argument_with_violations(api: Api) -> None:
    learner = register_new(api)
    bad = refused(
        lambda: update(
            api,
            learner.uln,
            learner.etag,
            given_name="",
            family_name="Smith3",
            postcode="nowhere",
            upn="Z801200001001",
        )
    )
    assert bad.code == grpc.StatusCode.INVALID_ARGUMENT
    assert bad.fields == {
        "identity.given_name": "FIELD_REQUIRED",
        "identity.family_name": "NAME_INVALID",
        "identity.postcode": "POSTCODE_INVALID",
        "identity.upn": "UPN_INVALID",
    }
    bad_uln = refused(lambda: update(api, "1748529631"))
    assert bad_uln.fields == {"uln": "ULN_CHECKSUM_INVALID"}


@pytest.mark.parametrize("kind", [OrgKind.POST16, OrgKind.AWARDING_BODY])
def test_post16_and_awarding_bodies_may_not_update(api: Api, kind: OrgKind) -> None:
    learner = register_new(api)
    bad = refused(lambda: update(api, learner.uln, learner.etag, kind=kind, family_name="Mensah"))
    assert bad.code == grpc.StatusCode.PERMISSION_DENIED
    assert bad.reason == "CALLER_NOT_PERMITTED"


def test_admin_may_update(api: Api) -> None:
    learner = register_new(api)
    assert (
        update(api, learner.uln, learner.etag, kind=OrgKind.ADMIN, given_name="Ama").identity.given_name
        == "Ama"
    )


def _update_as(
    api: Api, school: tuple[tuple[str, str], ...], uln: str, etag: str, **changes: object
) -> pb.Learner:
    request = reg_pb.UpdateLearnerRequest(uln=uln, identity=identity(**changes), etag=etag)
    return api.registration.UpdateLearner(request, metadata=school).learner


def test_a_school_may_not_update_a_learner_it_has_never_registered(api: Api) -> None:
    """Knowing a ULN is not enough to rewrite someone's identity: the answer is the one an unknown ULN
    gets (nothing about the learner, not even whether the ULN exists, whatever the etag), and
    nothing is written."""
    learner = register_new(api)
    stranger = api.add_school("STRANGER")
    for etag in ("", learner.etag, 'W/"99"'):
        bad = refused(lambda etag=etag: _update_as(api, stranger, learner.uln, etag, given_name="Oliver"))
        unknown = refused(
            lambda etag=etag: _update_as(api, stranger, "1000000043", etag, given_name="Oliver")
        )
        assert (
            (bad.code, bad.reason)
            == (unknown.code, unknown.reason)
            == (
                grpc.StatusCode.NOT_FOUND,
                "LEARNER_NOT_FOUND",
            )
        )
    found = api.registration.FindLearnerByUln(
        reg_pb.FindLearnerByUlnRequest(uln=learner.uln, given_name="Amara", family_name="Okafor"),
        metadata=api.auth(),
    )
    assert found.learner.etag == learner.etag  # unchanged


def test_a_school_that_was_answered_matched_may_update(api: Api) -> None:
    """A pupil who moves school: the new school registers them (MATCHED to their ULN) and may then
    correct their details."""
    learner = register_new(api)
    new_school = api.add_school("NEW-SCHOOL")
    joined = api.registration.RegisterLearner(
        reg_pb.RegisterLearnerRequest(identity=identity()), metadata=new_school
    )
    assert (joined.outcome, joined.learner.uln) == (reg_pb.REGISTRATION_OUTCOME_MATCHED, learner.uln)
    moved = _update_as(api, new_school, learner.uln, joined.learner.etag, postcode="M1 1AE")
    assert moved.identity.postcode == "M1 1AE"
