"""FindLearnerByUln, FindLearnerByDemographics and VerifyLearner through a real server."""

from __future__ import annotations

import grpc
import pytest

from lrs.v1 import learner_pb2 as pb
from lrs.v1 import registration_service_pb2 as reg_pb
from lrs_server.domain import uln as uln_rules
from lrs_server.domain.model import OrgKind
from tests.service.conftest import Api, Failure, failure
from tests.service.factories import identity, register_new

UNKNOWN_ULN = "1000000043"  # valid checksum, never issued in these tests (issue is random)
FULL = {
    "upn": "H801200001001",
    "email": "amara@example.org",
    "address_line1": "1 High Street",
    "town": "London",
    "school_at_16": "Test Academy",
    "previous_family_name": "Adeyemi",
}


def find_by_uln(
    api: Api, uln: str, given: str = "Amara", family: str = "Okafor", kind: OrgKind = OrgKind.SCHOOL
):
    request = reg_pb.FindLearnerByUlnRequest(uln=uln, given_name=given, family_name=family)
    return api.registration.FindLearnerByUln(request, metadata=api.auth(kind))


def refused(call) -> Failure:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as caught:
        call()
    return failure(caught.value)


def find(
    api: Api, kind: OrgKind = OrgKind.SCHOOL, **overrides: object
) -> reg_pb.FindLearnerByDemographicsResponse:
    request = reg_pb.FindLearnerByDemographicsRequest(identity=identity(**overrides))
    return api.registration.FindLearnerByDemographics(request, metadata=api.auth(kind))


def verify(api: Api, uln: str, **fields: object) -> reg_pb.VerifyLearnerResponse:
    values: dict[str, object] = {"given_name": "Amara", "family_name": "Okafor"}
    values.update(fields)
    return api.registration.VerifyLearner(reg_pb.VerifyLearnerRequest(uln=uln, **values), metadata=api.auth())


# -- FindLearnerByUln ---------------------------------------------------------------------------


def test_find_by_uln_with_matching_names(api: Api) -> None:
    learner = register_new(api)
    found = find_by_uln(api, learner.uln, given="  amara ", family="OKAFOR")
    assert found.learner.uln == learner.uln
    assert found.learner.identity.given_name == "Amara"
    assert found.learner.identity.date_of_birth == "2011-03-14"
    assert not found.master_substituted
    assert found.learner.etag


def test_wrong_names_and_unknown_uln_are_indistinguishable(api: Api) -> None:
    learner = register_new(api)
    wrong_given = refused(lambda: find_by_uln(api, learner.uln, given="Zebedee"))
    wrong_family = refused(lambda: find_by_uln(api, learner.uln, family="Smith"))
    unknown = refused(lambda: find_by_uln(api, UNKNOWN_ULN))
    for answer in (wrong_given, wrong_family, unknown):
        assert answer.code == grpc.StatusCode.NOT_FOUND
        assert answer.reason == "LEARNER_NOT_FOUND"
        assert answer.fields == {}
    assert wrong_given.message == wrong_family.message == unknown.message
    assert learner.uln not in wrong_given.message


@pytest.mark.parametrize(
    ("uln", "reason"),
    [
        ("1748529631", "ULN_CHECKSUM_INVALID"),
        ("9999999999", "ULN_CHECKSUM_INVALID"),
        ("12345", "ULN_FORMAT_INVALID"),
        ("0123456789", "ULN_FORMAT_INVALID"),
        ("９２７６３０８６８６", "ULN_FORMAT_INVALID"),
        ("", "FIELD_REQUIRED"),
    ],
)
def test_bad_uln_is_invalid_argument_on_the_uln_field(api: Api, uln: str, reason: str) -> None:
    bad = refused(lambda: find_by_uln(api, uln))
    assert bad.code == grpc.StatusCode.INVALID_ARGUMENT
    assert bad.reason == reason
    assert bad.fields == {"uln": reason}


def test_names_are_required(api: Api) -> None:
    learner = register_new(api)
    bad = refused(lambda: find_by_uln(api, learner.uln, given="", family=" "))
    assert bad.code == grpc.StatusCode.INVALID_ARGUMENT
    assert bad.reason == "FIELD_REQUIRED"
    assert bad.fields == {"given_name": "FIELD_REQUIRED", "family_name": "FIELD_REQUIRED"}


