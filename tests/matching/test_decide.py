from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching import Candidate, Gender, MatcherConfig, Outcome, ProbabilisticMatcher, default_matcher
from matching.evaluate import CountingFrequencies
from matching.normalise import normalise_record
from matching.synthetic import SyntheticStream
from matching.types import MatchDecision, PersonRecord

from .conftest import person


def test_sole_clear_leader_is_matched(matcher: ProbabilisticMatcher) -> None:
    query = person(given="Zbignew")  # a typo
    decision = matcher.decide(
        query, [Candidate(1, person()), Candidate(2, person(given="Anna", family="Nowak"))]
    )
    assert decision.outcome is Outcome.MATCHED
    assert decision.matched_id == 1
    best = decision.candidates[0]
    assert {c.field for c in best.comparisons} == {
        "given_name",
        "family_name",
        "date_of_birth",
        "address",
        "gender",
        "upn",
        "middle_names",
    }
    assert best.match_weight == matcher.config.prior_match_weight + sum(c.weight for c in best.comparisons)


def test_two_candidates_above_upper_threshold_go_to_review(matcher: ProbabilisticMatcher) -> None:
    decision = matcher.decide(person(), [Candidate(1, person()), Candidate(2, person(postcode="SW1A 1AB"))])
    assert decision.outcome is Outcome.POSSIBLE_MATCH
    assert decision.matched_id is None
    assert [c.candidate_id for c in decision.candidates] == [1, 2]


def test_leader_without_margin_goes_to_review() -> None:
    matcher = default_matcher(MatcherConfig(margin=1000.0))
    decision = matcher.decide(person(), [Candidate(1, person()), Candidate(2, person(given="Anna"))])
    assert decision.outcome is Outcome.POSSIBLE_MATCH


def test_between_thresholds_is_possible_match(matcher: ProbabilisticMatcher) -> None:
    # Only a nickname-level given name, a neighbouring address and a birth date one digit off.
    query = person(given="Bill", dob=date(2010, 3, 15), postcode="SW1A 1AB")
    scored = matcher.score(query, [Candidate(1, person(given="William"))])
    assert matcher.config.lower_threshold <= scored[0].match_weight < matcher.config.upper_threshold
    assert matcher.decide(query, [Candidate(1, person(given="William"))]).outcome is Outcome.POSSIBLE_MATCH


def test_no_candidates_is_new(matcher: ProbabilisticMatcher) -> None:
    assert matcher.decide(person(), []).outcome is Outcome.NEW


def test_twins_with_unrelated_names_are_new(matcher: ProbabilisticMatcher) -> None:
    for names in (("Harry", "Thomas"), ("Olivia", "Grace"), ("Isla", "Ruby")):
        query, existing = person(given=names[0]), person(given=names[1])
        assert matcher.decide(query, [Candidate(1, existing)]).outcome is Outcome.NEW, names


TWIN_NAMES = (
    ("Ella", "Ellie"),
    ("Leo", "Leon"),
    ("Mia", "Maya"),
    ("Jayden", "Jaden"),
    ("Anna", "Hanna"),
    ("Isla", "Islay"),
    ("Oliver", "Olivia"),
)


@pytest.mark.parametrize(("twin", "registered"), TWIN_NAMES)
def test_twins_with_similar_names_are_never_matched(
    matcher: ProbabilisticMatcher, twin: str, registered: str
) -> None:
    """Family name, birth date, house and sex shared; two recognised names a letter or two apart: a
    reviewer decides, whatever the rest weighs (here a rare family name and the same house)."""
    home = {"address_line1": "4 Elm Grove", "town": "Leeds"}
    query = person(given=twin, **home)
    decision = matcher.decide(query, [Candidate(1, person(given=registered, **home))])
    assert decision.outcome is Outcome.POSSIBLE_MATCH
    levels = {c.field: c.level for c in decision.candidates[0].comparisons}
    assert levels["given_name"] == "twin_names"
    assert decision.candidates[0].match_weight >= matcher.config.upper_threshold  # held back by the rule


