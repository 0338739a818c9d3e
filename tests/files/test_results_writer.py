from __future__ import annotations

import csv
import io
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from school_client.files.results import (
    REGISTRATION_COLUMNS,
    AchievementResult,
    LookupResult,
    Outcome,
    RegistrationResult,
    achievement_results_writer,
    lookup_results_writer,
    registration_results_writer,
)
from school_client.files.rows import WRONG_FIELD_COUNT, RowProblem


def read(buffer: io.StringIO) -> list[list[str]]:
    return list(csv.reader(io.StringIO(buffer.getvalue(), newline="")))


@st.composite
def nearly_in_order(draw: st.DrawFn) -> list[int]:
    """A permutation of 0..n-1 in which each item is at most `window` places from home."""
    n = draw(st.integers(0, 200))
    window = draw(st.integers(1, 10))
    keys = [i + draw(st.floats(0, window)) for i in range(n)]
    return sorted(range(n), key=lambda i: keys[i])


@given(nearly_in_order())
def test_rows_come_out_in_input_order(order: list[int]) -> None:
    buffer = io.StringIO(newline="")
    writer = registration_results_writer(buffer, max_pending=20)
    for sequence in order:
        writer.add(sequence, RegistrationResult(f"M{sequence}", Outcome.NEW, uln=str(sequence)))
        assert writer.pending <= 20
    assert writer.close() == []
    rows = read(buffer)
    assert rows[0] == list(REGISTRATION_COLUMNS)
    assert [r[0] for r in rows[1:]] == [f"M{i}" for i in range(len(order))]


def test_outcome_columns() -> None:
    buffer = io.StringIO(newline="")
    writer = registration_results_writer(buffer)
    writer.add(
        1, RegistrationResult("B", Outcome.POSSIBLE_MATCH, candidate_ulns=("1000000043", "9276308686"))
    )
    writer.add(0, RegistrationResult("A", Outcome.MATCHED, uln="9276308686"))
    problem = RowProblem(4, "C", WRONG_FIELD_COUNT, "line 4: expected 30 fields, found 29")
    writer.add(2, RegistrationResult.from_problem(problem))
    writer.add(3, RegistrationResult("D", Outcome.REJECTED, reason="INVALID_POSTCODE", message='bad, "x"'))
    writer.close()
    assert read(buffer)[1:] == [
        ["A", "9276308686", "MATCHED", "", "", ""],
        ["B", "", "POSSIBLE_MATCH", "1000000043;9276308686", "", ""],
        ["C", "", "REJECTED", "", WRONG_FIELD_COUNT, "line 4: expected 30 fields, found 29"],
        ["D", "", "REJECTED", "", "INVALID_POSTCODE", 'bad, "x"'],
    ]


def test_lost_result_is_reported_on_close() -> None:
    buffer = io.StringIO(newline="")
    writer = registration_results_writer(buffer)
    for sequence in (0, 2, 3, 6):
        writer.add(sequence, RegistrationResult(f"M{sequence}", Outcome.NEW))
    assert writer.pending == 3
    assert writer.close() == [1, 4, 5]
    assert [r[0] for r in read(buffer)[1:]] == ["M0", "M2", "M3", "M6"]


def test_overflow_and_duplicates() -> None:
    writer = registration_results_writer(io.StringIO(newline=""), max_pending=3)
    writer.add(0, RegistrationResult("A", Outcome.NEW))
    with pytest.raises(ValueError):
        writer.add(0, RegistrationResult("A", Outcome.NEW))
    for sequence in (2, 3, 4):
        writer.add(sequence, RegistrationResult("x", Outcome.NEW))
    with pytest.raises(OverflowError, match="waiting for result 1"):
        writer.add(5, RegistrationResult("x", Outcome.NEW))


class CountingStream(io.StringIO):
    flushes = 0

    def flush(self) -> None:
        self.flushes += 1
        super().flush()


def test_flushes_regularly() -> None:
    stream = CountingStream(newline="")
    writer = registration_results_writer(stream, flush_rows=10)
    order = list(range(100))
    random.Random(1).shuffle(order[:5])
    for sequence in order:
        writer.add(sequence, RegistrationResult("x", Outcome.NEW))
    assert stream.flushes >= 10


def test_lookup_and_achievement_writers() -> None:
    buffer = io.StringIO(newline="")
    writer = lookup_results_writer(buffer)
    writer.add(
        0, LookupResult("APP-1", "MISMATCH", uln="1748529632", mismatched_fields=("given_name", "gender"))
    )
    writer.add(1, LookupResult.from_problem(RowProblem(3, "APP-2", WRONG_FIELD_COUNT, "line 3: short")))
    writer.close()
    assert read(buffer) == [
        ["Reference", "Outcome", "ULN", "CandidateULNs", "MismatchedFields", "Reason", "Message"],
        ["APP-1", "MISMATCH", "1748529632", "", "given_name;gender", "", ""],
        ["APP-2", "REJECTED", "", "", "", WRONG_FIELD_COUNT, "line 3: short"],
    ]
    buffer = io.StringIO(newline="")
    achievements = achievement_results_writer(buffer)
    achievements.add(0, AchievementResult(2, "9276308686", "ACCEPTED", qualification_ref="601/4502/5"))
    achievements.close()
    assert read(buffer)[1] == ["2", "", "9276308686", "601/4502/5", "", "ACCEPTED", "", ""]
