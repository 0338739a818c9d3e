"""Identity free text with control characters, and names that spell out longer than the matcher's
frequency table holds, are refused field by field (INVALID_ARGUMENT), never INTERNAL: through
RegisterLearner, UpdateLearner and a batch stream, which goes on with its good rows."""

from __future__ import annotations

import grpc
import pytest

from lrs.v1 import batch_service_pb2 as batch_pb
from lrs.v1 import registration_service_pb2 as reg_pb
from tests.service.conftest import Api, Failure, failure
from tests.service.factories import identity, register_new, register_request

FREE_TEXT = ("email", "address_line1", "address_line2", "town", "county", "school_at_16", "place_of_birth")
# 35 characters (the limit) that spell out as 66 and as 630 letters: more than name_frequency holds.
SPELLED_OUT_TOO_LONG = {"family_name": "ﬃ" * 22, "given_name": "ﷺ" * 35}
# Ordinary names of the full 35 characters stay valid, accents and all.
ACCENTED_35 = {
    "given_name": "Éléonore-Françoise Ångström-Müllerö",
    "family_name": "Ó Súilleabháin-Þórsdóttir Ærøskøbin",
}


def refused(call) -> Failure:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as caught:
        call()
    return failure(caught.value)


@pytest.mark.parametrize("field", FREE_TEXT)
@pytest.mark.parametrize("control", ["\x00", "\x07", "\x7f"])
def test_registering_with_a_control_character_in_free_text_is_refused(
    api: Api, field: str, control: str
) -> None:
    value = f"a{control}@b.co" if field == "email" else f"1 High{control} Street"
    got = refused(
        lambda: api.registration.RegisterLearner(register_request(**{field: value}), metadata=api.auth())
    )
    assert (got.code, got.reason, got.fields) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "TEXT_INVALID",
        {f"identity.{field}": "TEXT_INVALID"},
    )
    # Nothing was registered: the same details without the bad field register a new learner.
    fresh = api.registration.RegisterLearner(register_request(), metadata=api.auth())
    assert fresh.outcome == reg_pb.REGISTRATION_OUTCOME_NEW


@pytest.mark.parametrize(("field", "name"), SPELLED_OUT_TOO_LONG.items())
def test_a_name_that_spells_out_too_long_is_refused_and_ordinary_long_names_register(
    api: Api, field: str, name: str
) -> None:
    got = refused(
        lambda: api.registration.RegisterLearner(register_request(**{field: name}), metadata=api.auth())
    )
    assert (got.code, got.fields) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        {f"identity.{field}": "FIELD_TOO_LONG"},
    )
    assert "spelled out" in got.message
    assert {len(name) for name in ACCENTED_35.values()} == {35}
    learner = register_new(api, **ACCENTED_35)
    assert (learner.identity.given_name, learner.identity.family_name) == tuple(ACCENTED_35.values())


def _update(api: Api, uln: str, etag: str, **overrides: str) -> Failure:
    request = reg_pb.UpdateLearnerRequest(uln=uln, identity=identity(**overrides), etag=etag)
    return refused(lambda: api.registration.UpdateLearner(request, metadata=api.auth()))


def test_an_update_with_bad_text_or_a_name_too_long_spelled_out_changes_nothing(api: Api) -> None:
    learner = register_new(api)
    got = _update(api, learner.uln, learner.etag, email="a\x00@b.co")
    assert (got.code, got.fields) == (grpc.StatusCode.INVALID_ARGUMENT, {"identity.email": "TEXT_INVALID"})
    got = _update(api, learner.uln, learner.etag, family_name="ﬃ" * 22, town="Lon\x00don")
    assert (got.code, got.fields) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        {"identity.family_name": "FIELD_TOO_LONG", "identity.town": "TEXT_INVALID"},
    )
    found = api.registration.FindLearnerByUln(
        reg_pb.FindLearnerByUlnRequest(uln=learner.uln, given_name="Amara", family_name="Okafor"),
        metadata=api.auth(),
    )
    assert found.learner.etag == learner.etag and found.learner.identity.family_name == "Okafor"


def test_a_batch_rejects_the_bad_rows_and_registers_the_good_ones(api: Api) -> None:
    rows = [
        batch_pb.BatchRow(row_number=1, mis_identifier="T-1", identity=identity()),
        batch_pb.BatchRow(
            row_number=2,
            mis_identifier="T-2",
            identity=identity(given_name="Bat", family_name="Nul", email="a\x00@b.co"),
        ),
        batch_pb.BatchRow(
            row_number=3,
            mis_identifier="T-3",
            identity=identity(given_name="Ffion", family_name="ﬃ" * 22, date_of_birth="2007-08-08"),
        ),
        batch_pb.BatchRow(
            row_number=4,
            mis_identifier="T-4",
            identity=identity(date_of_birth="2009-05-06", postcode="M1 1AE", **ACCENTED_35),
        ),
    ]
    responses = api.batch.BatchRegisterLearners(
        iter([batch_pb.BatchRegisterLearnersRequest(rows=rows)]), metadata=api.auth(), timeout=30
    )
    results = {r.row_number: r for response in responses for r in response.results}
    assert sorted(results) == [1, 2, 3, 4]
    assert (results[2].rejection_reason, list(results[2].rejected_fields)) == (
        "TEXT_INVALID",
        ["identity.email"],
    )
    assert (results[3].rejection_reason, list(results[3].rejected_fields)) == (
        "FIELD_TOO_LONG",
        ["identity.family_name"],
    )
    for good in (results[1], results[4]):
        assert good.outcome == reg_pb.REGISTRATION_OUTCOME_NEW and good.uln and not good.rejection_reason
