"""A town where many learners live is weak evidence: it may keep a pair from MATCHED, never from review.

The blind set (seed 21) MATCHED a new Kwame Kofi Mensah to a registered one: same full name, born
the same year with one digit of the month apart, in another house in Leeds, a town holding one
learner in seventeen. ``district_or_town`` weighs 3 bits (strangers share a district or town about
1 time in 200); in Leeds they share it 1 time in 17.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from matching import Candidate, Gender, Outcome, default_matcher
from matching.types import MatchDecision, PersonRecord
from tests.matching.test_decide import _POOL_FREQUENCIES, copies_of_a_pool_record

REGISTERED = PersonRecord(
    "Kwame",
    "Mensah",
    date(2011, 9, 25),
    Gender.MALE,
    "LS12 2TU",
    "Kofi",
    address_line1="83 Market Avenue",
    town="Leeds",
)
NAMESAKE = replace(
    REGISTERED, date_of_birth=date(2011, 4, 25), postcode="LS9 8SH", address_line1="122 Priory Road"
)


class Registry:
    """Counts as the blind set's registry held them, the town's as given."""

    def __init__(self, leeds: int, total: int = 2928) -> None:
        self._counts = {
            ("given_name", "kwame"): 4,
            ("family_name", "mensah"): 3,
            ("town", "leeds"): leeds,
        }
        self._total = total

    def count(self, field: str, value: str) -> int:
        return self._counts.get((field, value), 0)

    def total(self) -> int:
        return self._total


def test_a_namesake_in_a_common_town_with_a_mistyped_looking_date_goes_to_review() -> None:
    matcher = default_matcher()
    decision = matcher.decide(NAMESAKE, [Candidate(1, REGISTERED)], Registry(leeds=171))
    assert decision.outcome is Outcome.POSSIBLE_MATCH
    (shown,) = decision.candidates
    address = next(c for c in shown.comparisons if c.field == "address")
    assert address.level == "district_or_town"
    # Leeds would count against (1 in 17 > the level's m of 1 in 25): no lower than the wider area.
    config = matcher.config
    assert shown.doubt == address.weight - config.weight("address", "area") > 2.5
    assert shown.match_weight - shown.doubt < matcher.config.unplaced_upper_threshold <= shown.match_weight


def test_the_same_pair_in_a_small_town_is_matched_on_the_towns_full_weight() -> None:
    """Where the town holds no more learners than the level's u says, nothing is taken off."""
    decision = default_matcher().decide(NAMESAKE, [Candidate(1, REGISTERED)], Registry(leeds=5))
    assert decision.outcome is Outcome.MATCHED
    assert decision.candidates[0].doubt == 0


def test_below_the_term_frequency_minimum_no_doubt_is_taken() -> None:
    matcher = default_matcher()
    few = Registry(leeds=171, total=matcher.config.tf_min_total - 1)
    assert matcher.decide(NAMESAKE, [Candidate(1, REGISTERED)], few).candidates[0].doubt == 0


class _WithPlaceShare:
    """The pool's counts, with every district and town holding ``share`` of the learners."""

    def __init__(self, share: float) -> None:
        self._share = share

    def count(self, field: str, value: str) -> int:
        if field in ("postcode_district", "town"):
            return round(self._share * _POOL_FREQUENCIES.total())
        return _POOL_FREQUENCIES.count(field, value)

    def total(self) -> int:
        return _POOL_FREQUENCIES.total()


def _moved(draw: st.DrawFn, query: PersonRecord, other: PersonRecord) -> dict[str, Any]:
    return {
        "given_name": draw(st.sampled_from([query.given_name, query.given_name, other.given_name])),
        "family_name": draw(st.sampled_from([query.family_name, query.family_name, other.family_name])),
        "date_of_birth": query.date_of_birth + timedelta(days=draw(st.sampled_from([0, 0, 1, 30, 365]))),
        "address_line1": draw(st.sampled_from([query.address_line1, other.address_line1])),
        "postcode": draw(st.sampled_from([query.postcode, other.postcode, ""])),
        "town": draw(st.sampled_from([query.town, query.town, other.town])),
    }


@st.composite
def _moved_copies(draw: st.DrawFn) -> tuple[PersonRecord, list[Candidate]]:
    """A record and candidates made from it that often live elsewhere in the same town."""
    return copies_of_a_pool_record(draw, 4, _moved)


def _shown(decision: MatchDecision) -> list[tuple[int, float]]:
    return [(s.candidate_id, s.match_weight) for s in decision.candidates]


@settings(max_examples=300, deadline=None)
@given(_moved_copies(), st.sampled_from([0.0, 0.002, 0.01, 0.05, 0.2, 0.6]))
def test_a_common_place_only_ever_turns_a_match_into_a_review(
    case: tuple[PersonRecord, list[Candidate]], share: float
) -> None:
    """Against the same pairs with no place counted: the same candidates shown with the same weights,
    and the same outcome, except that a MATCHED may become a POSSIBLE_MATCH."""
    matcher = default_matcher()
    query, candidates = case
    plain = matcher.decide(query, candidates, _WithPlaceShare(0.0))
    placed = matcher.decide(query, candidates, _WithPlaceShare(share))
    assert _shown(placed) == _shown(plain)
    if plain.outcome is Outcome.MATCHED and placed.outcome is Outcome.POSSIBLE_MATCH:
        assert placed.candidates[0].doubt > 0
    else:
        assert (placed.outcome, placed.matched_id) == (plain.outcome, plain.matched_id)
