"""Results CSVs written by the school client, one row per input row, in input order.

Answers come back from the server concurrently and slightly out of order; the writers take a sequence number
with each result and hold early arrivals in a small reorder buffer until the gap before them is filled. The
buffer stays small as long as the caller keeps a bounded number of requests in flight; ``max_pending``
guards against a lost answer silently buffering the rest of a million-row file.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, TextIO, TypeVar

from .rows import RowProblem


class Outcome(StrEnum):
    NEW = "NEW"
    MATCHED = "MATCHED"
    POSSIBLE_MATCH = "POSSIBLE_MATCH"
    REJECTED = "REJECTED"


@dataclass(frozen=True, slots=True)
class RegistrationResult:
    mis_identifier: str
    outcome: Outcome
    uln: str = ""
    candidate_ulns: tuple[str, ...] = ()
    reason: str = ""
    message: str = ""

    @classmethod
    def from_problem(cls, problem: RowProblem) -> RegistrationResult:
        """A row the reader could not parse is reported as REJECTED with the reader's reason."""
        return cls(problem.mis_identifier, Outcome.REJECTED, reason=problem.reason, message=problem.message)

    def cells(self) -> list[str]:
        return [
            self.mis_identifier,
            self.uln,
            self.outcome.value,
            ";".join(self.candidate_ulns),
            self.reason,
            self.message,
        ]


@dataclass(frozen=True, slots=True)
class LookupResult:
    """Outcome is the server's answer name, e.g. FOUND, NOT_FOUND, POSSIBLE_MATCH, TOO_MANY_MATCHES,
    VERIFIED, LINKED (master substituted), MISMATCH, REJECTED."""

    reference: str
    outcome: str
    uln: str = ""
    candidate_ulns: tuple[str, ...] = ()
    mismatched_fields: tuple[str, ...] = ()
    reason: str = ""
    message: str = ""

    @classmethod
    def from_problem(cls, problem: RowProblem) -> LookupResult:
        return cls(problem.mis_identifier, "REJECTED", reason=problem.reason, message=problem.message)

    def cells(self) -> list[str]:
        return [
            self.reference,
            self.outcome,
            self.uln,
            ";".join(self.candidate_ulns),
            ";".join(self.mismatched_fields),
            self.reason,
            self.message,
        ]


@dataclass(frozen=True, slots=True)
class AchievementResult:
    """One submitted achievement: Outcome e.g. ACCEPTED, DUPLICATE, REJECTED. ``line`` is the input line."""

    line: int
    uln: str
    outcome: str
    mis_identifier: str = ""
    qualification_ref: str = ""
    subject: str = ""
    reason: str = ""
    message: str = ""

    @classmethod
    def from_problem(cls, problem: RowProblem) -> AchievementResult:
        return cls(
            problem.line_number,
            problem.mis_identifier,
            "REJECTED",
            reason=problem.reason,
            message=problem.message,
        )

    def cells(self) -> list[str]:
        return [
            str(self.line),
            self.mis_identifier,
            self.uln,
            self.qualification_ref,
            self.subject,
            self.outcome,
            self.reason,
            self.message,
        ]


REGISTRATION_COLUMNS = ("MISIdentifier", "ULN", "Outcome", "CandidateULNs", "Reason", "Message")
LOOKUP_COLUMNS = ("Reference", "Outcome", "ULN", "CandidateULNs", "MismatchedFields", "Reason", "Message")
ACHIEVEMENT_COLUMNS = (
    "Line",
    "MISIdentifier",
    "ULN",
    "QualificationRef",
    "Subject",
    "Outcome",
    "Reason",
    "Message",
)

R = TypeVar("R", RegistrationResult, LookupResult, AchievementResult)


class OrderedResultsWriter(Generic[R]):
    """Writes results in sequence order (0, 1, 2, ...) whatever order ``add`` receives them in.

    ``stream`` must be opened with ``newline=''``. Rows are flushed every ``flush_rows`` rows or
    ``flush_seconds``, so a crash leaves a usable partial results file.
    """

    def __init__(
        self,
        stream: TextIO,
        columns: Sequence[str],
        *,
        first_sequence: int = 0,
        max_pending: int = 100_000,
        flush_rows: int = 1000,
        flush_seconds: float = 2.0,
        write_header: bool = True,
    ) -> None:
        self._stream = stream
        self._writer = csv.writer(stream, lineterminator="\r\n")
        if write_header:  # False when appending to a results file being resumed
            self._writer.writerow(columns)
        self._next = first_sequence
        self._pending: dict[int, R] = {}
        self._max_pending = max_pending
        self._flush_rows = flush_rows
        self._flush_seconds = flush_seconds
        self._unflushed = 0
        self._last_flush = time.monotonic()
        self.written = 0

    @property
    def next_sequence(self) -> int:
        """The sequence number of the first result not yet written."""
        return self._next

    @property
    def pending(self) -> int:
        """Results held back waiting for an earlier sequence number."""
        return len(self._pending)

    def add(self, sequence: int, result: R) -> None:
        if sequence < self._next or sequence in self._pending:
            raise ValueError(f"result {sequence} was already written or added")
        self._pending[sequence] = result
        while self._next in self._pending:
            self._write(self._pending.pop(self._next))
            self._next += 1
        if len(self._pending) > self._max_pending:
            raise OverflowError(
                f"{len(self._pending)} results are waiting for result {self._next}: was it lost? "
                "(keep fewer requests in flight or raise max_pending)"
            )

    def _write(self, result: R) -> None:
        self._writer.writerow(result.cells())
        self.written += 1
        self._unflushed += 1
        now = time.monotonic()
        if self._unflushed >= self._flush_rows or now - self._last_flush >= self._flush_seconds:
            self.flush()

    def flush(self) -> None:
        self._stream.flush()
        self._unflushed = 0
        self._last_flush = time.monotonic()

    def close(self) -> list[int]:
        """Write whatever is still held (in order) and flush; return the sequence numbers never received."""
        missing: list[int] = []
        for sequence in sorted(self._pending):
            missing.extend(range(self._next, sequence))
            self._write(self._pending[sequence])
            self._next = sequence + 1
        self._pending.clear()
        self.flush()
        return missing


def registration_results_writer(stream: TextIO, **options: Any) -> OrderedResultsWriter[RegistrationResult]:
    return OrderedResultsWriter[RegistrationResult](stream, REGISTRATION_COLUMNS, **options)


def lookup_results_writer(stream: TextIO, **options: Any) -> OrderedResultsWriter[LookupResult]:
    return OrderedResultsWriter[LookupResult](stream, LOOKUP_COLUMNS, **options)


def achievement_results_writer(stream: TextIO, **options: Any) -> OrderedResultsWriter[AchievementResult]:
    return OrderedResultsWriter[AchievementResult](stream, ACHIEVEMENT_COLUMNS, **options)
