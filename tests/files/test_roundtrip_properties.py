"""Property tests: what write_lrb writes, open_lrb reads back; dates in either format mean the same day."""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import fields, replace
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from school_client.files.lrb import open_lrb, write_lrb
from school_client.files.normalise import (
    normalise_ability_to_share,
    normalise_date,
    normalise_gender,
)
from school_client.files.rows import LearnerRow

# Any text a spreadsheet could hold, commas, quotes and newlines included (no surrogates, no NUL).
text = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=20).map(str.strip)
TEXT_FIELDS = [f.name for f in fields(LearnerRow) if f.name not in ("line_number", "upn")]


@st.composite
def learner_rows(draw: st.DrawFn) -> LearnerRow:
    values = {name: draw(text) for name in TEXT_FIELDS}
    values["mis_identifier"] = draw(text.filter(bool))  # a row with every cell empty is a blank row
    values["gender"] = draw(st.sampled_from(["", "not-known", "male", "female", "not-specified"]) | text)
    values["ability_to_share"] = draw(st.sampled_from(["", "not-seen", "share", "do-not-share"]) | text)
    values["date_of_birth"] = draw(st.dates().map(dt.date.isoformat) | text)
    return LearnerRow(line_number=0, **values)


def expected(row: LearnerRow) -> LearnerRow:
    """Reading normalises; a raw value that happens to be a code comes back normalised."""
    return replace(
        row,
        gender=normalise_gender(row.gender),
        ability_to_share=normalise_ability_to_share(row.ability_to_share),
        date_of_birth=normalise_date(row.date_of_birth),
        date_of_address_capture=normalise_date(row.date_of_address_capture),
    )


@settings(max_examples=60, deadline=None)
@given(st.lists(learner_rows(), min_size=1, max_size=8), st.booleans())
def test_lrb_round_trip(rows: list[LearnerRow], with_file_header: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "round.csv"
        with path.open("w", encoding="utf-8", newline="") as out:
            write_lrb(
                out, rows, file_name="x", ukprn="1", record_count=len(rows) if with_file_header else None
            )
        got = list(open_lrb(path))
    assert [replace(g, line_number=0) for g in got] == [expected(r) for r in rows]
    lines = [g.line_number for g in got]
    assert lines == sorted(lines) and lines[0] == 2


@given(st.dates(min_value=dt.date(1000, 1, 1)))
def test_date_formats_agree(day: dt.date) -> None:
    iso = day.isoformat()
    assert normalise_date(iso) == iso
    assert normalise_date(day.strftime("%d/%m/") + f"{day.year:04d}") == iso
    assert normalise_date(f" {day.day}/{day.month}/{day.year:04d} ") == iso
    # Spreadsheet and MIS exports: other separators, year first unpadded, a time of day appended.
    assert normalise_date(f"{day.day:02d}-{day.month:02d}-{day.year:04d}") == iso
    assert normalise_date(f"{day.day}.{day.month}.{day.year:04d}") == iso
    assert normalise_date(f"{day.year:04d}-{day.month}-{day.day}") == iso
    assert normalise_date(f"{day.year:04d}/{day.month:02d}/{day.day:02d}") == iso
    assert normalise_date(f"{iso} 00:00:00") == iso
    assert normalise_date(f"{iso}T13:45:00.000") == iso
    assert normalise_date(day.strftime("%d/%m/") + f"{day.year:04d} 00:00") == iso


@given(text)
def test_unrecognised_dates_pass_through(value: str) -> None:
    result = normalise_date(value)
    assert result == value or dt.date.fromisoformat(result)


def test_impossible_dates_pass_through_raw() -> None:
    assert normalise_date("31/02/2011") == "31/02/2011"
    assert normalise_date("2011-13-01") == "2011-13-01"
    assert normalise_date("02/31/2011") == "02/31/2011"  # US order is never guessed
