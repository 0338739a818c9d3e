"""lrs.v1.BatchRegistrationService: rows stream in, results stream out a chunk at a time."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import grpc

from lrs.v1 import batch_service_pb2 as pb
from lrs.v1 import batch_service_pb2_grpc as pb_grpc
from lrs_server import convert
from lrs_server.api.chunking import Chunker
from lrs_server.domain.batch import BatchRegistration
from lrs_server.interceptor import current_principal

_RPC = "lrs.v1.BatchRegistrationService/BatchRegisterLearners"
CHUNK_ROWS = 1000  # rows decided per transaction at most


def _rows(requests: Iterator[pb.BatchRegisterLearnersRequest]) -> Iterator[Sequence[pb.BatchRow]]:
    for request in requests:
        yield request.rows


class BatchRegistrationServicer(pb_grpc.BatchRegistrationServiceServicer):
    def __init__(self, batch: BatchRegistration) -> None:
        self._batch = batch

    def BatchRegisterLearners(
        self, request_iterator: Iterator[pb.BatchRegisterLearnersRequest], context: grpc.ServicerContext
    ) -> Iterator[pb.BatchRegisterLearnersResponse]:
        chunks = (
            [(row, convert.batch_command(row)) for row in chunk]
            for chunk in Chunker(_rows(request_iterator), CHUNK_ROWS)
        )
        for decided in self._batch.register_all(current_principal(), chunks, _RPC):
            # One response per decided chunk: its rows' results, in order.
            yield pb.BatchRegisterLearnersResponse(
                results=[
                    convert.batch_rejection_to_pb(row, outcome)
                    if isinstance(outcome, Exception)
                    else convert.batch_result_to_pb(row, outcome)
                    for row, outcome in decided
                ]
            )