def test_a_twin_whose_name_is_not_recognised_is_not_matched(matcher: ProbabilisticMatcher) -> None:
    """Frida is not in the recognised list and no learner holds it yet: no evidence either way that it is a
    misspelling of Freya, and far enough from it to be another name."""
    decision = matcher.decide(person(given="Frida"), [Candidate(1, person(given="Freya"))])
    assert decision.outcome is not Outcome.MATCHED


def test_two_different_permanent_upns_are_never_matched(matcher: ProbabilisticMatcher) -> None:
    """Isha / Isla: no dictionary knows Isha, so it reads as a typo of Isla; the twins' two UPNs
    still send the pair to a reviewer."""
    home = {"address_line1": "4 Elm Grove", "town": "Leeds"}
    twin = person(given="Isha", upn="H801200001001", **home)
    decision = matcher.decide(twin, [Candidate(1, person(given="Isla", upn="B801200005001", **home))])
    assert decision.outcome is Outcome.POSSIBLE_MATCH
    same = matcher.decide(twin, [Candidate(1, person(given="Isla", upn="H801200001001", **home))])
    assert same.outcome is Outcome.MATCHED


def test_a_diminutive_far_from_its_name_is_still_matched(matcher: ProbabilisticMatcher) -> None:
    for short, full in (("Seb", "Sebastian"), ("Bill", "William"), ("Kuba", "Jakub"), ("Abi", "Abigail")):
        decision = matcher.decide(person(given=short), [Candidate(1, person(given=full))])
        assert decision.outcome is Outcome.MATCHED, (short, full)


def test_a_wholly_different_birth_date_goes_to_review_with_names_and_address(
    matcher: ProbabilisticMatcher,
) -> None:
    home = {"address_line1": "4 Elm Grove", "town": "Leeds"}
    query = person(dob=date(2007, 11, 2), **home)
    decision = matcher.decide(query, [Candidate(1, person(**home))])
    assert decision.outcome is Outcome.POSSIBLE_MATCH
    # Without the address agreeing it is a stranger with the same name.
    moved = person(dob=date(2007, 11, 2), postcode="M1 1AE", address_line1="3 Oak Close")
    assert matcher.decide(moved, [Candidate(1, person(**home))]).outcome is Outcome.NEW


def test_a_birth_date_ten_days_off_is_matched_at_the_same_address(matcher: ProbabilisticMatcher) -> None:
    home = {"address_line1": "4 Elm Grove", "town": "Leeds"}
    query = person(dob=date(2010, 3, 24) + timedelta(days=1), **home)
    assert matcher.decide(query, [Candidate(1, person(**home))]).outcome is Outcome.MATCHED


def test_a_new_family_name_at_the_same_house_is_matched(matcher: ProbabilisticMatcher) -> None:
    home = {"address_line1": "4 Elm Grove", "town": "Leeds", "postcode": "ZZ99 3CZ"}
    query = person(family="Brown", **home)
    decision = matcher.decide(query, [Candidate(1, person(**home))])
    assert decision.outcome is Outcome.MATCHED


def test_parent_with_childs_name_is_new(matcher: ProbabilisticMatcher) -> None:
    parent = person(dob=date(1984, 3, 14))
    assert matcher.decide(parent, [Candidate(1, person())]).outcome is Outcome.NEW


def test_re_registration_with_twin_sibling_present_matches_the_right_one(
    matcher: ProbabilisticMatcher,
) -> None:
    candidates = [Candidate(1, person(given="Amelia")), Candidate(2, person(given="Olivia"))]
    decision = matcher.decide(person(given="Amelya"), candidates)
    assert decision.outcome is Outcome.MATCHED and decision.matched_id == 1


def test_common_names_weigh_less_than_rare_ones() -> None:
    matcher = default_matcher()
    frequencies = CountingFrequencies()
    common = person(given="Oliver", family="Smith")
    rare = person(given="Zbigniew", family="Wójcik")
    for i in range(2000):
        record = common if i % 20 == 0 else person(given=f"G{i}", family=f"F{i}")
        frequencies.add(matcher.frequency_terms(record).items())
    frequencies.add(matcher.frequency_terms(rare).items())
    moved_common, moved_rare = replace(common, postcode="M1 1AE"), replace(rare, postcode="M1 1AE")
    common_weight = matcher.compare(moved_common, common, frequencies).match_weight
    rare_weight = matcher.compare(moved_rare, rare, frequencies).match_weight
    assert rare_weight > common_weight + 5
    # Without frequencies the default u is used, and both weigh the same.
    assert (
        matcher.compare(moved_common, common).match_weight == matcher.compare(moved_rare, rare).match_weight
    )


