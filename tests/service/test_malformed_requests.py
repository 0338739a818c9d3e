"""Bytes that are not a valid request message are refused with INVALID_ARGUMENT and REQUEST_MALFORMED
(not grpc's bare INTERNAL "Exception deserializing request!"), after authentication, on every RPC."""

from __future__ import annotations

import logging
import queue
from collections.abc import Iterator

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from sqlalchemy import func, select

from lrs.v1 import batch_service_pb2 as batch_pb
from lrs.v1 import record_service_pb2 as rec_pb
from lrs.v1 import registration_service_pb2 as reg_pb
from lrs_server.auth import ADMINS, NOBODY, POLICY
from lrs_server.auth import LEARNER as LEARNER_ONLY
from lrs_server.domain.model import OrgKind
from lrs_server.storage.learners import LEARNER
from tests.records.conftest import bearer, learner_token, result_row
from tests.service.conftest import Api, failure
from tests.service.factories import identity, register_new

FIND = "/lrs.v1.LearnerRegistrationService/FindLearnerByUln"
BATCH = "/lrs.v1.BatchRegistrationService/BatchRegisterLearners"
SUBMIT = "/lrs.v1.LearnerRecordService/SubmitAchievements"
STREAMS = {BATCH, SUBMIT}
# A length-delimited field 1 promising 5 bytes and giving 2: corrupt whatever the message type.
TRUNCATED = b"\x0a\x05ab"
BAD_UTF8 = {  # a string field holding invalid UTF-8
    FIND: b"\x0a\x02\xff\xfe",  # uln
    SUBMIT: b"\x12\x02\xff\xfe",  # uln
    BATCH: b"\x0a\x04\x12\x02\xff\xfe",  # rows[0].mis_identifier
}
Metadata = tuple[tuple[str, str], ...]


def _raw_unary(api: Api, method: str, data: bytes, metadata: Metadata = ()) -> bytes:
    call = api.channel.unary_unary(method, request_serializer=None, response_deserializer=None)
    return bytes(call(data, metadata=metadata, timeout=30))


def _raw_stream(api: Api, method: str, messages: Iterator[bytes], metadata: Metadata) -> Iterator[bytes]:
    call = api.channel.stream_stream(method, request_serializer=None, response_deserializer=None)
    return iter(call(messages, metadata=metadata, timeout=30))


def _refused_as_malformed(error: grpc.RpcError) -> dict[str, str]:
    """Asserts the status is INVALID_ARGUMENT with ErrorInfo REQUEST_MALFORMED; the ErrorInfo metadata."""
    bad = failure(error)
    assert (bad.code, bad.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "REQUEST_MALFORMED"), bad
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None
    info = error_details_pb2.ErrorInfo()
    assert any(detail.Unpack(info) for detail in status.details)
    assert info.domain == "lrs.v1"
    return dict(info.metadata)


def _caller(api: Api, method: str) -> Metadata:
    """A caller the method authorises, so that the request itself is what gets judged."""
    allowed = POLICY[method]
    if allowed == NOBODY:
        return ()
    if allowed & ADMINS:
        return api.auth(OrgKind.ADMIN)
    assert allowed == LEARNER_ONLY, method
    return bearer(learner_token(api, register_new(api).uln))


@pytest.fixture
def no_error_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.INFO)
    yield
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert errors == [], [r.getMessage() for r in errors]


@pytest.mark.usefixtures("no_error_logs")
@pytest.mark.parametrize("method", sorted(m for m in POLICY if m not in STREAMS))
def test_every_unary_rpc_refuses_a_truncated_message_as_malformed(api: Api, method: str) -> None:
    metadata = _caller(api, method)
    with pytest.raises(grpc.RpcError) as caught:
        _raw_unary(api, method, TRUNCATED, metadata)
    metadata_sent = _refused_as_malformed(caught.value)
    assert metadata_sent["message_type"].startswith("lrs.v1.")
    assert "message_index" not in metadata_sent


@pytest.mark.usefixtures("no_error_logs")
@pytest.mark.parametrize("data", [BAD_UTF8[FIND], TRUNCATED], ids=["bad-utf8", "truncated"])
def test_find_by_uln_refuses_bytes_that_are_not_its_request(api: Api, data: bytes) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        _raw_unary(api, FIND, data, api.auth())
    assert _refused_as_malformed(caught.value) == {"message_type": "lrs.v1.FindLearnerByUlnRequest"}


def test_a_valid_message_sent_as_raw_bytes_is_still_answered(api: Api) -> None:
    learner = register_new(api)
    data = reg_pb.FindLearnerByUlnRequest(
        uln=learner.uln, given_name="Amara", family_name="Okafor"
    ).SerializeToString()
    answer = reg_pb.FindLearnerByUlnResponse.FromString(_raw_unary(api, FIND, data, api.auth()))
    assert answer.learner.uln == learner.uln


@pytest.mark.parametrize("method", [FIND, *sorted(STREAMS)])
def test_authentication_comes_before_the_request_is_judged(api: Api, method: str) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        if method in STREAMS:
            list(_raw_stream(api, method, iter([TRUNCATED]), ()))
        else:
            _raw_unary(api, method, TRUNCATED)
    bad = failure(caught.value)
    assert (bad.code, bad.reason) == (grpc.StatusCode.UNAUTHENTICATED, "TOKEN_MISSING")


def _valid_first(method: str) -> bytes:
    if method == BATCH:
        row = batch_pb.BatchRow(row_number=1, mis_identifier="MIS-1", identity=identity())
        return batch_pb.BatchRegisterLearnersRequest(rows=[row]).SerializeToString()
    return result_row("9999999999", row=1).SerializeToString()


def _results(method: str, data: bytes) -> int:
    """How many rows one response answers."""
    if method == BATCH:
        return len(batch_pb.BatchRegisterLearnersResponse.FromString(data).results)
    rec_pb.SubmitAchievementsResponse.FromString(data)
    return 1


@pytest.mark.usefixtures("no_error_logs")
@pytest.mark.parametrize("method", sorted(STREAMS))
@pytest.mark.parametrize("bad", ["bad-utf8", "truncated"])
def test_a_stream_answers_the_messages_before_a_malformed_one_then_refuses_it(
    api: Api, method: str, bad: str
) -> None:
    outgoing: queue.Queue[bytes | None] = queue.Queue()

    def messages() -> Iterator[bytes]:
        while (message := outgoing.get(timeout=30)) is not None:
            yield message

    responses = _raw_stream(api, method, messages(), api.auth())
    outgoing.put(_valid_first(method))
    assert _results(method, next(responses)) == 1  # the first message is answered...
    outgoing.put(BAD_UTF8[method] if bad == "bad-utf8" else TRUNCATED)
    outgoing.put(_valid_first(method))  # ...and nothing after the malformed one is read
    with pytest.raises(grpc.RpcError) as caught:
        next(responses)
    outgoing.put(None)
    assert _refused_as_malformed(caught.value)["message_index"] == "2"


@pytest.mark.usefixtures("no_error_logs")
@pytest.mark.parametrize("method", sorted(STREAMS))
def test_a_stream_whose_first_message_is_malformed_changes_nothing(api: Api, method: str) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        list(_raw_stream(api, method, iter([TRUNCATED, _valid_first(method)]), api.auth()))
    assert _refused_as_malformed(caught.value)["message_index"] == "1"
    with api.engine.connect() as c:  # the valid message after the malformed one was not acted on
        assert c.execute(select(func.count()).select_from(LEARNER)).scalar_one() == 0
