"""lrs.v1.BatchRegistrationService: rows stream in, a result streams out per row."""

from __future__ import annotations

from collections.abc import Iterator

import grpc

from lrs.v1 import batch_service_pb2 as pb
from lrs.v1 import batch_service_pb2_grpc as pb_grpc
from lrs_server import convert
from lrs_server.api.chunking import Chunker
from lrs_server.domain.batch import BatchRegistration
from lrs_server.interceptor import current_principal

_RPC = "lrs.v1.BatchRegistrationService/BatchRegisterLearners"
CHUNK_ROWS = 1000  # rows decided per transaction at most


class BatchRegistrationServicer(pb_grpc.BatchRegistrationServiceServicer):
    def __init__(self, batch: BatchRegistration) -> None:
        self._batch = batch

    def BatchRegisterLearners(
        self, request_iterator: Iterator[pb.BatchRegisterLearnersRequest], context: grpc.ServicerContext
    ) -> Iterator[pb.BatchRegisterLearnersResponse]:
        chunks = (
            [(request, convert.batch_command(request)) for request in chunk]
            for chunk in Chunker(request_iterator, CHUNK_ROWS)
        )
        for request, outcome in self._batch.register_all(current_principal(), chunks, _RPC):
            if isinstance(outcome, Exception):
                yield convert.batch_rejection_to_pb(request, outcome)
            else:
                yield convert.batch_result_to_pb(request, outcome)