def test_frequency_terms_are_normalised(matcher: ProbabilisticMatcher) -> None:
    assert matcher.frequency_terms(person(given="ZBIGNIEW Piotr", family="Wójcik")) == {
        "given_name": "zbigniew",
        "family_name": "wojcik",
        "postcode_district": "SW1A",
    }
    placed = replace(person(given="Zbigniew", family="Wójcik"), town="  NEWCASTLE-upon-Tyne ")
    assert (
        matcher.frequency_terms(placed)["town"]
        == matcher.frequency_terms(replace(placed, town="Newcastle upon Tyne"))["town"]
    )


def _same_decision(first: MatchDecision, second: MatchDecision) -> bool:
    return (first.outcome, first.matched_id, first.candidates) == (
        second.outcome,
        second.matched_id,
        second.candidates,
    )


@pytest.mark.parametrize(
    ("config", "prunes"),
    [
        (MatcherConfig(), True),
        # Thresholds closer than the margin: a hopeless runner-up could hold back a MATCHED.
        (MatcherConfig(upper_threshold=2.0, lower_threshold=-1.0, margin=6.0), False),
    ],
)
def test_deciding_without_scoring_hopeless_candidates_changes_nothing(
    config: MatcherConfig, prunes: bool
) -> None:
    """decide() stops scoring a candidate once it cannot reach the lower threshold: outcome, match and
    candidates shown (with their weights) must equal scoring every candidate in full. Candidates here
    are every earlier record sharing a given name, family name or birth date (many far weaker than
    blocking would fetch), with the registry's term frequencies."""
    matcher = ProbabilisticMatcher(config)
    registrations = [r.record for r in SyntheticStream(seed=23).registrations(2500)]
    frequencies = CountingFrequencies()
    by_value: dict[object, list[int]] = defaultdict(list)
    pruned = 0
    for index, record in enumerate(registrations):
        ids = sorted(
            {
                i
                for value in (record.given_name, record.family_name, record.date_of_birth)
                for i in by_value[value]
            }
        )
        candidates = [Candidate(i, registrations[i]) for i in ids]
        full = matcher.score(record, candidates, frequencies)
        assert _same_decision(matcher.decide(record, candidates, frequencies), matcher.decide_scored(full))
        pruned += len(full) - len(matcher._score(record, candidates, frequencies, matcher._decide_floor))
        for value in (record.given_name, record.family_name, record.date_of_birth):
            by_value[value].append(index)
        frequencies.add(matcher.frequency_terms(record).items())
    assert (pruned > 1000) if prunes else (pruned == 0)  # the shortcut is taken, and only when exact


# Over tf_min_total learners, so that exact names weigh by how rare they are.
_POOL = [r.record for r in SyntheticStream(seed=29).registrations(1500)]
_POOL_FREQUENCIES = CountingFrequencies()
for _record in _POOL:
    _POOL_FREQUENCIES.add(default_matcher().frequency_terms(_record).items())


def copies_of_a_pool_record(
    draw: st.DrawFn, most: int, vary: Callable[[st.DrawFn, PersonRecord, PersonRecord], dict[str, Any]]
) -> tuple[PersonRecord, list[Candidate]]:
    """A record of the pool and 1..``most`` candidates made from it, each with the fields ``vary``
    draws (given the record and another of the pool) replaced."""
    query = draw(st.sampled_from(_POOL))
    others = st.sampled_from(_POOL)
    return query, [
        Candidate(i, replace(query, **vary(draw, query, draw(others))))
        for i in range(draw(st.integers(1, most)))
    ]


