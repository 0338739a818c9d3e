"""A client that cancels a stream part-way is not a server error: nothing is logged as one (no
traceback), the call is not aborted as INTERNAL, and the server goes on serving."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest

from lrs.v1 import batch_service_pb2 as batch_pb
from lrs.v1 import record_service_pb2_grpc
from lrs.v1 import registration_service_pb2 as reg_pb
from tests.records.conftest import result_row
from tests.service.conftest import Api
from tests.service.factories import identity, register_new

CANCELLATIONS = 10


def _batch_message(number: int) -> batch_pb.BatchRegisterLearnersRequest:
    row = batch_pb.BatchRow(row_number=number, mis_identifier=f"MIS-{number}", identity=identity())
    return batch_pb.BatchRegisterLearnersRequest(rows=[row])


def _open_batch(api: Api, requests: Iterator[Any]) -> Any:
    return api.batch.BatchRegisterLearners(requests, metadata=api.auth(), timeout=30)


def _open_submit(api: Api, requests: Iterator[Any]) -> Any:
    stub = record_service_pb2_grpc.LearnerRecordServiceStub(api.channel)
    return stub.SubmitAchievements(requests, metadata=api.auth(), timeout=30)


def _submit_message(number: int) -> Any:
    return result_row("9999999999", row=number)


STREAMS: dict[str, tuple[Callable[[Api, Iterator[Any]], Any], Callable[[int], Any]]] = {
    "BatchRegisterLearners": (_open_batch, _batch_message),
    "SubmitAchievements": (_open_submit, _submit_message),
}


def _server_threads_settled(timeout: float = 5.0) -> None:
    """Wait until the server has finished with the cancelled streams (their reader threads ended),
    and a moment more for their handlers to unwind."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(t.name == "lrs-stream-reader" for t in threading.enumerate()):
            break
        time.sleep(0.02)
    time.sleep(0.3)


@pytest.mark.parametrize("rpc", sorted(STREAMS))
def test_a_stream_cancelled_by_the_client_is_not_logged_as_a_server_error(
    api: Api, rpc: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="lrs_server")
    caplog.set_level(logging.INFO)
    open_call, message = STREAMS[rpc]
    for attempt in range(CANCELLATIONS):
        outgoing: queue.Queue[Any] = queue.Queue()

        def requests(outgoing: queue.Queue[Any] = outgoing) -> Iterator[Any]:
            while (request := outgoing.get(timeout=30)) is not None:
                yield request

        call = open_call(api, requests())
        outgoing.put(message(attempt))
        next(call)  # one answer, then the client gives up with the stream still open
        call.cancel()
        outgoing.put(None)
        with pytest.raises(grpc.RpcError) as caught:
            next(call)
        assert caught.value.code() == grpc.StatusCode.CANCELLED  # type: ignore[attr-defined]
    _server_threads_settled()

    errors = [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
    assert errors == [], [f"{r.name}: {r.getMessage()}" for r in errors]
    # The server still serves.
    learner = register_new(api)
    found = api.registration.FindLearnerByUln(
        reg_pb.FindLearnerByUlnRequest(uln=learner.uln, given_name="Amara", family_name="Okafor"),
        metadata=api.auth(),
        timeout=30,
    )
    assert found.learner.uln == learner.uln
