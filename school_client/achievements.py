"""Submitting a results file: rows stream to SubmitAchievements, results stream back into a results CSV.

The input is a results CSV (``ULN, GivenName, FamilyName, QualificationType, ...``) or a CTF XML with
key stage results; the format is told by content (schools rename files). The whole file is read once
before anything is sent, so a file that is wrong somewhere (bad header, not UTF-8, truncated XML)
fails up front with its line and nothing reaches the server.

Safe to re-run: the server keys a result by (learner, submitting organisation, kind, qualification
reference, subject, component), so a row sent twice updates the result held (or leaves it UNCHANGED),
never duplicates it. A run therefore starts afresh by default (a corrected file is sent whole and
its results file rewritten); ``resume=True`` carries on from an interrupted results file instead
(see resume.py). After a dropped connection the stream is reopened at the first unanswered row.
"""

from __future__ import annotations

import csv
import itertools
import re
import sys
import time
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Never

from tqdm import tqdm

from lrs.v1 import record_service_pb2 as rec_pb
from school_client.batch import ResultsMismatch
from school_client.connection import Client
from school_client.files import (
    AchievementResult,
    AchievementRow,
    RowProblem,
    achievement_results_writer,
    detect_format,
    open_ctf,
    read_achievements,
)
from school_client.files.results import ACHIEVEMENT_COLUMNS, OrderedResultsWriter
from school_client.resume import completed_rows
from school_client.streaming import ready_rows, send_in_streams

ROWS_PER_STREAM = 50_000

# QualificationType (normalised: lower case, letters and digits only) -> kind. Anything else
# non-empty is OTHER; an empty type is sent unspecified so the server rejects the row with the field.
_KINDS: dict[str, rec_pb.AchievementKind.ValueType] = {
    "ks2": rec_pb.ACHIEVEMENT_KIND_KEY_STAGE_2,
    "keystage2": rec_pb.ACHIEVEMENT_KIND_KEY_STAGE_2,
    "ks3": rec_pb.ACHIEVEMENT_KIND_KEY_STAGE_3,
    "keystage3": rec_pb.ACHIEVEMENT_KIND_KEY_STAGE_3,
    "ks4": rec_pb.ACHIEVEMENT_KIND_KEY_STAGE_4,
    "keystage4": rec_pb.ACHIEVEMENT_KIND_KEY_STAGE_4,
    "ks5": rec_pb.ACHIEVEMENT_KIND_KEY_STAGE_5,
    "keystage5": rec_pb.ACHIEVEMENT_KIND_KEY_STAGE_5,
    "gcse": rec_pb.ACHIEVEMENT_KIND_GCSE,
    "igcse": rec_pb.ACHIEVEMENT_KIND_GCSE,
    "as": rec_pb.ACHIEVEMENT_KIND_AS_LEVEL,
    "aslevel": rec_pb.ACHIEVEMENT_KIND_AS_LEVEL,
    "gceas": rec_pb.ACHIEVEMENT_KIND_AS_LEVEL,
    "gceaslevel": rec_pb.ACHIEVEMENT_KIND_AS_LEVEL,
    "a": rec_pb.ACHIEVEMENT_KIND_A_LEVEL,
    "alevel": rec_pb.ACHIEVEMENT_KIND_A_LEVEL,
    "gcealevel": rec_pb.ACHIEVEMENT_KIND_A_LEVEL,
    "gce": rec_pb.ACHIEVEMENT_KIND_A_LEVEL,
    "btec": rec_pb.ACHIEVEMENT_KIND_VOCATIONAL,
    "nvq": rec_pb.ACHIEVEMENT_KIND_VOCATIONAL,
    "tlevel": rec_pb.ACHIEVEMENT_KIND_VOCATIONAL,
    "vrq": rec_pb.ACHIEVEMENT_KIND_VOCATIONAL,
    "vocational": rec_pb.ACHIEVEMENT_KIND_VOCATIONAL,
    "cambridgenational": rec_pb.ACHIEVEMENT_KIND_VOCATIONAL,
    "other": rec_pb.ACHIEVEMENT_KIND_OTHER,
}
# Status as written in a results CSV, or a CTF ResultStatus code (F final, P provisional).
_STATUSES: dict[str, rec_pb.AchievementStatus.ValueType] = {
    "final": rec_pb.ACHIEVEMENT_STATUS_FINAL,
    "f": rec_pb.ACHIEVEMENT_STATUS_FINAL,
    "provisional": rec_pb.ACHIEVEMENT_STATUS_PROVISIONAL,
    "p": rec_pb.ACHIEVEMENT_STATUS_PROVISIONAL,
}
_OUTCOMES = {
    rec_pb.SUBMIT_OUTCOME_CREATED: "CREATED",
    rec_pb.SUBMIT_OUTCOME_UPDATED: "UPDATED",
    rec_pb.SUBMIT_OUTCOME_UNCHANGED: "UNCHANGED",
}
REJECTED = "REJECTED"


