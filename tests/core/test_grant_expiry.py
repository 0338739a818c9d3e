"""The grant date rule: from today to two years on (the same day, or 28 February for a 29th), empty
for 90 days on; anything else is one field violation on ``expires_on``."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from lrs_server.domain.errors import Reason
from lrs_server.domain.grants import end_of, latest_end, parse_expiry
from lrs_server.domain.validation import Violations

TODAYS = st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31))


def _parse(value: str, today: date) -> tuple[date, list[tuple[str, Reason]]]:
    found = Violations()
    last = parse_expiry(value, today, found)
    return last, [(v.field, v.reason) for v in found.found]


@given(TODAYS, st.integers(min_value=0, max_value=800))
def test_dates_from_today_to_two_years_on_are_accepted_and_no_others(today: date, ahead: int) -> None:
    asked = today + timedelta(days=ahead)
    last, violations = _parse(asked.isoformat(), today)
    assert last == asked
    assert (violations == []) == (asked <= latest_end(today))


@given(TODAYS, st.integers(min_value=1, max_value=10_000))
def test_a_date_in_the_past_is_refused(today: date, back: int) -> None:
    asked = today - timedelta(days=back)
    _, violations = _parse(asked.isoformat(), today)
    assert violations == [("expires_on", Reason.GRANT_EXPIRY_INVALID)]


@given(TODAYS, st.text(max_size=12))
def test_text_that_is_not_a_date_is_one_violation_never_an_exception(today: date, text: str) -> None:
    last, violations = _parse(text, today)
    if not text.strip():
        assert (last, violations) == (today + timedelta(days=90), [])
    else:
        assert violations in ([], [("expires_on", Reason.GRANT_EXPIRY_INVALID)])
        assert violations or today <= last <= latest_end(today)


def test_two_years_from_a_29th_of_february_is_the_28th() -> None:
    assert latest_end(date(2028, 2, 29)) == date(2030, 2, 28)
    assert latest_end(date(2026, 11, 28)) == date(2028, 11, 28)


@given(TODAYS)
def test_a_grant_runs_to_the_end_of_its_last_day(last: date) -> None:
    ends = end_of(last)
    assert ends.date() == last + timedelta(days=1) and (ends.hour, ends.minute) == (0, 0)
    assert ends.utcoffset() == timedelta(0)
