"""Matcher configuration: m/u probabilities per comparison level, thresholds, blocking limits.

This is data, not code: a frozen dataclass with documented defaults (see docs/MATCHING.md for how
each value was chosen). ``m`` is P(level | same person), ``u`` is P(level | different people); the
level's weight is log2(m / u). A level with m = 1e-12 is a *hard negative*: no combination of
agreements elsewhere can outweigh it (given names unrelated, birth dates far apart).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

HARD_NEGATIVE_M = 1e-12

MU = tuple[float, float]

DEFAULT_LEVELS: Mapping[str, Mapping[str, MU]] = MappingProxyType(
    {
        "given_name": {
            "exact": (0.82, 0.005),
            "swapped": (0.01, 0.00001),
            # Swapped and one name also changed: a few in a thousand re-registrations; strangers need a
            # family name that is a given name and vice versa (each ~1 in 500), so u ~ 1e-4 per field.
            "swapped_varied": (0.004, 0.00015),
            "alternate_name": (0.03, 0.002),
            # Two recognised names a letter or two apart, or forms of one root, with family name and
            # birth date agreeing: how twins differ, and rarely how one pupil is re-registered.
            # Never MATCHED (review_only); mildly against, so it reaches review only with the address.
            "twin_names": (0.005, 0.05),
            # Forms of one birth name (Joshua / Josh) on twins' records: how a pupil re-registered
            # under the name they go by looks, and rarely how twins are named. Never MATCHED
            # (review_only), but for a match, so that a pupil who also moved reaches a reviewer.
            "name_forms": (0.02, 0.01),
            # On twins' records, one first name a later part of the other's names (Hui / Jia Hui,
            # Lily / Lola Lily-Mae): a pupil going by part of a name, or a twin named so. Never
            # MATCHED (review_only), but for a match, so that the pupil reaches a reviewer.
            "name_part": (0.01, 0.005),
            "nickname": (0.05, 0.002),
            # Conor / Connor: a re-registration in 50; strangers with two spellings of one name are
            # about as rare as strangers with a name and its nickname.
            "spelling_variant": (0.02, 0.001),
            "jaro_winkler_high": (0.04, 0.002),
            "distinct_names": (HARD_NEGATIVE_M, 0.6),
            # Names of 3+ letters one keystroke apart that Jaro-Winkler scores below its tiers (short
            # names): strangers' names are that close about 1 time in 300.
            "one_keystroke": (0.02, 0.003),
            "phonetic": (0.015, 0.004),
            "jaro_winkler_mid": (0.01, 0.02),
            "initial": (0.01, 0.03),
            # Two keystrokes apart and nothing above: about 3 re-registrations in 1,000 (FEBRL 4: 10
            # of 3,327); strangers' short names are that close about 1 time in 50. Never MATCHED
            # (review_only): twins' names no dictionary knows look just like this.
            "two_typos": (0.003, 0.05),
            # A first name the start of the other and no level above (Sid / Siddharth): a few
            # re-registrations in a thousand go by a short form no list holds; strangers' names
            # start one another about 1 time in 500. Never MATCHED (review_only): a reviewer decides.
            "short_form": (0.005, 0.002),
            # A short name beginning as a longer one does (3+ letters), or the end of a longer one,
            # and no level above (Gabi / Gabriela, Tomek / Tomasz, Kemi / Oluwakemi): a few
            # re-registrations in a thousand; strangers' names share their first three letters
            # about 1 time in 100. Never MATCHED (review_only): names of one family begin alike.
            "shared_stem": (0.004, 0.01),
            "else": (HARD_NEGATIVE_M, 0.33),
        },
        "family_name": {
            "exact": (0.80, 0.0015),
            "swapped": (0.01, 0.00001),
            "swapped_varied": (0.004, 0.00015),
            "previous_name": (0.04, 0.0002),
            "double_barrelled": (0.03, 0.0002),
            "variant": (0.01, 0.0005),
            "jaro_winkler_high": (0.05, 0.002),
            "phonetic": (0.02, 0.004),
            "jaro_winkler_mid": (0.01, 0.01),
            "else": (0.03, 0.98),
        },
        "date_of_birth": {
            "exact": (0.88, 0.00028),
            "day_month_swapped": (0.03, 0.00028),
            "one_off": (0.07, 0.006),
            "year_off": (0.01, 0.002),
            # Among ~10 cohorts of learners a stranger is within a month about 1 time in 60, two
            # keystrokes away about 1 in 30; a re-registration is, a few times in a hundred.
            "within_month": (0.02, 0.017),
            "two_digits": (0.02, 0.03),
            # The same, with the year one of the two: weighed alike, but at one house it is how
            # brothers given one first name differ (see `household_dates`).
            "two_digits_years": (0.02, 0.03),
            # A wholly wrong date (another row's, a guess) within 12 years: about 1 in 100
            # re-registrations on FEBRL 4 and the synthetic set. Never MATCHED (review_only), but names
            # and address can bring it to review. Further apart is a generation (a parent): "else",
            # a hard negative.
            "different_date": (0.01, 0.9),
            "else": (HARD_NEGATIVE_M, 0.05),
        },
        # Postcode and address lines together (one move is one disagreement, not two).
        "address": {
            # ~1 learner in 100,000 shares a stranger's house (siblings are told apart by name and date).
            "same_address": (0.70, 0.00001),
            "postcode_unit": (0.72, 0.0001),
            "street_typo": (0.03, 0.00001),
            # The street agrees and a number is missing on one side (or a named house): strangers on
            # one street are ~3 in 10,000 pairs, and about 1 address in 10 gives no number (left
            # off, or a house with a name), hence u; a re-registration that drops the number or
            # names the house, a few in a hundred. Another number on the street is `same_street`.
            "street_number_unknown": (0.03, 0.00003),
            # Another number on the same street within one postcode unit: strangers ~1 pair in
            # 10,000 (nearly all who share a unit live at other houses: postcode_unit's u); a
            # re-registration, a number mistyped or a move a few doors along, ~1 in 100.
            "unit_other_house": (0.01, 0.0001),
            "same_street": (0.02, 0.0003),
            "postcode_sector": (0.04, 0.001),
            "district_or_town": (0.04, 0.005),
            "area": (0.04, 0.03),
            "else": (0.16, 0.96),
        },
        "gender": {
            "agree": (0.98, 0.5),
            "conflict": (0.02, 0.5),
        },
        # Permanent UPNs (temporary ones are null). A UPN is issued once per pupil in England; the
        # same one on a stranger is a keying error (~1 in 10 million pairs), a different one on the
        # same pupil is a re-issue or a school's mistake (~1 in 200 re-registrations that carry both).
        "upn": {
            "same": (0.95, 0.0000001),
            "different_children": (0.002, 0.8),
            "different": (0.005, 0.2),
        },
        # When both sides give middle names. A pupil's are copied from one birth certificate, so they
        # differ wholly on about 1 re-registration in 20 (a school's mistake, a name dropped and
        # another kept); strangers share one about 1 time in 20 (a few names, Louise, Rose, James,
        # are common), and differ otherwise. Names are correlated with the family (a family name
        # as a middle name), so neither side is pushed to its extreme.
        "middle_names": {
            "agree": (0.85, 0.05),
            "similar": (0.05, 0.005),
            "initial": (0.04, 0.05),
            # One family (twins, or brothers and sisters at one house), middle names wholly
            # different: never MATCHED (review_only).
            "siblings_middles": (0.05, 0.89),
            "else": (0.05, 0.89),
        },
    }
)


# Birth dates that differ but are close: every date level between "exact" and "different_date".
_INEXACT_DATES = (
    "day_month_swapped",
    "one_off",
    "year_off",
    "within_month",
    "two_digits_years",
    "two_digits",
)
# Address levels that say one house (no house numbers that say another).
_ONE_HOUSE = ("same_address", "postcode_unit", "street_typo", "street_number_unknown")


@dataclass(frozen=True, slots=True)
class MatcherConfig:
    """Everything tunable about the probabilistic matcher. Weights are in bits (log2 Bayes factors)."""

    levels: Mapping[str, Mapping[str, MU]] = field(default_factory=lambda: DEFAULT_LEVELS)
    # log2 prior odds that two records picked at random are the same person (~1 in a million learners).
    prior_match_weight: float = -20.0
    # MATCHED needs a sole candidate at or above `upper_threshold` leading the next by `margin` bits;
    # candidates at or above `lower_threshold` are worth a human look (POSSIBLE_MATCH).
    upper_threshold: float = 6.0
    lower_threshold: float = -4.0
    margin: float = 6.0
    # Jaro-Winkler similarity tiers (rapidfuzz, 0..1).
    jaro_winkler_high: float = 0.92
    jaro_winkler_mid: float = 0.85
    # The given name's jaro_winkler_mid tier also needs the names at most this many edits apart.
    misspelling_max_edits: int = 2
    # Term-frequency adjustment of exact name agreements: u becomes the value's share of learners,
    # once the registry holds at least `tf_min_total` learners, but never below `tf_u_floor`.
    tf_min_total: int = 1000
    tf_u_floor: float = 0.00002
    # A name's share is estimated as (count + tf_prior_learners * u) / (total + tf_prior_learners):
    # the registry's counts, with the exact level's own u worth this many learners beside them. A
    # registry of a few thousand cannot tell a name seen 4 times from a community's common name (two
    # Jakub Nowaks born one day in two towns read as 1 in 1,100 and 1 in 900, and were MATCHED);
    # at 1M learners the prior is a thousandth of the evidence. One value, chosen before measuring.
    tf_prior_learners: float = 1000.0
    # Given and family names are not independent (both follow a family's origin: Shanice Samuels,
    # Bethan Hughes, Eoin Byrne), so the product of their two shares understates how many strangers
    # share a full name. When the family name agrees exactly under TF and the given name agrees too,
    # the family name's TF weight is lowered by this many bits. Measured at 1M learners: without it,
    # 8 of 2,000 new people were MATCHED to strangers with the same full name and birth date.
    # The fixed prior (-20 bits) is the right one for a registry of 2^20 learners; a smaller registry
    # has proportionally fewer strangers, so there the prior is already stricter than it need be by
    # log2(2^20 / total) bits, which is taken off this correction (never below 0; larger registries
    # get more than this). See ProbabilisticMatcher._name_dependence.
    tf_name_dependence: float = 3.0
    # Only this share of the prior's slack is credited: small communities' names cluster far more than
    # 3 bits (a 100k registry still MATCHED Bethan Hughes to a stranger with full credit).
    tf_prior_slack_credit: float = 0.5
    # A given name carried by at least this many learners counts as a recognised, distinct name.
    known_name_min_count: int = 3
    # Birth dates further apart than this are a generation (a parent and child), never one learner.
    different_date_max_years: int = 12
    # Streets whose rapidfuzz token_sort_ratio (0-100) reaches this are one street spelt two ways.
    street_similarity: float = 85.0
    # Levels a MATCHED may not rest on: a candidate reaching any of them goes to a reviewer however
    # strong the rest (twins' names; a wholly different birth date; two permanent UPNs, which
    # England issues once per pupil, with two given names: twins have two of each).
    review_only: frozenset[tuple[str, str]] = frozenset(
        {
            ("given_name", "twin_names"),
            ("given_name", "two_typos"),
            ("given_name", "short_form"),
            ("given_name", "shared_stem"),
            ("given_name", "name_forms"),
            ("given_name", "name_part"),
            ("middle_names", "siblings_middles"),
            ("date_of_birth", "different_date"),
            ("upn", "different_children"),
        }
    )
    # Levels that say the record may be a look-alike of the candidate (a twin), not the candidate
    # with an error: MatchDecision.lookalike (a school's row for a known pupil that reaches one is
    # refused as describing someone else).
    lookalike_levels: frozenset[tuple[str, str]] = frozenset({("given_name", "twin_names")})
    # A learner found by name and birth date alone, living somewhere else (no address, postcode or
    # UPN agreeing), is a namesake often enough at national scale (full names cluster by origin, and
    # ~10 cohorts share each birth date) that MATCHED needs this many bits rather than
    # `upper_threshold`: below it, a reviewer decides.
    unplaced_levels: frozenset[tuple[str, str]] = frozenset({("address", "else"), ("address", "area")})
    unplaced_upper_threshold: float = 9.0
    # So is a learner found by name in the same place but not the same house, with a birth date
    # close but not the same: a common name clusters by place (Patel in Birmingham, Campbell in
    # Glasgow) far more than its national share says, so two such pupils born weeks apart in one
    # town are namesakes as often as one pupil with a mistyped date who moved house. MATCHED needs
    # `unplaced_upper_threshold` for such a pair (a date level below with an address level here).
    nearby_levels: frozenset[tuple[str, str]] = frozenset(
        {
            ("address", "unit_other_house"),
            ("address", "same_street"),
            ("address", "postcode_sector"),
            ("address", "district_or_town"),
        }
    )
    inexact_date_levels: frozenset[tuple[str, str]] = frozenset(
        ("date_of_birth", level) for level in _INEXACT_DATES
    )
    # At one house, another form of the given name (a nickname, a middle name used) together with
    # a birth date that is close but not the same is how a brother or sister differs (Megan and
    # Margaret Williams, born three years apart to the day), at least as often as one pupil
    # re-registered with both changed: never MATCHED, a reviewer decides. So is a birth date two
    # keystrokes away, one of them in the year, at one house without a middle name in common
    # (`household_dates`): brothers given one first name (Mohammed Hussain, 2010-05-06 and Mohammed
    # Imran, 2012-05-02) differ so; two slips in the day and month are a typo's.
    household_levels: frozenset[tuple[str, str]] = frozenset(("address", level) for level in _ONE_HOUSE)
    other_name_levels: frozenset[tuple[str, str]] = frozenset(
        {("given_name", "nickname"), ("given_name", "alternate_name")}
    )
    household_dates: frozenset[tuple[str, str]] = frozenset({("date_of_birth", "two_digits_years")})
    # Shown to a reviewer whatever its weight: a candidate whose every field named here reached one
    # of its levels. Issue 11's rule (names and address agree, the birth date does not, within 12
    # years: further apart is "else", a parent) with the tolerance of one slip: the given name a
    # keystroke off, or another number on the same street of the same postcode unit. A pupil with a
    # mistyped date and house number weighs no more than two relatives named alike a few doors
    # apart, and a reviewer tells them apart in a minute (FEBRL 1's Imzogen / Imogen Akroyd, 14 and
    # 8 Everard Street, born six years apart, at -7 bits). Not when the recorded sexes differ or
    # both give middle names and they share none: a brother and sister at one house with names a
    # letter apart (Erin / Eoin, Alexandra Grace / Alexander Daniel), which the blind set holds.
    review_floor: Mapping[str, frozenset[str]] = field(
        default_factory=lambda: MappingProxyType(
            {
                "given_name": frozenset({"exact", "one_keystroke", "jaro_winkler_high"}),
                "family_name": frozenset({"exact"}),
                "gender": frozenset({"null", "agree"}),
                "middle_names": frozenset({"null", "agree", "similar", "initial"}),
                "date_of_birth": frozenset({*_INEXACT_DATES, "different_date"}),
                "address": frozenset({*_ONE_HOUSE, "unit_other_house"}),
            }
        )
    )

    def weight(self, field_name: str, level: str) -> float:
        m, u = self.levels[field_name][level]
        return math.log2(m / u)

    def m(self, field_name: str, level: str) -> float:
        return self.levels[field_name][level][0]
