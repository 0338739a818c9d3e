"""BatchRegisterLearners over a real socket: rows several to a message, results in order, and the
server's limits (rows per stream, bytes per message) refused with clear statuses."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from sqlalchemy import Engine, func, select

from lrs.v1 import batch_service_pb2 as pb
from lrs.v1 import registration_service_pb2 as reg_pb
from lrs_server.domain.model import OrgKind
from lrs_server.server import MAX_MESSAGE_BYTES
from lrs_server.storage.learners import LEARNER
from lrs_server.storage.organisations import OrganisationStore
from tests.service.conftest import Api, failure, start_server
from tests.service.factories import identity

PUPILS = [
    ("Amara", "Okafor", "2011-03-14"),
    ("Bilal", "Shah", "2010-07-02"),
    ("Chloe", "Davies", "2011-11-30"),
    ("Dylan", "Evans", "2010-01-19"),
]


def _row(number: int, mis: str = "", **identity_fields: str) -> pb.BatchRow:
    given, family, born = PUPILS[number % len(PUPILS)]
    values = {"given_name": given, "family_name": family, "date_of_birth": born, **identity_fields}
    return pb.BatchRow(row_number=number, mis_identifier=mis or f"MIS-{number}", identity=identity(**values))


def _send(api: Api, messages: list[list[pb.BatchRow]]) -> list[pb.BatchRowResult]:
    requests = iter([pb.BatchRegisterLearnersRequest(rows=rows) for rows in messages])
    responses = api.batch.BatchRegisterLearners(requests, metadata=api.auth(), timeout=30)
    return [result for response in responses for result in response.results]


def _learners(engine: Engine) -> int:
    with engine.connect() as c:
        return int(c.execute(select(func.count()).select_from(LEARNER)).scalar_one())


def test_rows_several_to_a_message_get_one_result_each_in_order(api: Api) -> None:
    results = _send(
        api,
        [
            [_row(0), _row(1, postcode="NOT A POSTCODE"), _row(2)],
            [_row(3, mis=" ")],  # MIS identifier missing
            [],  # an empty message is allowed and changes nothing
            [_row(4, given_name="Amara", family_name="Okafor", date_of_birth="2011-03-14", mis="MIS-0")],
        ],
    )
    assert [r.row_number for r in results] == [0, 1, 2, 3, 4]
    assert [r.mis_identifier for r in results] == ["MIS-0", "MIS-1", "MIS-2", " ", "MIS-0"]
    assert results[0].outcome == reg_pb.REGISTRATION_OUTCOME_NEW and results[0].uln
    assert results[1].rejection_reason == "POSTCODE_INVALID"
    assert results[1].rejected_fields == ["identity.postcode"]
    assert results[2].outcome == reg_pb.REGISTRATION_OUTCOME_NEW
    assert results[3].rejection_reason == "FIELD_REQUIRED"
    assert results[3].rejected_fields == ["mis_identifier"]
    # Row 4 repeats row 0's MIS identifier: the same learner, not a second ULN.
    assert results[4].outcome == reg_pb.REGISTRATION_OUTCOME_MATCHED
    assert results[4].uln == results[0].uln
    assert _learners(api.engine) == 2


@pytest.fixture
def small_limit(engine: Engine) -> Iterator[Api]:
    token = OrganisationStore(engine).add(OrgKind.SCHOOL, "100001", "School").token
    server = start_server(engine, max_batch_rows=3)
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    yield Api(channel, {OrgKind.SCHOOL: token}, server, engine)
    channel.close()
    server.stop(grace=1)


def test_rows_beyond_the_stream_limit_are_refused_after_the_rows_within_it_are_answered(
    small_limit: Api,
) -> None:
    requests = iter([pb.BatchRegisterLearnersRequest(rows=[_row(n) for n in range(5)])])
    responses = small_limit.batch.BatchRegisterLearners(requests, metadata=small_limit.auth(), timeout=30)
    answered: list[pb.BatchRowResult] = []
    with pytest.raises(grpc.RpcError) as caught:
        for response in responses:
            answered.extend(response.results)
    refused = failure(caught.value)
    assert refused.code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert refused.reason == "BATCH_TOO_LARGE"
    assert "at most 3 rows" in refused.message
    assert [r.row_number for r in answered] == [0, 1, 2]
    assert _learners(small_limit.engine) == 3


def test_a_message_over_the_size_limit_is_refused_and_registers_nothing(api: Api) -> None:
    rows = [_row(n, mis=f"MIS-{n}-" + "x" * 60, email="a" * 200 + "@example.org") for n in range(20_000)]
    assert pb.BatchRegisterLearnersRequest(rows=rows).ByteSize() > MAX_MESSAGE_BYTES
    with pytest.raises(grpc.RpcError) as caught:
        _send(api, [rows])
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert _learners(api.engine) == 0
