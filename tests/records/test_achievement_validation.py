"""Property-based tests of the achievement validator (lrs_server/domain/records.py)."""

from __future__ import annotations

import re
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from lrs_server.domain.record_ports import AchievementKind, AchievementStatus
from lrs_server.domain.records import LIMITS, REQUIRED, RawAchievement, validate_achievement
from lrs_server.domain.validation import Violations, clean_text, has_control_characters

TODAY = date(2026, 11, 28)
texts = st.text(max_size=150)
raws = st.builds(
    RawAchievement,
    kind=st.one_of(st.none(), st.sampled_from(AchievementKind)),
    qualification_ref=texts,
    subject=texts,
    component=texts,
    level=texts,
    grade=texts,
    award_date=st.one_of(texts, st.dates().map(date.isoformat)),
    status=st.one_of(st.none(), st.sampled_from(AchievementStatus)),
    awarding_organisation=texts,
)


def _check(raw: RawAchievement) -> tuple[dict[str, str], object]:
    found = Violations()
    data = validate_achievement(raw, TODAY, found)
    return {v.field: v.reason for v in found.found}, data


@given(raws)
def test_every_bad_field_is_named_and_good_ones_are_kept(raw: RawAchievement) -> None:
    fields, data = _check(raw)
    assert ("achievement.kind" in fields) == (raw.kind is None)
    assert ("achievement.status" in fields) == (raw.status is None)
    for name, limit in LIMITS.items():
        value = clean_text(getattr(raw, name))
        expected = (
            "TEXT_INVALID"
            if has_control_characters(value)
            else "FIELD_REQUIRED"
            if name in REQUIRED and not value
            else "FIELD_TOO_LONG"
            if len(value) > limit
            else None
        )
        assert fields.get(f"achievement.{name}") == expected, (name, value)
        if expected is None:
            assert getattr(data, name) == value


@given(st.dates())
def test_award_dates_from_1900_to_today_are_accepted_and_others_refused(day: date) -> None:
    raw = RawAchievement(
        kind=AchievementKind.OTHER,
        qualification_ref="Q1",
        subject="Maths",
        grade="A",
        award_date=day.isoformat(),
        status=AchievementStatus.FINAL,
    )
    fields, data = _check(raw)
    if date(1900, 1, 1) <= day <= TODAY:
        assert fields == {}
        assert data.award_date == day  # type: ignore[attr-defined]
    else:
        assert fields == {"achievement.award_date": "AWARD_DATE_INVALID"}


@given(st.text(max_size=30).filter(lambda t: t.strip() and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", t.strip())))
def test_award_date_not_written_yyyy_mm_dd_is_refused(text: str) -> None:
    raw = RawAchievement(
        kind=AchievementKind.OTHER, qualification_ref="Q", subject="S", grade="A", award_date=text,
        status=AchievementStatus.FINAL,
    )  # fmt: skip
    fields, data = _check(raw)
    assert fields == {"achievement.award_date": "AWARD_DATE_INVALID"}
    assert data.award_date is None  # type: ignore[attr-defined]