def _near(draw: st.DrawFn, query: PersonRecord, other: PersonRecord) -> dict[str, Any]:
    return {
        "given_name": draw(st.sampled_from([query.given_name, other.given_name, other.family_name])),
        "family_name": draw(st.sampled_from([query.family_name, other.family_name, query.given_name])),
        "date_of_birth": query.date_of_birth
        + timedelta(days=draw(st.sampled_from([0, 0, 1, 30, 365, 366 * 2, 365 * 3, 4000]))),
        "postcode": draw(st.sampled_from([query.postcode, other.postcode, ""])),
        "gender": draw(st.sampled_from([query.gender, other.gender, Gender.NOT_KNOWN])),
    }


@st.composite
def _near_copies(draw: st.DrawFn) -> tuple[PersonRecord, list[Candidate]]:
    """A record and candidates made from it, each changing a few fields: weights near the thresholds."""
    return copies_of_a_pool_record(draw, 6, _near)


@settings(max_examples=400, deadline=None)
@given(_near_copies())
def test_decisions_near_the_thresholds_are_unchanged_by_the_shortcut(
    case: tuple[PersonRecord, list[Candidate]],
) -> None:
    matcher = default_matcher()
    query, candidates = case
    full = matcher.decide_scored(matcher.score(query, candidates, _POOL_FREQUENCIES))
    assert _same_decision(matcher.decide(query, candidates, _POOL_FREQUENCIES), full)


def _varied(name: str) -> str:
    """A typo of ``name`` (its last letter doubled): close enough for a positive name level."""
    return name + name[-1]


@pytest.mark.parametrize("days", [0, 1, 40, 365 * 3, 4000])
@pytest.mark.parametrize("where", ["same", "district", "elsewhere", "none"])
def test_exchanged_and_varied_names_are_decided_as_when_scored_in_full(days: int, where: str) -> None:
    """decide() takes ``swapped_varied`` as false, without working it out, for a pair that even that
    level could not lift to the lower threshold, and works it out when the pair stays above the
    threshold without it. Candidates here read the query's names the other way round (one varied)
    beside strangers, at dates and addresses that put them on both sides of the threshold: the
    outcome and every candidate shown, with its levels and weights, must be those of scoring in full."""
    matcher = default_matcher()
    swapped_seen = 0
    for query in _POOL[:150]:
        postcode = {"same": query.postcode, "district": query.postcode[:-2] + "ZZ", "none": ""}.get(
            where, "ZZ1 1ZZ"
        )
        others = [
            replace(query, given_name=query.family_name, family_name=_varied(query.given_name)),
            replace(query, given_name=_varied(query.family_name), family_name=query.given_name),
            replace(query, given_name=query.family_name, family_name="Zzyzx"),
        ]
        born = query.date_of_birth + timedelta(days=days)
        candidates = [
            Candidate(i, replace(c, date_of_birth=born, postcode=postcode)) for i, c in enumerate(others)
        ]
        full = matcher.score(query, candidates, _POOL_FREQUENCIES)
        swapped_seen += sum(
            any(c.level == "swapped_varied" for c in s.comparisons)
            for s in full
            if s.match_weight >= matcher.config.lower_threshold
        )
        decided = matcher.decide(query, candidates, _POOL_FREQUENCIES)
        assert _same_decision(decided, matcher.decide_scored(full))
    if days == 0 and where == "same":
        assert swapped_seen > 100  # the level is reached where it matters, not presumed away


class _OnlyDeclared:
    """Counts for the declared terms; any other lookup is recorded (``undeclared``)."""

    def __init__(self, counts: CountingFrequencies, declared: set[tuple[str, str]]) -> None:
        self._counts, self._declared = counts, declared
        self.undeclared: set[tuple[str, str]] = set()

    def count(self, field: str, value: str) -> int:
        if (field, value) not in self._declared:
            self.undeclared.add((field, value))
        return self._counts.count(field, value)

    def total(self) -> int:
        return self._counts.total()


def _family_tokens(records: Iterable[PersonRecord]) -> set[tuple[str, str]]:
    return {
        ("given_name", tokens[0]) for record in records if (tokens := normalise_record(record).family.tokens)
    }


