"""Registering a whole file: rows stream to the server, results stream back into a results CSV.

Safe to re-run: rows are keyed by (organisation, MIS identifier) on the server, so a row sent twice
is registered once. After a crash, the same command resumes from the results file (see resume.py);
after a dropped connection, the stream is reopened at the first unanswered row.
"""

from __future__ import annotations

import csv
import itertools
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Never

from tqdm import tqdm

from lrs.v1 import batch_service_pb2 as batch_pb
from lrs.v1 import registration_service_pb2 as reg_pb
from school_client import messages
from school_client.connection import Client
from school_client.files import (
    LearnerFile,
    LearnerRow,
    RegistrationResult,
    RowProblem,
    open_learner_file,
    registration_results_writer,
)
from school_client.files.results import REGISTRATION_COLUMNS, OrderedResultsWriter, Outcome
from school_client.resume import completed_rows
from school_client.streaming import ready_rows, send_in_streams

ROWS_PER_STREAM = 50_000
MAX_IN_FLIGHT = 2_000  # rows sent and not yet answered: bounds memory whatever the file's length
ROWS_PER_MESSAGE = 200  # per gRPC message: a message per row would cost more than the row's registration
_OUTCOMES = {
    reg_pb.REGISTRATION_OUTCOME_NEW: Outcome.NEW,
    reg_pb.REGISTRATION_OUTCOME_MATCHED: Outcome.MATCHED,
    reg_pb.REGISTRATION_OUTCOME_POSSIBLE_MATCH: Outcome.POSSIBLE_MATCH,
}
_IDENTITY_FIELDS = (
    "given_name",
    "family_name",
    "date_of_birth",
    "gender",
    "postcode",
    "middle_names",
    "previous_family_name",
    "family_name_at_16",
    "preferred_given_name",
    "address_line1",
    "address_line2",
    "town",
    "county",
    "email",
    "school_at_16",
    "upn",
    "place_of_birth",
    "title",
)


@dataclass
class BatchSummary:
    rows: int = 0
    resumed_from: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    results_file: str = ""
    # LRB columns the file left out (read as empty) and its columns that are not LRB ones (not read).
    columns_read_as_empty: tuple[str, ...] = ()
    columns_ignored: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        columns = {
            name: list(value)
            for name, value in (
                ("columns_read_as_empty", self.columns_read_as_empty),
                ("columns_ignored", self.columns_ignored),
            )
            if value
        }
        return {
            "rows": self.rows,
            "resumed_from": self.resumed_from,
            "outcomes": dict(sorted(self.outcomes.items())),
            "seconds": round(self.seconds, 3),
            "rows_per_second": round((self.rows - self.resumed_from) / self.seconds, 1)
            if self.seconds
            else None,
            "results_file": self.results_file,
            **columns,
        }


def row_request(sequence: int, row: LearnerRow) -> batch_pb.BatchRow:
    values = {name: getattr(row, name) for name in _IDENTITY_FIELDS}
    return batch_pb.BatchRow(
        row_number=sequence,
        mis_identifier=row.mis_identifier,
        identity=messages.identity(**values),
        uln=row.uln,
        ability_to_share=messages.sharing_choice(row.ability_to_share),
    )


ABILITY_TO_SHARE_INVALID = "ABILITY_TO_SHARE_INVALID"


def sharing_problem(row: LearnerRow) -> RowProblem | None:
    """A row whose AbilityToShare is not one the client understands is not sent.

    Sent, it would register the pupil with no recorded choice: a "do not share" mistyped in a
    spreadsheet would be lost, and the learner's record shared against the choice the school took
    down. Reported instead, the school corrects the cell and sends the file again (rows already
    registered are answered from their MIS identifier)."""
    if not row.ability_to_share or row.ability_to_share in messages.SHARING_CHOICES:
        return None
    return RowProblem(
        row.line_number,
        row.mis_identifier,
        ABILITY_TO_SHARE_INVALID,
        f"AbilityToShare {row.ability_to_share!r} is not 1 (privacy notice not seen), 2 (seen, share) "
        "or 3 (seen, do not share); the row was not sent, so that the pupil's choice is not lost",
    )


def row_result(response: batch_pb.BatchRowResult) -> RegistrationResult:
    if response.rejection_reason:
        return RegistrationResult(
            response.mis_identifier,
            Outcome.REJECTED,
            reason=response.rejection_reason,
            message=response.rejection_message,
        )
    return RegistrationResult(
        response.mis_identifier,
        _OUTCOMES[response.outcome],
        uln=response.uln,
        candidate_ulns=tuple(response.candidate_ulns),
    )


