"""``_agrees`` stops after a comparison's last positive level; it must answer exactly what "the level
reached weighs for a match" answers, on the pairs the matcher really sees (a registration and the
people it resembles: re-registrations, twins, siblings, parents, strangers from the same stream)."""

from __future__ import annotations

import itertools
from functools import cache

from hypothesis import given, settings
from hypothesis import strategies as st

from matching.comparisons import _FAMILY_DIRECT, _GIVEN_DIRECT, COMPARISONS, NULL, _agrees, make_context
from matching.config import MatcherConfig
from matching.normalise import NormalisedRecord, exchange_names, normalise_record
from matching.synthetic import SyntheticStream

CONFIG = MatcherConfig()


@cache
def _records() -> tuple[NormalisedRecord, ...]:
    return tuple(normalise_record(r.record) for r in SyntheticStream(7).registrations(3000))


def _by_definition(comparison_index: int, a: NormalisedRecord, b: NormalisedRecord) -> bool:
    ctx = make_context(CONFIG, None)
    comparison = (_GIVEN_DIRECT, _FAMILY_DIRECT, *COMPARISONS)[comparison_index]
    level = comparison.level(a, b, ctx)
    return level != NULL and CONFIG.weight(comparison.field, level) > 0


@settings(max_examples=400, deadline=None)
@given(st.integers(0, 2999), st.integers(0, 2999), st.integers(0, len(COMPARISONS) + 1), st.booleans())
def test_agrees_answers_as_the_level_reached(i: int, j: int, which: int, exchanged: bool) -> None:
    records = _records()
    a, b = records[i], records[max(0, j - 1) if j % 3 == 0 else j]  # neighbours: often one family
    if exchanged:
        a = exchange_names(a)
    comparison = (_GIVEN_DIRECT, _FAMILY_DIRECT, *COMPARISONS)[which]
    assert _agrees(comparison, a, b, make_context(CONFIG, None)) == _by_definition(which, a, b)


def test_every_pair_of_one_household_agrees_as_by_definition() -> None:
    """Records next to each other in the stream are often look-alikes of one another."""
    records = _records()
    ctx = make_context(CONFIG, None)
    for a, b in itertools.pairwise(records):
        for which, comparison in enumerate((_GIVEN_DIRECT, _FAMILY_DIRECT, *COMPARISONS)):
            assert _agrees(comparison, a, b, ctx) == _by_definition(which, a, b)
