"""Arbitrary input never makes the server fail with INTERNAL or UNKNOWN: it answers, or refuses cleanly."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lrs.v1 import learner_pb2 as pb
from lrs.v1 import registration_service_pb2 as reg_pb
from tests.service.conftest import Api, failure
from tests.service.factories import identity, register_new

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
VALID = {
    "given_name": "Amara",
    "family_name": "Okafor",
    "date_of_birth": "2011-03-14",
    "postcode": "SW1A 1AA",
}
TEXT_FIELDS = [f.name for f in pb.LearnerIdentity.DESCRIPTOR.fields if f.name != "gender"]

nasty = st.sampled_from(
    ["\x00", "\u200f", "\u202e", "\u200b", "\ufeff", "\U0001f600", "e\u0301", "ß", "İ", "\n", " "]
)
garbage = st.one_of(
    st.text(max_size=40),
    st.lists(st.one_of(nasty, st.text(max_size=3)), max_size=20).map("".join),
    st.builds(lambda s, n: s * n, st.text(min_size=1, max_size=4), st.integers(100, 2500)),  # up to 10k
    st.sampled_from(
        ["2011-03-14", "SW1A 1AA", "H801200001001", "9276308686", "a@b.co", "9999-99-99", "0000-01-01"]
    ),
)
genders = st.one_of(st.integers(0, 4), st.integers(-(2**31), 2**31 - 1))


# The postcode's violation message quotes (the start of) what was sent; generated ones stay short
# so the examples stay readable; test_huge_postcode_is_refused_with_details covers huge ones.
short_garbage = st.one_of(
    st.text(max_size=40), st.lists(st.one_of(nasty, st.text(max_size=3)), max_size=20).map("".join)
)


def field_value(name: str) -> st.SearchStrategy[str]:
    valid = VALID.get(name, "")
    noise = short_garbage if name == "postcode" else garbage
    return st.one_of(st.just(valid), noise) if valid else st.one_of(st.just(""), noise)


identities = st.builds(
    lambda values, gender: pb.LearnerIdentity(gender=gender, **values),
    st.fixed_dictionaries({name: field_value(name) for name in TEXT_FIELDS}),
    genders,
)


def assert_clean(call: Callable[[], Any]) -> None:
    try:
        call()
    except grpc.RpcError as error:
        bad = failure(error)
        assert bad.code not in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN), bad
        assert bad.reason, f"no ErrorInfo detail: {bad}"
        if bad.code == grpc.StatusCode.INVALID_ARGUMENT:
            assert bad.fields, f"INVALID_ARGUMENT without field violations: {bad}"


@pytest.mark.parametrize("postcode", ["x" * 10_000, "\u200f" * 5_000])
def test_huge_postcode_is_refused_with_details(api: Api, postcode: str) -> None:
    request = reg_pb.RegisterLearnerRequest(identity=identity(postcode=postcode))
    with pytest.raises(grpc.RpcError) as caught:
        api.registration.RegisterLearner(request, metadata=api.auth(), timeout=30)
    bad = failure(caught.value)
    assert (bad.code, bad.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "POSTCODE_INVALID")
    assert bad.fields == {"identity.postcode": "POSTCODE_INVALID"}


def test_register_learner(api: Api) -> None:
    @SETTINGS
    @given(
        identities,
        garbage,
        garbage,
        st.booleans(),
        st.sampled_from([None, "confirm_uln", "confirm_new_reason"]),
        garbage,
    )
    def run(
        identity: pb.LearnerIdentity,
        request_id: str,
        mis: str,
        post14: bool,
        decision: str | None,
        value: str,
    ) -> None:
        request = reg_pb.RegisterLearnerRequest(
            identity=identity, request_id=request_id, mis_identifier=mis, post14_qualification=post14
        )
        if decision:
            setattr(request.confirmation, decision, value)
        assert_clean(lambda: api.registration.RegisterLearner(request, metadata=api.auth(), timeout=30))

    run()


def test_find_learner_by_demographics(api: Api) -> None:
    register_new(api)

    @SETTINGS
    @given(identities)
    def run(identity: pb.LearnerIdentity) -> None:
        request = reg_pb.FindLearnerByDemographicsRequest(identity=identity)
        assert_clean(
            lambda: api.registration.FindLearnerByDemographics(request, metadata=api.auth(), timeout=30)
        )

    run()


def test_find_learner_by_uln(api: Api) -> None:
    learner = register_new(api)

    @SETTINGS
    @given(st.one_of(st.just(learner.uln), garbage), field_value("given_name"), field_value("family_name"))
    def run(uln: str, given_name: str, family_name: str) -> None:
        request = reg_pb.FindLearnerByUlnRequest(uln=uln, given_name=given_name, family_name=family_name)
        assert_clean(lambda: api.registration.FindLearnerByUln(request, metadata=api.auth(), timeout=30))

    run()


def test_verify_learner(api: Api) -> None:
    learner = register_new(api)

    @SETTINGS
    @given(
        st.one_of(st.just(learner.uln), garbage),
        field_value("given_name"),
        field_value("family_name"),
        field_value("date_of_birth"),
        genders,
    )
    def run(uln: str, given_name: str, family_name: str, born: str, gender: int) -> None:
        request = reg_pb.VerifyLearnerRequest(
            uln=uln, given_name=given_name, family_name=family_name, date_of_birth=born, gender=gender
        )
        assert_clean(lambda: api.registration.VerifyLearner(request, metadata=api.auth(), timeout=30))

    run()


def test_update_learner(api: Api) -> None:
    learner = register_new(api)

    @SETTINGS
    @given(
        st.one_of(st.just(learner.uln), garbage),
        identities,
        st.one_of(st.just(""), st.just(learner.etag), garbage),
    )
    def run(uln: str, identity: pb.LearnerIdentity, etag: str) -> None:
        request = reg_pb.UpdateLearnerRequest(uln=uln, identity=identity, etag=etag)
        assert_clean(lambda: api.registration.UpdateLearner(request, metadata=api.auth(), timeout=30))

    run()
