"""The comparisons count edits with rapidfuzz's Damerau-Levenshtein distance; the levels were written and
measured with jellyfish's. Both must be the unrestricted distance (a letter may be edited again after a
transposition), never the optimal-string-alignment one, and agree on every pair of strings."""

from __future__ import annotations

import itertools

import jellyfish
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.comparisons import _edits


def test_a_transposed_pair_may_be_edited_again() -> None:
    assert _edits("ca", "abc") == 2  # optimal string alignment says 3
    assert _edits("20100314", "20100341") == 1  # two digits swapped
    assert _edits("", "amy") == 3


def test_every_pair_of_short_strings_over_three_letters() -> None:
    strings = ["".join(p) for n in range(6) for p in itertools.product("abc", repeat=n)]
    for x, y in itertools.product(strings, repeat=2):
        assert _edits(x, y) == jellyfish.damerau_levenshtein_distance(x, y), (x, y)


@settings(max_examples=2000, deadline=None)
@given(st.text("abcdeé漢-' ", max_size=14), st.text("abcdeé漢-' ", max_size=14))
def test_agrees_with_jellyfish(x: str, y: str) -> None:
    assert _edits(x, y) == jellyfish.damerau_levenshtein_distance(x, y)
