"""RegisterLearner through a real server."""

from __future__ import annotations

import grpc
import pytest

from lrs.v1 import registration_service_pb2 as reg_pb
from lrs_server.domain import uln as uln_rules
from lrs_server.domain.model import OrgKind
from tests.service.conftest import Api, failure
from tests.service.factories import SOMEONE_ELSE, register_request

NEW = reg_pb.REGISTRATION_OUTCOME_NEW
MATCHED = reg_pb.REGISTRATION_OUTCOME_MATCHED
POSSIBLE = reg_pb.REGISTRATION_OUTCOME_POSSIBLE_MATCH


def test_new_learner_gets_a_valid_uln_and_again_is_matched(api: Api) -> None:
    first = api.registration.RegisterLearner(register_request(), metadata=api.auth())
    assert first.outcome == NEW
    assert uln_rules.is_valid(first.learner.uln)
    again = api.registration.RegisterLearner(
        register_request(given_name=" amara ", family_name="OKAFOR", postcode="sw1a1aa"), metadata=api.auth()
    )
    assert again.outcome == MATCHED
    assert again.learner.uln == first.learner.uln


def test_another_school_registering_the_same_pupil_gets_the_same_uln(api: Api) -> None:
    first = api.registration.RegisterLearner(register_request(), metadata=api.auth())
    other = api.add_school("200002")
    again = api.registration.RegisterLearner(register_request(postcode="SW1A 2AA"), metadata=other)
    assert again.outcome == MATCHED
    assert again.learner.uln == first.learner.uln


def test_the_same_name_and_birth_date_at_the_other_end_of_the_country_goes_to_review(api: Api) -> None:
    """Nothing about the place agrees (London, then Manchester; no UPN): a namesake as often as not at
    national scale, so a reviewer decides (MatcherConfig.unplaced_upper_threshold)."""
    first = api.registration.RegisterLearner(register_request(), metadata=api.auth())
    other = api.add_school("200002")
    again = api.registration.RegisterLearner(register_request(postcode="M1 1AE"), metadata=other)
    assert again.outcome == POSSIBLE
    assert [c.learner.uln for c in again.candidates] == [first.learner.uln]


def test_retried_request_id_returns_the_first_answer(api: Api) -> None:
    first = api.registration.RegisterLearner(register_request(request_id="r-1"), metadata=api.auth())
    retry = api.registration.RegisterLearner(register_request(request_id="r-1"), metadata=api.auth())
    assert first.outcome == retry.outcome == NEW
    assert retry.learner.uln == first.learner.uln


def test_under_fourteen_is_refused_unless_post14(api: Api) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        api.registration.RegisterLearner(register_request(date_of_birth="2013-03-14"), metadata=api.auth())
    bad = failure(caught.value)
    assert bad.code == grpc.StatusCode.INVALID_ARGUMENT
    assert bad.reason == "UNDER_MINIMUM_AGE"
    assert bad.fields == {"identity.date_of_birth": "UNDER_MINIMUM_AGE"}
    allowed = api.registration.RegisterLearner(
        register_request(date_of_birth="2013-03-14", post14_qualification=True), metadata=api.auth()
    )
    assert allowed.outcome == NEW


def test_fourteenth_birthday_today_is_old_enough(api: Api) -> None:
    response = api.registration.RegisterLearner(
        register_request(date_of_birth="2012-11-28"), metadata=api.auth()
    )
    assert response.outcome == NEW
    with pytest.raises(grpc.RpcError) as caught:
        api.registration.RegisterLearner(
            register_request(given_name="Bea", date_of_birth="2012-11-29"), metadata=api.auth()
        )
    assert failure(caught.value).reason == "UNDER_MINIMUM_AGE"


def test_empty_request_lists_every_missing_field(api: Api) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        api.registration.RegisterLearner(reg_pb.RegisterLearnerRequest(), metadata=api.auth())
    bad = failure(caught.value)
    assert bad.code == grpc.StatusCode.INVALID_ARGUMENT
    assert bad.fields == {
        f"identity.{name}": "FIELD_REQUIRED"
        for name in ("given_name", "family_name", "date_of_birth", "gender", "postcode")
    }


@pytest.mark.parametrize(
    ("overrides", "field", "reason"),
    [
        ({"given_name": "A" * 36}, "identity.given_name", "FIELD_TOO_LONG"),
        ({"family_name": "Smith3"}, "identity.family_name", "NAME_INVALID"),
        ({"family_name": "---"}, "identity.family_name", "NAME_INVALID"),
        ({"postcode": "NOT A POSTCODE"}, "identity.postcode", "POSTCODE_INVALID"),
        ({"date_of_birth": "1899-12-31"}, "identity.date_of_birth", "DATE_OF_BIRTH_INVALID"),
        ({"date_of_birth": "2026-11-29"}, "identity.date_of_birth", "DATE_OF_BIRTH_INVALID"),
        ({"date_of_birth": "14/03/2011"}, "identity.date_of_birth", "DATE_OF_BIRTH_INVALID"),
        ({"date_of_birth": "2011-02-30"}, "identity.date_of_birth", "DATE_OF_BIRTH_INVALID"),
        ({"email": "not-an-email"}, "identity.email", "EMAIL_INVALID"),
        ({"upn": "Z801200001001"}, "identity.upn", "UPN_INVALID"),
    ],
)
def test_bad_fields_are_named(api: Api, overrides: dict[str, str], field: str, reason: str) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        api.registration.RegisterLearner(register_request(**overrides), metadata=api.auth())
    bad = failure(caught.value)
    assert bad.code == grpc.StatusCode.INVALID_ARGUMENT
    assert bad.reason == reason
    assert bad.fields == {field: reason}


def test_names_of_any_script_and_not_known_postcode_are_accepted(api: Api) -> None:
    response = api.registration.RegisterLearner(
        register_request(
            given_name="Zoë-Anne", family_name="O’Néill Ó Sé", postcode="zz99 3cz", upn="H801200001001"
        ),
        metadata=api.auth(),
    )
    assert response.outcome == NEW
    assert response.learner.identity.postcode == "ZZ99 3CZ"
    assert response.learner.identity.family_name == "O’Néill Ó Sé"


def test_only_schools_and_admins_may_register(api: Api) -> None:
    for kind in (OrgKind.POST16, OrgKind.AWARDING_BODY):
        with pytest.raises(grpc.RpcError) as caught:
            api.registration.RegisterLearner(register_request(), metadata=api.auth(kind))
        assert failure(caught.value).code == grpc.StatusCode.PERMISSION_DENIED
        assert failure(caught.value).reason == "CALLER_NOT_PERMITTED"


def test_a_request_id_re_used_for_another_person_gives_no_one_s_uln(api: Api) -> None:
    """A client that re-uses an idempotency key for a different pupil must not be handed the first
    pupil's ULN (its MIS would then hold another child's number)."""
    first = api.registration.RegisterLearner(register_request(request_id="r-9"), metadata=api.auth())
    assert first.outcome == NEW
    other = register_request(request_id="r-9", **SOMEONE_ELSE)
    with pytest.raises(grpc.RpcError) as caught:
        api.registration.RegisterLearner(other, metadata=api.auth())
    bad = failure(caught.value)
    assert (bad.code, bad.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "REQUEST_ID_REUSED")
    assert bad.fields == {"request_id": "REQUEST_ID_REUSED"}
    assert first.learner.uln not in bad.message
    moved = api.registration.RegisterLearner(
        register_request(request_id="r-9", postcode="M1 1AE"), metadata=api.auth()
    )
    assert moved.learner.uln == first.learner.uln  # a retry with a detail corrected is still the retry
