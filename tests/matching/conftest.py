from __future__ import annotations

from datetime import date

import pytest

from matching import Gender, PersonRecord, ProbabilisticMatcher, default_matcher


@pytest.fixture(scope="session")
def matcher() -> ProbabilisticMatcher:
    return default_matcher()


def person(
    given: str = "Zbigniew",
    family: str = "Wójcik",
    dob: date = date(2010, 3, 14),
    gender: Gender = Gender.MALE,
    postcode: str = "SW1A 1AA",
    **extra: object,
) -> PersonRecord:
    return PersonRecord(given, family, dob, gender, postcode, **extra)  # type: ignore[arg-type]