@settings(max_examples=300, deadline=None)
@given(_near_copies())
def test_deciding_reads_only_the_counts_the_matcher_declares(
    case: tuple[PersonRecord, list[Candidate]],
) -> None:
    """The server reads frequency_reads() of the query and candidate_frequency_reads() of every
    candidate in one query beforehand; deciding may ask one more kind, a candidate's family name
    read as a given name (the swap check, made for few pairs), which the server then reads alone.
    A candidate's birth name is never asked: the lists already know it."""
    matcher = default_matcher()
    query, candidates = case
    declared = set(matcher.frequency_reads(query)).union(
        *(matcher.candidate_frequency_reads(c.record) for c in candidates)
    )
    only = _OnlyDeclared(_POOL_FREQUENCIES, declared)
    full = matcher.score(query, candidates, only)
    assert only.undeclared <= _family_tokens(c.record for c in candidates)
    assert _same_decision(matcher.decide_scored(full), matcher.decide(query, candidates, _POOL_FREQUENCIES))


def test_a_candidates_birth_name_is_not_read() -> None:
    """Every list says a birth name is recognised, so its count is never asked of a candidate."""
    matcher = default_matcher()
    assert matcher.candidate_frequency_reads(person(given="Oliver")) == frozenset()
    assert matcher.candidate_frequency_reads(person(given="Zyxwa")) == {("given_name", "zyxwa")}


def test_two_records_of_one_learner_count_once(matcher: ProbabilisticMatcher) -> None:
    """A merged duplicate's record comes with its master's id: the learner is matched by its best
    record, and its other record is not a runner-up that sends the row to review."""
    query = person()
    close = replace(query, postcode="M1 1AE")  # the master: moved house
    exact = query  # the duplicate merged into it
    decision = matcher.decide(query, [Candidate(7, close), Candidate(7, exact)])
    assert (decision.outcome, decision.matched_id) == (Outcome.MATCHED, 7)
    assert [s.candidate_id for s in decision.candidates] == [7]
    two_people = matcher.decide(query, [Candidate(7, close), Candidate(8, exact)])
    assert two_people.outcome is Outcome.POSSIBLE_MATCH


def test_brothers_given_one_first_name_are_never_matched(matcher: ProbabilisticMatcher) -> None:
    """Muhammad Hassan and Muhammad Zain Bashir at one house, born a year and four days apart."""
    home = {"address_line1": "150 Windsor Lane", "town": "Oldham", "postcode": "OL8 3ZG"}
    older = person(given="Muhammad", family="Bashir", middle_names="Zain", dob=date(2009, 3, 9), **home)
    younger = replace(older, middle_names="Hassan", date_of_birth=date(2008, 3, 5))
    assert matcher.decide(younger, [Candidate(1, older)]).outcome is Outcome.POSSIBLE_MATCH
    # The same middle name: one pupil with a mistyped date.
    assert (
        matcher.decide(replace(younger, middle_names="Zain"), [Candidate(1, older)]).outcome
        is Outcome.MATCHED
    )


def test_a_sister_with_another_form_of_the_name_is_never_matched(matcher: ProbabilisticMatcher) -> None:
    """Megan and Margaret Williams at one house, born three years apart to the day."""
    home = {"address_line1": "10 Wellington Road", "address_line2": "Page Hall", "town": "Sheffield"}
    megan = person(given="Megan", family="Williams", gender=Gender.FEMALE, dob=date(2008, 10, 15), **home)
    margaret = replace(megan, given_name="Margaret", date_of_birth=date(2011, 10, 15))
    assert matcher.decide(margaret, [Candidate(1, megan)]).outcome is Outcome.POSSIBLE_MATCH
    # One change alone is one pupil: the name with the date, or the date with the name.
    assert (
        matcher.decide(replace(margaret, given_name="Megan"), [Candidate(1, megan)]).outcome
        is Outcome.MATCHED
    )
    same_day = replace(margaret, date_of_birth=megan.date_of_birth)
    assert matcher.decide(same_day, [Candidate(1, megan)]).outcome is Outcome.MATCHED


