"""Sending a file's rows through a bidi stream that may drop: one loop for every file command.

Each round opens a stream at the first row without an answer (``next_sequence``), sends up to
``rows_per_stream`` rows and writes answers as they come. A dropped link (a transient status) opens
the next round after a back-off; so does a refusal that carries a RetryInfo (the server at its bound
on calls in flight, or the organisation over its rate limit for rows), after the delay it asks for;
a server whose stream limit is below ours is answered by simply opening the next stream; any other
refusal is raised.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sized
from typing import Protocol, TypeVar

import grpc

from school_client.files import RowProblem
from school_client.retry import MAX_DELAY_SECONDS, TRANSIENT, retry_delay

MAX_FAILED_ATTEMPTS = 8  # in a row without progress (about a minute of back-off), then give up


class RowStream(Protocol):
    """One stream's worth of rows: what was taken from the file and what still waits for an answer."""

    taken: int
    error: Exception | None

    @property
    def queued(self) -> Sized: ...

    def close(self) -> None: ...


S = TypeVar("S", bound=RowStream)
R = TypeVar("R")
Q = TypeVar("Q")


def ready_rows(queued: deque[tuple[int, Q]], answered: int | None) -> Iterator[tuple[int, Q, bool]]:
    """Take off the front of ``queued`` (rows in input order, by sequence number) the rows whose
    results can be written now, each with whether it is the answered one: rows never sent to the
    server (a ``RowProblem``: the reader could not parse them) up to the first sent one, and that
    one if it is the row numbered ``answered`` (None: no answer, only the leading unsent rows).

    Answers come in input order, so a sent row that is not the answered one waits, and so does
    every row after it: the results file stays in input order."""
    while queued:
        sequence, row = queued[0]
        is_answer = answered is not None and sequence == answered
        if not is_answer and not isinstance(row, RowProblem):
            return
        queued.popleft()
        yield sequence, row, is_answer
        if is_answer:
            return


def send_in_streams(
    open_stream: Callable[[int], S],
    call: Callable[[S], Iterable[R]],
    answer: Callable[[S, R | None], None],
    next_sequence: Callable[[], int],
    rows_per_stream: int,
) -> None:
    """Send every row; ``answer(stream, None)`` flushes rows that need no answer from the server."""
    delay, failures = 0.2, 0
    while True:
        first = next_sequence()
        stream = open_stream(first)
        try:
            try:
                for response in call(stream):
                    answer(stream, response)
            finally:
                stream.close()
            answer(stream, None)
            if stream.error is not None:
                raise stream.error
        except grpc.RpcError as error:
            asked = retry_delay(error)  # set when the server is busy or we are over a rate limit
            if (
                error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
                and asked is None
                and next_sequence() > first
            ):
                continue  # the server's stream limit is below ours: carry on in a new stream
            failures = failures + 1 if next_sequence() == first else 1
            if (error.code() not in TRANSIENT and asked is None) or failures >= MAX_FAILED_ATTEMPTS:
                raise
            # The link dropped, or the server asked us to wait: reopen at the first unanswered row.
            time.sleep(min(max(delay, asked or 0.0), MAX_DELAY_SECONDS) * random.uniform(1.0, 1.25))
            delay = min(delay * 2, 10.0)
            continue
        delay, failures = 0.2, 0
        if stream.taken < rows_per_stream and not len(stream.queued):
            return
        if next_sequence() == first and stream.taken:
            raise RuntimeError(f"the server answered none of the rows from row {first}")