def test_post16_callers_see_no_address_email_upn_or_postcode(api: Api) -> None:
    learner = register_new(api, **FULL)
    school = find_by_uln(api, learner.uln).learner.identity
    assert school.upn == FULL["upn"]
    assert school.email == FULL["email"]
    assert school.postcode == "SW1A 1AA"
    assert school.address_line1 == FULL["address_line1"]
    assert school.town == FULL["town"]
    for kind in (OrgKind.POST16, OrgKind.AWARDING_BODY):
        seen = find_by_uln(api, learner.uln, kind=kind).learner
        hidden = seen.identity
        assert (hidden.upn, hidden.email, hidden.postcode, hidden.address_line1, hidden.town) == ("",) * 5
        assert hidden.given_name == "Amara"
        assert hidden.date_of_birth == "2011-03-14"
        assert hidden.previous_family_name == "Adeyemi"
    assert find_by_uln(api, learner.uln, kind=OrgKind.POST16).learner.identity.school_at_16 == "Test Academy"


def test_post16_candidates_of_a_demographic_search_are_minimised_too(api: Api) -> None:
    register_new(api, **FULL)
    for kind in (OrgKind.POST16, OrgKind.AWARDING_BODY):
        response = find(api, kind=kind)
        assert response.outcome == reg_pb.FIND_OUTCOME_EXACT_MATCH
        shown = response.candidates[0].learner.identity
        assert (shown.upn, shown.email, shown.postcode, shown.address_line1) == ("", "", "", "")


# -- FindLearnerByDemographics -----------------------------------------------------------------


def test_exact_match(api: Api) -> None:
    learner = register_new(api)
    response = find(api, given_name="AMARA", postcode="sw1a 1aa")
    assert response.outcome == reg_pb.FIND_OUTCOME_EXACT_MATCH
    assert [c.learner.uln for c in response.candidates] == [learner.uln]
    assert response.candidates[0].comparisons
    assert 0 < response.candidates[0].match_probability <= 1


def test_no_match(api: Api) -> None:
    register_new(api)
    response = find(
        api, given_name="Zebedee", family_name="Quigley", date_of_birth="1990-01-01", gender=pb.GENDER_MALE
    )
    assert response.outcome == reg_pb.FIND_OUTCOME_NO_MATCH
    assert list(response.candidates) == []


def test_no_match_on_an_empty_registry(api: Api) -> None:
    assert find(api).outcome == reg_pb.FIND_OUTCOME_NO_MATCH


def test_possible_matches_are_returned_best_first(api: Api) -> None:
    a = register_new(api, given_name="Amara")
    b = register_new(api, given_name="Chidi")
    # A typo and another postcode: close to Amara, but not a sure match.
    response = find(api, given_name="Amarb", postcode="M1 1AE")
    assert response.outcome == reg_pb.FIND_OUTCOME_POSSIBLE_MATCHES
    ulns = [c.learner.uln for c in response.candidates]
    assert a.uln in ulns
    assert 1 <= len(ulns) <= 10
    weights = [c.match_weight for c in response.candidates]
    assert weights == sorted(weights, reverse=True)
    assert ulns[0] == a.uln
    assert b.uln not in ulns


SIMILAR_NAMES = [
    "Amara",
    "Amira",
    "Amora",
    "Amura",
    "Amari",
    "Amare",
    "Amaro",
    "Amaru",
    "Amarah",
    "Amarra",
    "Ammara",
    "Amarae",
    "Amarai",
]


def test_too_many_matches_returns_none(api: Api) -> None:
    ulns = {register_new(api, given_name=name).uln for name in SIMILAR_NAMES}
    assert len(ulns) > 10, "the set-up needs more than 10 distinct learners"
    # A dozen learners share family name, date of birth, gender and postcode, with close given names.
    response = find(api, given_name="Amara")
    assert response.outcome == reg_pb.FIND_OUTCOME_TOO_MANY_MATCHES
    assert list(response.candidates) == []


def test_find_by_demographics_validates_the_identity(api: Api) -> None:
    bad = refused(lambda: find(api, given_name="", postcode="nope", gender=pb.GENDER_UNSPECIFIED))
    assert bad.code == grpc.StatusCode.INVALID_ARGUMENT
    assert bad.fields == {
        "identity.given_name": "FIELD_REQUIRED",
        "identity.postcode": "POSTCODE_INVALID",
        "identity.gender": "FIELD_REQUIRED",
    }


# -- VerifyLearner -----------------------------------------------------------------------------


def test_verified(api: Api) -> None:
    learner = register_new(api)
    response = verify(api, learner.uln, date_of_birth="2011-03-14", gender=pb.GENDER_FEMALE)
    assert response.outcome == reg_pb.VERIFICATION_OUTCOME_VERIFIED
    assert response.uln == learner.uln
    assert list(response.mismatched_fields) == []


def test_verified_ignores_case_accents_and_spacing(api: Api) -> None:
    learner = register_new(api, family_name="O’Néill")
    response = verify(api, learner.uln, given_name=" AMARA", family_name="o neill")
    assert response.outcome == reg_pb.VERIFICATION_OUTCOME_VERIFIED


