"""The client's memory stays flat however long the file: rows stream in, results stream out.

The server here is a stand-in that answers every row at once (no database), so the test measures the
client: reading the file, the in-flight window, the results writer, and resuming from a results file.
tracemalloc counts every Python allocation in the process (the stand-in's too, which only makes the
bound stricter). The real server's RSS is measured by bench/batch_throughput.py.
"""

from __future__ import annotations

import queue
import threading
import time
import tracemalloc
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path

import grpc
import pytest

from lrs.v1 import batch_service_pb2 as pb
from lrs.v1 import batch_service_pb2_grpc as pb_grpc
from lrs.v1 import registration_service_pb2 as reg_pb
from school_client.batch import MAX_IN_FLIGHT, register_file
from school_client.connection import Client, ConnectionSettings
from school_client.files.generate import write_synthetic_lrb
from school_client.files.results import REGISTRATION_COLUMNS
from school_client.resume import completed_rows

ULN = "1000000043"
MB = 1024 * 1024


class _Echo(pb_grpc.BatchRegistrationServiceServicer):
    def BatchRegisterLearners(
        self, request_iterator: Iterator[pb.BatchRegisterLearnersRequest], context: grpc.ServicerContext
    ) -> Iterator[pb.BatchRegisterLearnersResponse]:
        for request in request_iterator:
            yield pb.BatchRegisterLearnersResponse(
                results=[
                    pb.BatchRowResult(
                        row_number=row.row_number,
                        mis_identifier=row.mis_identifier,
                        outcome=reg_pb.REGISTRATION_OUTCOME_NEW,
                        uln=ULN,
                    )
                    for row in request.rows
                ]
            )


@pytest.fixture(scope="module")
def echo() -> Iterator[Client]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    pb_grpc.add_BatchRegistrationServiceServicer_to_server(_Echo(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    with Client(ConnectionSettings(f"127.0.0.1:{port}", "token")) as client:
        yield client
    server.stop(grace=None)


def _peak(run: object) -> int:
    assert callable(run)
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_peak_memory_does_not_grow_with_the_file(echo: Client, tmp_path: Path) -> None:
    peaks = {}
    for rows in (4_000, 20_000):
        source = tmp_path / f"{rows}.csv"
        write_synthetic_lrb(str(source), rows, seed=1)
        results = tmp_path / f"{rows}-results.csv"
        peaks[rows] = _peak(lambda: register_file(echo, source, results, show_progress=False))  # noqa: B023
        assert completed_rows(results, REGISTRATION_COLUMNS) == rows
    assert peaks[20_000] < 50 * MB, peaks
    # Five times the rows, about the same peak: nothing is held per row. (Loose: tracemalloc also
    # counts whatever other threads of the test process allocate meanwhile.)
    assert peaks[20_000] < peaks[4_000] * 2 + 4 * MB, peaks


class _Stalled(_Echo):
    """Answers nothing for a while, counting the rows that arrive meanwhile; then echoes them all."""

    def __init__(self) -> None:
        self.arrived = 0
        self.before_answering = -1

    def BatchRegisterLearners(
        self, request_iterator: Iterator[pb.BatchRegisterLearnersRequest], context: grpc.ServicerContext
    ) -> Iterator[pb.BatchRegisterLearnersResponse]:
        received: queue.Queue[pb.BatchRegisterLearnersRequest | None] = queue.Queue()

        def read() -> None:
            for request in request_iterator:
                self.arrived += len(request.rows)
                received.put(request)
            received.put(None)

        threading.Thread(target=read, daemon=True).start()
        time.sleep(1.5)
        self.before_answering = self.arrived
        yield from super().BatchRegisterLearners(iter(received.get, None), context)


def test_the_client_stops_sending_while_max_in_flight_rows_are_unanswered(tmp_path: Path) -> None:
    stalled = _Stalled()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    pb_grpc.add_BatchRegistrationServiceServicer_to_server(stalled, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    source = tmp_path / "in.csv"
    write_synthetic_lrb(str(source), MAX_IN_FLIGHT * 2, seed=3)
    try:
        with Client(ConnectionSettings(f"127.0.0.1:{port}", "token")) as client:
            summary = register_file(client, source, tmp_path / "out.csv", show_progress=False)
    finally:
        server.stop(grace=None)
    assert summary.rows == MAX_IN_FLIGHT * 2
    assert stalled.before_answering == MAX_IN_FLIGHT


@pytest.mark.slow
def test_resuming_a_long_results_file_keeps_memory_bounded(echo: Client, tmp_path: Path) -> None:
    rows = 10_000
    source = tmp_path / "in.csv"
    write_synthetic_lrb(str(source), rows, seed=2)
    results = tmp_path / "results.csv"
    register_file(echo, source, results, show_progress=False)
    lines = results.read_bytes().splitlines(keepends=True)
    results.write_bytes(b"".join(lines[: rows - 100]))  # as if the run had died near the end
    peak = _peak(lambda: register_file(echo, source, results, show_progress=False))
    assert completed_rows(results, REGISTRATION_COLUMNS) == rows
    assert peak < 5 * MB, peak
