from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from matching import PersonRecord, ProbabilisticMatcher
from matching.synthetic import VARIATIONS, SyntheticStream

from .conftest import person

ORIGINAL = person(given="Katherine", family="O'Neill", dob=date(2011, 5, 7), middle_names="Rose")
VARIANTS = {
    "typo_given": replace(ORIGINAL, given_name="Kathrine"),
    "typo_family": replace(ORIGINAL, family_name="O'Neil"),
    "nickname": replace(ORIGINAL, given_name="Kate"),
    "preferred_name": replace(ORIGINAL, given_name="Rose", middle_names="Katherine"),
    "double_barrelled": replace(ORIGINAL, family_name="O'Neill-Kowalski"),
    "changed_surname": replace(ORIGINAL, family_name="Kowalski", previous_family_names=("O'Neill",)),
    "name_swap": replace(ORIGINAL, given_name="O'Neill", family_name="Katherine"),
    "dob_day_month_swap": replace(ORIGINAL, date_of_birth=date(2011, 7, 5)),
    "dob_typo": replace(ORIGINAL, date_of_birth=date(2011, 5, 8)),
    "dob_year_typo": replace(ORIGINAL, date_of_birth=date(2014, 5, 7)),
    "new_address": replace(ORIGINAL, postcode="M1 1AE"),
    "missing_postcode": replace(ORIGINAL, postcode="ZZ99 3CZ"),
    "new_address_and_nickname": replace(ORIGINAL, postcode="M1 1AE", given_name="Katie"),
    "new_address_and_dob_typo": replace(ORIGINAL, postcode="M1 1AE", date_of_birth=date(2011, 5, 17)),
}


@pytest.mark.parametrize("variation", sorted(VARIANTS))
def test_variant_shares_a_blocking_key(matcher: ProbabilisticMatcher, variation: str) -> None:
    assert matcher.blocking_keys(ORIGINAL) & matcher.blocking_keys(VARIANTS[variation])


def test_unrelated_people_share_no_key(matcher: ProbabilisticMatcher) -> None:
    other = person(given="Oliver", family="Smith", dob=date(2012, 1, 30), postcode="LS1 4AP")
    assert not matcher.blocking_keys(ORIGINAL) & matcher.blocking_keys(other)


def test_keys_are_short_and_several(matcher: ProbabilisticMatcher) -> None:
    keys = matcher.blocking_keys(ORIGINAL)
    assert len(keys) >= 5
    assert all(len(key) <= 24 for key in keys)


def test_keys_survive_empty_and_non_latin_names(matcher: ProbabilisticMatcher) -> None:
    assert matcher.blocking_keys(PersonRecord("", "", date(2010, 1, 1), postcode="M1 1AE"))
    assert matcher.blocking_keys(person(given="王", family="伟")) & matcher.blocking_keys(
        person(given="王", family="伟")
    )


def test_synthetic_single_variations_are_retrieved(matcher: ProbabilisticMatcher) -> None:
    """Every single typical variation in the synthetic stream keeps at least one key (bar a handful)."""
    stream = SyntheticStream(seed=3)
    registrations = list(stream.registrations(4000))
    singles = [r for r in registrations if r.kind == "reregistration" and len(r.variations) == 1]
    assert {r.variations[0] for r in singles} == set(VARIATIONS)
    missed = [
        r
        for r in singles
        if not matcher.blocking_keys(r.record) & matcher.blocking_keys(stream.persons[r.person_id])
    ]
    assert len(missed) <= len(singles) // 200
