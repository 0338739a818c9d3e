"""Concurrent registrations: one learner never gets two ULNs (SQLite and PostgreSQL via the fixtures)."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import grpc
from sqlalchemy import func, select

from lrs.v1 import registration_service_pb2 as reg_pb
from lrs.v1 import registration_service_pb2_grpc as reg_grpc
from lrs_server.domain import uln as uln_rules
from lrs_server.storage.tables import LearnerTable
from tests.service.conftest import Api, failure
from tests.service.factories import register_request

THREADS = 16
NEW = reg_pb.REGISTRATION_OUTCOME_NEW
MATCHED = reg_pb.REGISTRATION_OUTCOME_MATCHED


def in_parallel(
    api: Api, requests: list[reg_pb.RegisterLearnerRequest]
) -> list[reg_pb.RegisterLearnerResponse]:
    """Each request from its own thread on its own channel, released together by a barrier."""
    barrier = threading.Barrier(len(requests))
    target = f"127.0.0.1:{api.server.port}"

    def call(request: reg_pb.RegisterLearnerRequest) -> reg_pb.RegisterLearnerResponse:
        with grpc.insecure_channel(target) as channel:
            stub = reg_grpc.LearnerRegistrationServiceStub(channel)
            grpc.channel_ready_future(channel).result(timeout=10)
            barrier.wait(timeout=30)
            return stub.RegisterLearner(request, metadata=api.auth(), timeout=60)

    with ThreadPoolExecutor(len(requests)) as pool:
        return list(pool.map(call, requests))


def learner_rows(api: Api) -> int:
    with api.engine.connect() as c:
        return int(c.execute(select(func.count()).select_from(LearnerTable)).scalar_one())


def test_same_new_learner_registered_16_times_at_once_gets_one_uln(api: Api) -> None:
    responses = in_parallel(api, [register_request() for _ in range(THREADS)])
    outcomes = Counter(r.outcome for r in responses)
    assert set(outcomes) <= {NEW, MATCHED}, outcomes
    assert outcomes[NEW] == 1
    assert len({r.learner.uln for r in responses}) == 1
    assert learner_rows(api) == 1


def test_16_different_learners_at_once_get_16_distinct_valid_ulns(api: Api) -> None:
    given = ["Amara", "Bilal", "Chen", "Dmitri", "Esi", "Farah", "Gwen", "Hiro",
             "Ines", "Jomo", "Kasia", "Luca", "Mei", "Nia", "Oskar", "Priya"]  # fmt: skip
    requests = [
        register_request(
            given_name=name, family_name=f"{name}son", date_of_birth=f"2010-{i % 12 + 1:02d}-{i + 1:02d}"
        )
        for i, name in enumerate(given)
    ]
    responses = in_parallel(api, requests)
    assert all(r.outcome == NEW for r in responses)
    ulns = [r.learner.uln for r in responses]
    assert len(set(ulns)) == THREADS
    assert all(uln_rules.is_valid(u) for u in ulns)
    assert learner_rows(api) == THREADS


def test_concurrent_retries_with_one_request_id_give_one_answer(api: Api) -> None:
    responses = in_parallel(api, [register_request(request_id="retry-1") for _ in range(THREADS)])
    assert len({r.learner.uln for r in responses}) == 1
    assert Counter(r.outcome for r in responses)[NEW] >= 1
    assert learner_rows(api) == 1
    # A later retry gets the first answer (NEW), not a fresh MATCHED.
    later = api.registration.RegisterLearner(register_request(request_id="retry-1"), metadata=api.auth())
    assert later.outcome == NEW
    assert later.learner.uln == responses[0].learner.uln


def test_concurrent_retries_with_one_request_id_all_answer_new(api: Api) -> None:
    """A retried request id must get the first call's answer, even when the retries overlap."""
    responses = in_parallel(api, [register_request(request_id="retry-2") for _ in range(8)])
    assert [r.outcome for r in responses] == [NEW] * 8


PEOPLE = ["Amara", "Bilal", "Chen", "Dmitri", "Esi", "Farah", "Gwen", "Hiro"]


def _different_people(**key: str) -> list[reg_pb.RegisterLearnerRequest]:
    requests = []
    for i, name in enumerate(PEOPLE):
        request = register_request(
            given_name=name, family_name=f"{name}son", date_of_birth=f"2010-{i + 1:02d}-{i + 3:02d}", **key
        )
        request.confirmation.confirm_new_reason = "a different learner"
        requests.append(request)
    return requests


def _answers_in_parallel(api: Api, requests: list[reg_pb.RegisterLearnerRequest]) -> Counter[str]:
    """Each call's outcome name, or its refusal's reason, counted; any other error fails the test."""

    results: Counter[str] = Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(len(requests))
    target = f"127.0.0.1:{api.server.port}"

    def call(request: reg_pb.RegisterLearnerRequest) -> None:
        with grpc.insecure_channel(target) as channel:
            stub = reg_grpc.LearnerRegistrationServiceStub(channel)
            grpc.channel_ready_future(channel).result(timeout=10)
            barrier.wait(timeout=30)
            try:
                outcome = reg_pb.RegistrationOutcome.Name(
                    stub.RegisterLearner(request, metadata=api.auth(), timeout=60).outcome
                )
            except grpc.RpcError as error:
                got = failure(error)
                assert got.code == grpc.StatusCode.FAILED_PRECONDITION, (got.code, got.message)
                outcome = got.reason
            with lock:
                results[outcome] += 1

    with ThreadPoolExecutor(len(requests)) as pool:
        list(pool.map(call, requests))
    return results


def test_one_request_id_sent_at_once_for_different_people_registers_one(api: Api) -> None:
    """A client bug re-using one idempotency key for several pupils at once: one is registered,
    the others refused, none given another's ULN, and never an internal error (the key's rows are
    decided one at a time even though the people share no blocking key)."""
    answers = _answers_in_parallel(api, _different_people(request_id="shared-key"))
    assert answers == Counter({"REGISTRATION_OUTCOME_NEW": 1, "REQUEST_ID_REUSED": len(PEOPLE) - 1})
    assert learner_rows(api) == 1


def test_one_mis_identifier_sent_at_once_for_different_people_registers_one(api: Api) -> None:
    answers = _answers_in_parallel(api, _different_people(mis_identifier="SHARED-MIS"))
    assert answers == Counter({"REGISTRATION_OUTCOME_NEW": 1, "MIS_IDENTIFIER_CONFLICT": len(PEOPLE) - 1})
    assert learner_rows(api) == 1
