"""The order in which a file command writes results: ``school_client.streaming.ready_rows``.

Rows wait in input order; unparsed rows (never sent) are written as soon as every row before them
is, a sent row only when its answer arrives. The results file must come out in input order with
every row exactly once, whatever the mix of parsed and unparsed rows.
"""

from __future__ import annotations

from collections import deque

from hypothesis import given
from hypothesis import strategies as st

from school_client.files import RowProblem
from school_client.streaming import ready_rows

Row = str | RowProblem


def _queue(kinds: list[bool]) -> deque[tuple[int, Row]]:
    """Sequence numbers 1..n; True: a parsed (sent) row, False: an unparsed one."""
    return deque(
        (n, f"row {n}" if sent else RowProblem(n, f"MIS{n}", "BAD", "unreadable"))
        for n, sent in enumerate(kinds, start=1)
    )


def test_leading_unparsed_rows_go_without_an_answer_and_a_sent_row_waits() -> None:
    queued = _queue([False, False, True, False])
    assert [(n, a) for n, _, a in ready_rows(queued, None)] == [(1, False), (2, False)]
    assert [n for n, _ in queued] == [3, 4]


def test_an_answer_for_a_later_row_writes_nothing_ahead_of_the_waiting_one() -> None:
    queued = _queue([True, True])
    assert list(ready_rows(queued, 2)) == []
    assert [n for n, _ in queued] == [1, 2]


def test_the_answer_writes_its_row_and_stops_before_the_next_sent_row() -> None:
    queued = _queue([True, False, True])
    assert [(n, a) for n, _, a in ready_rows(queued, 1)] == [(1, True)]
    assert [(n, a) for n, _, a in ready_rows(queued, None)] == [(2, False)]
    assert [n for n, _ in queued] == [3]


@given(st.lists(st.booleans(), max_size=40))
def test_answers_in_input_order_write_every_row_once_in_input_order(kinds: list[bool]) -> None:
    queued = _queue(kinds)
    written: list[tuple[int, bool]] = [(n, a) for n, _, a in ready_rows(queued, None)]
    for n in [n for n, sent in enumerate(kinds, start=1) if sent]:
        written.extend((m, a) for m, _, a in ready_rows(queued, n))
    written.extend((n, a) for n, _, a in ready_rows(queued, None))
    assert [n for n, _ in written] == list(range(1, len(kinds) + 1))
    assert [a for _, a in written] == kinds  # exactly the sent rows were written as answered
    assert not queued
