"""Bulk find and verify for post-16 institutions: a CSV of learners in, a results CSV out.

Each row is one unary call; a bounded number are in flight at once and results are written in
input order. Reads are idempotent, so a failed call is simply retried.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import grpc

from lrs.v1 import learner_pb2
from lrs.v1 import registration_service_pb2 as reg_pb
from school_client import messages
from school_client.batch import BatchSummary
from school_client.connection import Client
from school_client.errors import call_error
from school_client.files import LookupResult, LookupRow, RowProblem, lookup_results_writer, read_lookups
from school_client.retry import call_with_retry

IN_FLIGHT = 16


def find_row(client: Client, row: LookupRow) -> LookupResult:
    request = reg_pb.FindLearnerByDemographicsRequest(
        identity=messages.identity(
            given_name=row.given_name,
            family_name=row.family_name,
            date_of_birth=row.date_of_birth,
            gender=row.gender,
            postcode=row.postcode,
        )
    )
    response = call_with_retry(
        lambda: client.registration.FindLearnerByDemographics(request, metadata=client.metadata)
    )
    found = messages.find_dict(response)
    ulns = tuple(c["uln"] for c in found["candidates"])
    exact = found["outcome"] == "EXACT_MATCH"
    return LookupResult(row.reference, found["outcome"], ulns[0] if exact else "", () if exact else ulns)


def verify_row(client: Client, row: LookupRow) -> LookupResult:
    request = reg_pb.VerifyLearnerRequest(
        uln=row.uln,
        given_name=row.given_name,
        family_name=row.family_name,
        date_of_birth=row.date_of_birth,
        gender=messages.GENDERS.get(row.gender, learner_pb2.GENDER_UNSPECIFIED),
    )
    response = call_with_retry(lambda: client.registration.VerifyLearner(request, metadata=client.metadata))
    verified = messages.verification_dict(response)
    return LookupResult(
        row.reference,
        verified["outcome"],
        verified["uln"],
        mismatched_fields=tuple(verified["mismatched_fields"]),
    )


def _answer(
    call: Callable[[Client, LookupRow], LookupResult], client: Client, row: LookupRow
) -> LookupResult:
    try:
        return call(client, row)
    except grpc.RpcError as error:
        failure = call_error(error)
        return LookupResult(
            row.reference, "REJECTED", reason=failure.reason or failure.code, message=failure.message
        )


def lookup_file(
    client: Client, source: Path, results: Path, call: Callable[[Client, LookupRow], LookupResult]
) -> BatchSummary:
    rows = read_lookups(source)  # a bad header fails here, before any call
    summary = BatchSummary(results_file=str(results))
    started = time.monotonic()
    with results.open("w", newline="", encoding="utf-8") as stream, ThreadPoolExecutor(IN_FLIGHT) as pool:
        writer = lookup_results_writer(stream)
        pending: dict[int, Future[LookupResult]] = {}
        outcomes: Counter[str] = Counter()

        def drain(limit: int) -> None:
            while len(pending) > limit:
                sequence = min(pending)
                result = pending.pop(sequence).result()
                outcomes[result.outcome] += 1
                writer.add(sequence, result)

        for sequence, row in enumerate(rows):
            if isinstance(row, RowProblem):
                done: Future[LookupResult] = Future()
                done.set_result(LookupResult.from_problem(row))
                pending[sequence] = done
            else:
                pending[sequence] = pool.submit(_answer, call, client, row)
            drain(IN_FLIGHT * 2)
        drain(0)
        writer.close()
    summary.rows = writer.next_sequence
    summary.outcomes = outcomes
    summary.seconds = time.monotonic() - started
    return summary