class _Stream:
    """One BatchRegisterLearners call over a slice of the file's rows.

    Rows the reader could not parse are not sent: they wait in ``queued`` (in input order with the
    sent rows) and are written as REJECTED once the answers before them have arrived.
    """

    def __init__(self, rows: Iterator[tuple[int, LearnerRow | RowProblem]]) -> None:
        self._rows = rows
        self.queued: deque[tuple[int, LearnerRow | RowProblem]] = deque()
        self.taken = 0
        self.error: Exception | None = None
        # Sending waits while MAX_IN_FLIGHT rows are unanswered; else gRPC's flow-control window
        # (which grows with the link) decides how many rows sit in ``queued``.
        self._window = threading.Semaphore(MAX_IN_FLIGHT)
        self._closed = False

    def requests(self) -> Iterator[batch_pb.BatchRegisterLearnersRequest]:
        """Messages of up to ROWS_PER_MESSAGE rows; a part-filled one goes as soon as the window is
        full, so that no row waits unsent while the server has nothing to decide."""
        pending: list[batch_pb.BatchRow] = []
        try:
            for sequence, read in self._rows:
                row = (sharing_problem(read) or read) if isinstance(read, LearnerRow) else read
                if isinstance(row, LearnerRow):
                    if not self._window.acquire(blocking=False):
                        if pending:
                            yield batch_pb.BatchRegisterLearnersRequest(rows=pending)
                            pending = []
                        self._window.acquire()
                    if self._closed:
                        return
                self.taken += 1
                self.queued.append((sequence, row))
                if isinstance(row, LearnerRow):
                    pending.append(row_request(sequence, row))
                    if len(pending) >= ROWS_PER_MESSAGE:
                        yield batch_pb.BatchRegisterLearnersRequest(rows=pending)
                        pending = []
            if pending:
                yield batch_pb.BatchRegisterLearnersRequest(rows=pending)
        except Exception as error:  # gRPC would hide it as "Exception iterating requests!"
            self.error = error

    def close(self) -> None:
        """The call has ended: let a sender waiting for the window go."""
        self._closed = True
        self._window.release(MAX_IN_FLIGHT)

    def write_answered(
        self,
        writer: OrderedResultsWriter[RegistrationResult],
        summary: BatchSummary,
        progress: tqdm[Never],
        response: batch_pb.BatchRowResult | None,
    ) -> None:
        """Write queued rows up to the answered one (only leading unparsed rows when ``response`` is None)."""
        number = response.row_number if response is not None else None
        for sequence, row, answered in ready_rows(self.queued, number):
            if isinstance(row, RowProblem):
                result = RegistrationResult.from_problem(row)
            else:
                assert response is not None and answered
                self._window.release()
                result = row_result(response)
            writer.add(sequence, result)
            summary.outcomes[result.outcome.value] += 1
            progress.update(1)


def check_file(source: Path) -> LearnerFile:
    """Open ``source``, having checked it whole: a file that is wrong somewhere is rejected up front.

    An LRB file is checked by its reader's counting pass; a CTF file (one school's pupils, small)
    is parsed through once here, since a truncated XML file shows only at its end.
    """
    learner_file = open_learner_file(source)
    if learner_file.kind == "ctf":
        count = sum(1 for _ in learner_file.rows)
        learner_file = open_learner_file(source)
        learner_file.record_count = count
    return learner_file


def _key(row: LearnerRow | RowProblem) -> str:
    return row.mis_identifier


def _check_same_input(source: Path, results: Path, done: int) -> None:
    """Refuse to resume a results file that was written for another input file (compared row by
    row, streaming: a long file is not held in memory)."""
    with results.open(newline="", encoding="utf-8") as stream:
        written = (row[0] for row in itertools.islice(csv.reader(stream), 1, None))
        expected = (_key(row) for row in itertools.islice(open_learner_file(source).rows, done))
        same = all(a == b for a, b in itertools.zip_longest(written, expected))
    if not same:
        raise ResultsMismatch(
            f"{results} holds results for another file; give another --out, or --restart to overwrite it"
        )


class ResultsMismatch(Exception):
    pass


def register_file(
    client: Client, source: Path, results: Path, *, restart: bool = False, show_progress: bool | None = None
) -> BatchSummary:
    """Register every learner in ``source`` (LRB CSV or CTF XML) and write ``results``."""
    learner_file = check_file(source)  # a bad file fails here, before anything is sent
    done = -1 if restart else completed_rows(results, REGISTRATION_COLUMNS)
    if done > 0:
        _check_same_input(source, results, done)
    start = max(done, 0)
    summary = BatchSummary(resumed_from=start, results_file=str(results))
    if (info := learner_file.lrb_info) is not None:
        summary.columns_read_as_empty, summary.columns_ignored = info.absent_columns, info.ignored_columns
    started = time.monotonic()
    with results.open("a" if done >= 0 else "w", newline="", encoding="utf-8") as stream:
        writer = registration_results_writer(stream, first_sequence=start, write_header=done < 0)
        progress: tqdm[Never] = tqdm(
            total=learner_file.record_count,
            initial=start,
            unit="row",
            disable=not sys.stderr.isatty() if show_progress is None else not show_progress,
            file=sys.stderr,
            smoothing=0.05,
        )
        try:
            send_in_streams(
                lambda first: _Stream(
                    itertools.islice(
                        enumerate(open_learner_file(source).rows), first, first + ROWS_PER_STREAM
                    )
                ),
                lambda batch: (
                    result
                    for response in client.batch.BatchRegisterLearners(
                        batch.requests(), metadata=client.metadata
                    )
                    for result in response.results
                ),
                lambda batch, response: batch.write_answered(writer, summary, progress, response),
                lambda: writer.next_sequence,
                ROWS_PER_STREAM,
            )
        finally:
            writer.close()
            progress.close()
    summary.rows = writer.next_sequence
    summary.seconds = time.monotonic() - started
    return summary