def test_brothers_given_one_first_name_two_keystrokes_of_date_apart_are_never_matched(
    matcher: ProbabilisticMatcher,
) -> None:
    """Mohammed Hussain born 2010-05-06 and Mohammed Imran Hussain born 2012-05-02, at one house."""
    home = {"address_line1": "97 Abbey View", "town": "Bradford", "postcode": "BD3 2SB"}
    older = person(given="Mohammed", family="Hussain", dob=date(2010, 5, 6), **home)
    younger = replace(older, middle_names="Imran", date_of_birth=date(2012, 5, 2))
    assert matcher.decide(younger, [Candidate(1, older)]).outcome is Outcome.POSSIBLE_MATCH
    # One keystroke of the date is a typo, at home or not.
    typo = replace(younger, date_of_birth=date(2010, 5, 2))
    assert matcher.decide(typo, [Candidate(1, older)]).outcome is Outcome.MATCHED


@pytest.mark.parametrize(
    ("registered", "other"),
    [
        ({"given": "Hui"}, {"given": "Jia Hui"}),  # part of a given name of two parts
        ({"given": "Lily"}, {"given": "Lola", "middle_names": "Lily-Mae"}),  # part of a middle name
    ],
)
def test_a_twin_named_from_part_of_the_others_names_is_never_matched(
    matcher: ProbabilisticMatcher, registered: dict[str, Any], other: dict[str, Any]
) -> None:
    home = {"address_line1": "7 Nelson Road", "town": "Bristol", "gender": Gender.FEMALE}
    twin = person(family="Zhou", **registered, **home)
    decision = matcher.decide(person(family="Zhou", **other, **home), [Candidate(1, twin)])
    assert decision.outcome is Outcome.POSSIBLE_MATCH
    # Not born together, it is one pupil going by part of a name: the alternate name, as before.
    apart = replace(twin, date_of_birth=date(2009, 3, 14))
    levels = {
        c.field: c.level for c in matcher.compare(person(family="Zhou", **other, **home), apart).comparisons
    }
    assert levels["given_name"] == "alternate_name"


_EVERARD = {"address_line1": "8 Everard Street", "town": "Marsfield", "postcode": "DN3 1XY"}


def test_one_slip_in_name_house_and_date_is_held_for_review(matcher: ProbabilisticMatcher) -> None:
    """``review_floor``: a keystroke in the given name, another number on the street of the same
    postcode unit and a birth date six years off weigh ~-7 bits, below the lower threshold; the pair
    is shown to a reviewer all the same (FEBRL 1's Imzogen / Imogen Akroyd)."""
    held = person(given="Imogen", family="Akroyd", gender=Gender.FEMALE, **_EVERARD)
    query = replace(
        held, given_name="Imzogen", address_line1="14 Everard Street", date_of_birth=date(2004, 3, 2)
    )
    decision = matcher.decide(query, [Candidate(1, held)])
    assert decision.outcome is Outcome.POSSIBLE_MATCH
    assert decision.candidates[0].match_weight < matcher.config.lower_threshold
    # The floor is configuration: without it the pair is NEW.
    unfloored = ProbabilisticMatcher(MatcherConfig(review_floor={}))
    assert unfloored.decide(query, [Candidate(1, held)]).outcome is Outcome.NEW


@pytest.mark.parametrize(
    ("registered", "sent"),
    [
        (("Erin", "", Gender.FEMALE), ("Eoin", "", Gender.MALE)),
        (("Alexandra", "Grace", Gender.FEMALE), ("Alexander", "Daniel", Gender.FEMALE)),
    ],
    ids=["another sex", "other middle names"],
)
def test_a_brother_or_sister_a_letter_apart_is_not_held_for_review(
    matcher: ProbabilisticMatcher, registered: tuple[str, str, Gender], sent: tuple[str, str, Gender]
) -> None:
    """The blind set's siblings at one house, names a keystroke apart, years apart: the floor
    leaves them to their weights (NEW)."""
    (given, middle, gender), (other, other_middle, other_gender) = registered, sent
    older = person(given=given, family="Walsh", gender=gender, dob=date(2008, 8, 20), **_EVERARD)
    older = replace(older, middle_names=middle)
    younger = replace(
        older,
        given_name=other,
        middle_names=other_middle,
        gender=other_gender,
        date_of_birth=date(2011, 10, 6),
        address_line1="9 Everard Street",
    )
    assert matcher.decide(younger, [Candidate(1, older)]).outcome is Outcome.NEW