def kind_of(qualification_type: str) -> rec_pb.AchievementKind.ValueType:
    key = re.sub(r"[^a-z0-9]", "", qualification_type.lower())
    if not key:
        return rec_pb.ACHIEVEMENT_KIND_UNSPECIFIED
    return _KINDS.get(key, rec_pb.ACHIEVEMENT_KIND_OTHER)


def status_of(status: str) -> rec_pb.AchievementStatus.ValueType:
    return _STATUSES.get(status.strip().lower(), rec_pb.ACHIEVEMENT_STATUS_UNSPECIFIED)


def achievement_of(row: AchievementRow) -> rec_pb.Achievement:
    """The Achievement a row describes.

    A CTF key stage result has no qualification reference or award date: its reference is
    ``CTF/<stage>/<year>`` and its component ``<method>/<component>/<qualifier>`` (a KS2 subject has
    teacher-assessed and test results, per component, with a qualifier such as SS for scaled score),
    so every StageAssessment has its own natural key and a resubmitted CTF updates in place.
    """
    if row.stage:
        return rec_pb.Achievement(
            kind=kind_of(row.stage),
            qualification_ref="/".join(p for p in ("CTF", row.stage, row.year) if p),
            subject=row.subject,
            component="/".join(p for p in (row.method, row.component, row.result_qualifier) if p),
            grade=row.grade,
            status=status_of(row.result_status or "final"),
        )
    return rec_pb.Achievement(
        kind=kind_of(row.qualification_type),
        qualification_ref=row.qualification_ref,
        subject=row.subject,
        component=row.component,
        level=row.level,
        grade=row.grade,
        award_date=row.award_date,
        status=status_of(row.status),
        awarding_organisation=row.awarding_organisation,
    )


def row_request(sequence: int, row: AchievementRow) -> rec_pb.SubmitAchievementsRequest:
    return rec_pb.SubmitAchievementsRequest(
        row_number=sequence,
        uln=row.uln,
        given_name=row.given_name,
        family_name=row.family_name,
        achievement=achievement_of(row),
    )


def row_result(row: AchievementRow, response: rec_pb.SubmitAchievementsResponse) -> AchievementResult:
    reason = message = ""
    if response.rejection_reason:
        outcome, reason = REJECTED, response.rejection_reason
        fields = f" ({', '.join(response.rejected_fields)})" if response.rejected_fields else ""
        message = response.rejection_message + fields
    else:
        outcome = _OUTCOMES.get(response.outcome, "UNKNOWN")
    return AchievementResult(
        line=row.line_number,
        uln=row.uln,
        outcome=outcome,
        mis_identifier=row.mis_identifier,
        qualification_ref=achievement_of(row).qualification_ref,
        subject=row.subject,
        reason=reason,
        message=message,
    )


def problem_result(problem: RowProblem) -> AchievementResult:
    # AchievementResult.from_problem puts the row's key (its ULN for a results CSV) in the ULN column.
    return AchievementResult.from_problem(problem)


@dataclass
class SubmitSummary:
    rows: int = 0
    resumed_from: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    results_file: str = ""
    file_format: str = ""
    skipped: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, object]:
        return {
            "rows": self.rows,
            "resumed_from": self.resumed_from,
            "outcomes": dict(sorted(self.outcomes.items())),
            "format": self.file_format,
            "skipped": dict(sorted(self.skipped.items())),
            "seconds": round(self.seconds, 3),
            "results_file": self.results_file,
        }


Row = AchievementRow | RowProblem


