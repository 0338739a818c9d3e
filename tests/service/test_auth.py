"""Authentication and the authorisation table (lrs_server/auth.py POLICY) through a real server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sqlalchemy import select, text

from lrs.v1 import batch_service_pb2, registration_service_pb2
from lrs.v1 import batch_service_pb2 as batch_pb
from lrs.v1 import registration_service_pb2 as reg_pb
from lrs_server import auth as auth_module
from lrs_server.auth import POLICY, Caller
from lrs_server.domain.model import LearnerKind, OrgKind
from lrs_server.storage.organisations import TOKEN, OrganisationStore, hash_token
from tests.records.conftest import learner_token
from tests.service.conftest import ORG_REFS, Api, Failure, failure
from tests.service.factories import register_request

Metadata = tuple[tuple[str, str], ...]


def _unary(name: str, request: Any) -> Callable[[Api, Metadata], Any]:
    return lambda api, md: getattr(api.registration, name)(request, metadata=md, timeout=10)


def _batch(api: Api, md: Metadata) -> Any:
    return list(
        api.batch.BatchRegisterLearners(
            iter([batch_pb.BatchRegisterLearnersRequest()]), metadata=md, timeout=10
        )
    )


CALLS: dict[str, Callable[[Api, Metadata], Any]] = {
    "/lrs.v1.LearnerRegistrationService/RegisterLearner": _unary(
        "RegisterLearner", reg_pb.RegisterLearnerRequest()
    ),
    "/lrs.v1.LearnerRegistrationService/UpdateLearner": _unary(
        "UpdateLearner", reg_pb.UpdateLearnerRequest()
    ),
    "/lrs.v1.LearnerRegistrationService/FindLearnerByUln": _unary(
        "FindLearnerByUln", reg_pb.FindLearnerByUlnRequest()
    ),
    "/lrs.v1.LearnerRegistrationService/FindLearnerByDemographics": _unary(
        "FindLearnerByDemographics", reg_pb.FindLearnerByDemographicsRequest()
    ),
    "/lrs.v1.LearnerRegistrationService/VerifyLearner": _unary(
        "VerifyLearner", reg_pb.VerifyLearnerRequest()
    ),
    "/lrs.v1.BatchRegistrationService/BatchRegisterLearners": _batch,
}


def outcome(call: Callable[[], Any]) -> Failure | None:
    try:
        call()
    except grpc.RpcError as error:
        return failure(error)
    return None


def service_modules() -> list[Any]:
    """Every generated ``lrs.v1.*_pb2`` module that declares a service (new protos are picked up)."""
    import importlib
    import pkgutil

    import lrs.v1

    modules = [
        importlib.import_module(f"lrs.v1.{info.name}")
        for info in pkgutil.iter_modules(lrs.v1.__path__)
        if info.name.endswith("_pb2")
    ]
    found = [m for m in modules if m.DESCRIPTOR.services_by_name]
    assert registration_service_pb2 in found and batch_service_pb2 in found
    return found


def method_descriptors() -> dict[str, Any]:
    return {
        f"/{service.full_name}/{method.name}": method
        for module in service_modules()
        for service in module.DESCRIPTOR.services_by_name.values()
        for method in service.methods
    }


def served_methods() -> set[str]:
    return set(method_descriptors())


def generic_call(method: str) -> Callable[[Api, Metadata], Any]:
    """An empty request to any RPC, whatever its arity, built from the descriptors."""
    from google.protobuf.message_factory import GetMessageClass

    descriptor = method_descriptors()[method]
    request_class = GetMessageClass(descriptor.input_type)
    response_class = GetMessageClass(descriptor.output_type)
    kinds = {
        (False, False): "unary_unary",
        (False, True): "unary_stream",
        (True, False): "stream_unary",
        (True, True): "stream_stream",
    }
    arity = kinds[(descriptor.client_streaming, descriptor.server_streaming)]

    def call(api: Api, md: Metadata) -> Any:
        stub = getattr(api.channel, arity)(
            method,
            request_serializer=request_class.SerializeToString,
            response_deserializer=response_class.FromString,
        )
        request = iter([request_class()]) if descriptor.client_streaming else request_class()
        result = stub(request, metadata=md, timeout=10)
        return list(result) if descriptor.server_streaming else result

    return call


def test_every_rpc_in_the_protos_has_a_policy_entry() -> None:
    assert served_methods() <= set(POLICY)
    assert set(POLICY) <= served_methods(), "the policy names RPCs that do not exist"
    assert set(CALLS) <= served_methods()


# RPCs deliberately callable without a token (e.g. a learner activating an account with a code).
OPEN_RPCS: frozenset[str] = getattr(auth_module, "UNAUTHENTICATED_RPCS", frozenset())
CALLER_KINDS = set(getattr(auth_module, "CALLERS", tuple(OrgKind)))


def test_every_policy_entry_names_known_callers() -> None:
    assert all(kinds <= CALLER_KINDS for kinds in POLICY.values())
    assert all(kinds for method, kinds in POLICY.items() if method not in OPEN_RPCS), "an RPC nobody may call"


def test_open_rpcs_need_no_token(api: Api) -> None:
    for method in sorted(OPEN_RPCS):
        result = outcome(lambda m=method: generic_call(m)(api, ()))
        assert result is None or result.code not in (
            grpc.StatusCode.UNAUTHENTICATED,
            grpc.StatusCode.PERMISSION_DENIED,
            grpc.StatusCode.INTERNAL,
        ), (method, result)


def test_no_token_is_token_missing(api: Api) -> None:
    for method in sorted(served_methods() - OPEN_RPCS):
        call = CALLS.get(method) or generic_call(method)
        bad = outcome(lambda c=call: c(api, ()))
        assert bad is not None, method
        assert (bad.code, bad.reason) == (grpc.StatusCode.UNAUTHENTICATED, "TOKEN_MISSING"), method


@pytest.mark.parametrize("header", ["Basic x", "Bearer ", "Bearer", "bearer", "Token abc", "x"])
def test_malformed_authorization_header_is_unauthenticated(api: Api, header: str) -> None:
    bad = outcome(
        lambda: CALLS["/lrs.v1.LearnerRegistrationService/VerifyLearner"](api, (("authorization", header),))
    )
    assert bad is not None
    assert bad.code == grpc.StatusCode.UNAUTHENTICATED
    assert bad.reason in ("TOKEN_MISSING", "TOKEN_INVALID")


def test_unknown_token_is_token_invalid(api: Api) -> None:
    for token in (
        "lrs_not-a-real-token",
        api.tokens[OrgKind.SCHOOL] + "x",
        hash_token(api.tokens[OrgKind.SCHOOL]),
    ):
        bad = outcome(
            lambda t=token: CALLS["/lrs.v1.LearnerRegistrationService/VerifyLearner"](
                api, (("authorization", f"Bearer {t}"),)
            )
        )
        assert bad is not None
        assert (bad.code, bad.reason) == (grpc.StatusCode.UNAUTHENTICATED, "TOKEN_INVALID")


def test_scheme_is_case_insensitive(api: Api) -> None:
    md = (("authorization", f"bearer {api.tokens[OrgKind.SCHOOL]}"),)
    response = api.registration.RegisterLearner(register_request(), metadata=md)
    assert response.learner.uln


def test_revoked_organisation_is_unauthenticated(api: Api) -> None:
    orgs = OrganisationStore(api.engine)
    second = orgs.issue_token(ORG_REFS[OrgKind.SCHOOL]).token
    for token in (api.tokens[OrgKind.SCHOOL], second):
        api.registration.RegisterLearner(register_request(), metadata=(("authorization", f"Bearer {token}"),))
    orgs.revoke(ORG_REFS[OrgKind.SCHOOL])
    for token in (api.tokens[OrgKind.SCHOOL], second):
        bad = outcome(
            lambda t=token: api.registration.RegisterLearner(
                register_request(), metadata=(("authorization", f"Bearer {t}"),)
            )
        )
        assert bad is not None
        assert (bad.code, bad.reason) == (grpc.StatusCode.UNAUTHENTICATED, "TOKEN_INVALID")
    # Other organisations are unaffected.
    assert api.registration.RegisterLearner(register_request(), metadata=api.auth(OrgKind.ADMIN)).learner.uln


@pytest.mark.parametrize("method", sorted(served_methods() - OPEN_RPCS))
def test_policy_table_is_enforced(api: Api, method: str) -> None:
    """Every cell of the matrix: each kind of organisation, and a learner with their own credential."""
    call = CALLS.get(method) or generic_call(method)
    uln = api.registration.RegisterLearner(register_request(), metadata=api.auth()).learner.uln
    learner: Metadata = (("authorization", f"Bearer {learner_token(api, uln)}"),)
    callers: list[tuple[Caller, Metadata]] = [(kind, api.auth(kind)) for kind in OrgKind]
    callers.append((LearnerKind.LEARNER, learner))
    for kind, metadata in callers:
        result = outcome(lambda md=metadata: call(api, md))
        if kind in POLICY[method]:
            assert result is None or result.code not in (
                grpc.StatusCode.PERMISSION_DENIED,
                grpc.StatusCode.UNAUTHENTICATED,
            ), f"{kind} should get past auth for {method}: {result}"
            assert result is None or result.code != grpc.StatusCode.INTERNAL
        else:
            assert result is not None, f"{kind} may not call {method}"
            assert (result.code, result.reason) == (grpc.StatusCode.PERMISSION_DENIED, "CALLER_NOT_PERMITTED")


def test_only_schools_and_admins_write() -> None:
    for method in ("RegisterLearner", "UpdateLearner"):
        assert POLICY[f"/lrs.v1.LearnerRegistrationService/{method}"] == {OrgKind.SCHOOL, OrgKind.ADMIN}
    assert POLICY["/lrs.v1.BatchRegistrationService/BatchRegisterLearners"] == {OrgKind.SCHOOL, OrgKind.ADMIN}


def test_health_and_reflection_need_no_token(api: Api) -> None:
    health = health_pb2_grpc.HealthStub(api.channel)
    assert health.Check(health_pb2.HealthCheckRequest(service=""), timeout=5).status == (
        health_pb2.HealthCheckResponse.SERVING
    )
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    stub = reflection_pb2_grpc.ServerReflectionStub(api.channel)
    (answer,) = list(
        stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5)
    )
    assert "lrs.v1.LearnerRegistrationService" in {s.name for s in answer.list_services_response.service}


def test_tokens_are_stored_only_as_hashes(api: Api) -> None:
    with api.engine.connect() as c:
        rows = [tuple(r) for r in c.execute(select(TOKEN)).all()]
        tables = [
            r[0]
            for r in c.execute(
                text("SELECT name FROM sqlite_master WHERE type='table'")
                if api.engine.dialect.name == "sqlite"
                else text("SELECT table_name FROM information_schema.tables WHERE table_schema='public'")
            ).all()
        ]
        everything = " ".join(
            str(value)
            for table in tables
            for row in c.execute(text(f'SELECT * FROM "{table}"')).all()
            for value in row
        )
    stored = " ".join(str(v) for row in rows for v in row)
    assert len(rows) == len(api.tokens)
    for token in api.tokens.values():
        assert token not in stored
        assert token not in everything
        assert token.removeprefix("lrs_") not in everything
        assert hash_token(token) in stored