def test_similar_on_a_typo(api: Api) -> None:
    learner = register_new(api, given_name="Christopher")
    response = verify(api, learner.uln, given_name="Christophre")
    assert response.outcome == reg_pb.VERIFICATION_OUTCOME_SIMILAR
    assert list(response.mismatched_fields) == [reg_pb.VERIFICATION_FIELD_GIVEN_NAME]


def test_swapped_names_are_similar(api: Api) -> None:
    learner = register_new(api)
    response = verify(api, learner.uln, given_name="Okafor", family_name="Amara")
    assert response.outcome == reg_pb.VERIFICATION_OUTCOME_SIMILAR


@pytest.mark.parametrize(
    ("fields", "mismatched"),
    [
        ({"given_name": "Zebedee"}, [reg_pb.VERIFICATION_FIELD_GIVEN_NAME]),
        ({"family_name": "Quigley"}, [reg_pb.VERIFICATION_FIELD_FAMILY_NAME]),
        ({"date_of_birth": "2011-03-15"}, [reg_pb.VERIFICATION_FIELD_DATE_OF_BIRTH]),
        ({"gender": pb.GENDER_MALE}, [reg_pb.VERIFICATION_FIELD_GENDER]),
        (
            {
                "given_name": "Zebedee",
                "family_name": "Quigley",
                "date_of_birth": "2000-01-01",
                "gender": pb.GENDER_MALE,
            },
            [
                reg_pb.VERIFICATION_FIELD_GIVEN_NAME,
                reg_pb.VERIFICATION_FIELD_FAMILY_NAME,
                reg_pb.VERIFICATION_FIELD_DATE_OF_BIRTH,
                reg_pb.VERIFICATION_FIELD_GENDER,
            ],
        ),
    ],
)
def test_mismatch_names_the_fields(api: Api, fields: dict[str, object], mismatched: list[int]) -> None:
    learner = register_new(api)
    response = verify(api, learner.uln, **fields)
    assert response.outcome == reg_pb.VERIFICATION_OUTCOME_MISMATCH
    assert response.uln == learner.uln
    assert sorted(response.mismatched_fields) == sorted(mismatched)


def test_unknown_or_unspecified_gender_is_not_a_mismatch(api: Api) -> None:
    learner = register_new(api)
    for gender in (pb.GENDER_UNSPECIFIED, pb.GENDER_NOT_KNOWN, pb.GENDER_NOT_SPECIFIED):
        assert verify(api, learner.uln, gender=gender).outcome == reg_pb.VERIFICATION_OUTCOME_VERIFIED


def test_family_name_is_checked_against_the_previous_family_name(api: Api) -> None:
    learner = register_new(api)
    api.registration.UpdateLearner(
        reg_pb.UpdateLearnerRequest(
            uln=learner.uln, identity=identity(family_name="Mensah"), etag=learner.etag
        ),
        metadata=api.auth(),
    )
    with_old = verify(api, learner.uln, family_name="Okafor")
    assert with_old.outcome in (reg_pb.VERIFICATION_OUTCOME_VERIFIED, reg_pb.VERIFICATION_OUTCOME_SIMILAR)
    assert verify(api, learner.uln, family_name="Mensah").outcome == reg_pb.VERIFICATION_OUTCOME_VERIFIED
    assert verify(api, learner.uln, family_name="Quigley").outcome == reg_pb.VERIFICATION_OUTCOME_MISMATCH


def test_previous_family_name_given_at_registration_also_verifies(api: Api) -> None:
    learner = register_new(api, previous_family_name="Adeyemi")
    assert verify(api, learner.uln, family_name="Adeyemi").outcome == reg_pb.VERIFICATION_OUTCOME_VERIFIED


def test_not_found_for_a_valid_unknown_uln(api: Api) -> None:
    register_new(api)
    response = verify(api, UNKNOWN_ULN)
    assert response.outcome == reg_pb.VERIFICATION_OUTCOME_NOT_FOUND
    assert response.uln == UNKNOWN_ULN
    assert uln_rules.is_valid(UNKNOWN_ULN)


def test_verify_rejects_bad_input(api: Api) -> None:
    bad = refused(lambda: verify(api, "1748529631", given_name="", date_of_birth="14/03/2011"))
    assert bad.code == grpc.StatusCode.INVALID_ARGUMENT
    assert bad.fields == {
        "uln": "ULN_CHECKSUM_INVALID",
        "given_name": "FIELD_REQUIRED",
        "date_of_birth": "DATE_OF_BIRTH_INVALID",
    }


# LINKED (a ULN merged into a master) is covered in tests/records/test_linked_verify.py.