class ResultsFile:
    """A results file opened by content: ``rows()`` can be iterated afresh any number of times."""

    def __init__(self, source: Path) -> None:
        self.source = source
        self.kind = detect_format(source)
        self.skipped: Counter[str] = Counter()
        self.count = sum(1 for _ in self.rows())  # the checking pass: FileFormatError before any send

    def rows(self) -> Iterator[Row]:
        if self.kind == "ctf":
            ctf = open_ctf(self.source)
            yield from ctf.achievements()
            self.skipped = Counter(ctf.skipped)
        else:
            yield from read_achievements(self.source)


class _Stream:
    """One SubmitAchievements call over a slice of the file's rows (see batch._Stream)."""

    def __init__(self, rows: Iterator[tuple[int, Row]]) -> None:
        self._rows = rows
        self.queued: deque[tuple[int, Row]] = deque()
        self.taken = 0
        self.error: Exception | None = None

    def requests(self) -> Iterator[rec_pb.SubmitAchievementsRequest]:
        try:
            for sequence, row in self._rows:
                self.taken += 1
                self.queued.append((sequence, row))
                if isinstance(row, AchievementRow):
                    yield row_request(sequence, row)
        except Exception as error:  # gRPC would hide it as "Exception iterating requests!"
            self.error = error

    def close(self) -> None:
        """The call has ended (nothing to release: gRPC's flow control bounds what is in flight)."""

    def write_answered(
        self,
        writer: OrderedResultsWriter[AchievementResult],
        summary: SubmitSummary,
        progress: tqdm[Never],
        response: rec_pb.SubmitAchievementsResponse | None,
    ) -> None:
        """Write queued rows up to the answered one (only leading unparsed rows when ``response`` is None)."""
        number = response.row_number if response is not None else None
        for sequence, row, answered in ready_rows(self.queued, number):
            if isinstance(row, RowProblem):
                result = problem_result(row)
            else:
                assert response is not None and answered
                result = row_result(row, response)
            writer.add(sequence, result)
            summary.outcomes[result.outcome] += 1
            progress.update(1)


def _check_same_input(results_file: ResultsFile, results: Path, done: int) -> None:
    """Refuse to resume a results file that was written for another input file (lines and ULNs differ)."""
    with results.open(newline="", encoding="utf-8") as stream:
        written = [(row[0], row[2]) for row in itertools.islice(csv.reader(stream), 1, None)]
    expected = [
        (str(r.line_number), problem_result(r).uln if isinstance(r, RowProblem) else r.uln)
        for r in itertools.islice(results_file.rows(), done)
    ]
    if written != expected:
        raise ResultsMismatch(
            f"{results} holds results for another file; give another --out, or run without --resume"
        )


def default_results_path(source: Path) -> Path:
    return source.with_name(f"{source.stem}.results.csv")


def submit_file(
    client: Client,
    source: Path,
    results: Path,
    *,
    resume: bool = False,
    show_progress: bool | None = None,
) -> SubmitSummary:
    """Submit every result in ``source`` and write ``results`` (one row per input row, in order)."""
    results_file = ResultsFile(source)  # a bad file fails here, before anything is sent
    done = completed_rows(results, ACHIEVEMENT_COLUMNS) if resume else -1
    if done > 0:
        _check_same_input(results_file, results, done)
    start = max(done, 0)
    summary = SubmitSummary(resumed_from=start, results_file=str(results), file_format=results_file.kind)
    started = time.monotonic()
    with results.open("a" if done >= 0 else "w", newline="", encoding="utf-8") as stream:
        writer = achievement_results_writer(stream, first_sequence=start, write_header=done < 0)
        progress: tqdm[Never] = tqdm(
            total=results_file.count,
            initial=start,
            unit="row",
            disable=not sys.stderr.isatty() if show_progress is None else not show_progress,
            file=sys.stderr,
        )
        try:
            send_in_streams(
                lambda first: _Stream(
                    itertools.islice(enumerate(results_file.rows()), first, first + ROWS_PER_STREAM)
                ),
                lambda rows: client.records.SubmitAchievements(rows.requests(), metadata=client.metadata),
                lambda rows, response: rows.write_answered(writer, summary, progress, response),
                lambda: writer.next_sequence,
                ROWS_PER_STREAM,
            )
        finally:
            writer.close()
            progress.close()
    summary.rows = writer.next_sequence
    summary.skipped = results_file.skipped
    summary.seconds = time.monotonic() - started
    return summary
