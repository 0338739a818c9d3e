from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching import PersonRecord, ProbabilisticMatcher
from matching.synthetic import VARIATIONS, Registration, SyntheticStream

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
    # A changed birth date together with a changed name: only the sorted name codes and the
    # postcode-district + one-name keys survive these.
    "name_swap_and_dob_typo": replace(
        ORIGINAL, given_name="O'Neill", family_name="Katherine", date_of_birth=date(2011, 5, 8)
    ),
    "name_swap_and_year_typo": replace(
        ORIGINAL, given_name="O'Neill", family_name="Katherine", date_of_birth=date(2014, 5, 7)
    ),
    "nickname_and_dob_typo": replace(ORIGINAL, given_name="Kate", date_of_birth=date(2011, 5, 8)),
    "typo_given_and_dob_typo": replace(ORIGINAL, given_name="Catherine", date_of_birth=date(2011, 6, 7)),
    "typo_family_and_dob_typo": replace(ORIGINAL, family_name="O'Nell", date_of_birth=date(2011, 5, 27)),
    "changed_surname_and_dob_typo": replace(ORIGINAL, family_name="Kowalski", date_of_birth=date(2011, 5, 6)),
}


@pytest.mark.parametrize("variation", sorted(VARIANTS))
def test_variant_shares_a_blocking_key(matcher: ProbabilisticMatcher, variation: str) -> None:
    assert matcher.blocking_keys(ORIGINAL) & matcher.blocking_keys(VARIANTS[variation])


def test_key_set(matcher: ProbabilisticMatcher) -> None:
    """The keys stored for a learner (a change here needs a re-key of existing registries)."""
    assert matcher.blocking_keys(ORIGINAL) == {
        "g20110507K365",  # DOB + soundex(given)
        "f20110507O540",  # DOB + soundex(family)
        "nK0RN:ONL:201105",  # sorted name codes + year + month or day (a typo in one keeps the other)
        "nK0RN:ONL:201107",
        "mK0RN:ONL:0507",  # sorted name codes + sorted month/day
        "pSW1A:20110507",  # district + DOB
        "rSW1A:K0RN",  # district + given name
        "rSW1A:ONL",  # district + family name
    }


AT_HOME = replace(ORIGINAL, address_line1="Flat 2, 14 Mill Rd", town="Leeds", upn="H801200001001")


def test_address_and_upn_keys(matcher: ProbabilisticMatcher) -> None:
    """The household within the town (by its sound; within the postcode district when no town is
    given), and the permanent UPN."""
    assert matcher.blocking_keys(AT_HOME) - matcher.blocking_keys(ORIGINAL) == {
        "h14:2:mill road:LTS",
        "uH801200001001",
    }
    no_town = replace(AT_HOME, town="")
    assert "h14:2:mill road:SW1A" in matcher.blocking_keys(no_town)
    temporary = replace(AT_HOME, upn="G80120000101A")
    assert not any(key.startswith("u") for key in matcher.blocking_keys(temporary))


ADDRESS_VARIANTS = {
    # Every name and the birth date changed, the postcode missing: the household in the town.
    "everything_but_the_house": replace(
        AT_HOME,
        given_name="Rose",
        family_name="Kowalski",
        date_of_birth=date(2009, 2, 1),
        postcode="ZZ99 3CZ",
        address_line1="14 Mill Road",
        address_line2="Flat 2",
        upn="",
    ),
    # The town misspelt as well, and no UPN: the household in the town as it sounds.
    "town_misspelt": replace(
        AT_HOME,
        given_name="Rose",
        family_name="Kowalski",
        date_of_birth=date(2009, 2, 1),
        town="Leds",
        upn="",
    ),
    # Only the UPN is left.
    "only_the_upn": person(given="X", family="Y", dob=date(2001, 1, 1), postcode="", upn="H801200001001"),
}


@pytest.mark.parametrize("variation", sorted(ADDRESS_VARIANTS))
def test_address_variant_shares_a_blocking_key(matcher: ProbabilisticMatcher, variation: str) -> None:
    assert matcher.blocking_keys(AT_HOME) & matcher.blocking_keys(ADDRESS_VARIANTS[variation])


def test_forename_surname_swap_keeps_all_but_the_soundex_keys(matcher: ProbabilisticMatcher) -> None:
    swapped = matcher.blocking_keys(VARIANTS["name_swap"])
    original = matcher.blocking_keys(ORIGINAL)
    assert {k for k in original if k[0] in "mnpr"} <= swapped


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


_DATE_CHANGES = frozenset({"dob_typo", "dob_day_month_swap", "dob_close", "dob_wrong"})
_MOVES = frozenset({"new_address", "missing_postcode", "postcode_mistyped"})


def _date_and_move(variations: tuple[str, ...]) -> bool:
    return bool(_DATE_CHANGES.intersection(variations)) and bool(_MOVES.intersection(variations))


def test_synthetic_double_variations_are_retrieved(matcher: ProbabilisticMatcher) -> None:
    """Two variations at once (e.g. a mistyped birth date and a nickname) still keep a key. A date
    error together with a move leaves only the names, and a names-only key would hold hundreds of
    learners at 1M: those are held to a looser bound (seed 3: 4 of 33 missed, three of them a wholly
    wrong or two-digit date with a move)."""
    stream = SyntheticStream(seed=3)
    registrations = list(stream.registrations(6000))
    doubles = [r for r in registrations if r.kind == "reregistration" and len(r.variations) == 2]
    dob_and_name = [
        r for r in doubles if r.variations[0].startswith("dob") != r.variations[1].startswith("dob")
    ]
    assert len(dob_and_name) >= 20

    def missed(group: list[Registration]) -> list[Registration]:
        return [
            r
            for r in group
            if not matcher.blocking_keys(r.record) & matcher.blocking_keys(stream.persons[r.person_id])
        ]

    designed = [r for r in doubles if not _date_and_move(r.variations)]
    date_and_move = [r for r in doubles if _date_and_move(r.variations)]
    assert len(missed(designed)) <= len(designed) // 200
    assert len(missed(date_and_move)) <= max(1, len(date_and_move) // 5)


@settings(max_examples=300, deadline=None)
@given(
    st.text(min_size=1, max_size=35),
    st.text(min_size=1, max_size=35),
    st.sampled_from(["ǆ" * 32, "ﬆ" * 35, "Ǳ" * 32, "ﷺ" * 35, "Okafor"]),
)
def test_every_key_fits_the_64_character_column(given_name: str, family_name: str, expanding: str) -> None:
    """Names of legal length that spell out to many letters ("ǆ" is "dž") must not make a key
    longer than learner_blocking_key.key holds (that was an INTERNAL on PostgreSQL)."""
    matcher = ProbabilisticMatcher()
    for given_, family in ((given_name, family_name), (expanding, family_name), (given_name, expanding)):
        record = person(given=given_, family=family, postcode="SW1A 1AA")
        assert all(len(key) <= 64 for key in matcher.blocking_keys(record)), record
    at_home = person(
        postcode="SW1A 1AA",
        address_line1="9" * 10 + " " + (expanding * 2)[:50],
        address_line2=given_name[:50],
        town=(expanding * 2)[:50],
    )
    assert all(len(key) <= 64 for key in matcher.blocking_keys(at_home)), at_home
