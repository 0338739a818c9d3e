"""The ULN check digit rule (domain.md: ILR rules DD01 / ULN_04) and unpredictable ULN issue."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lrs_server.domain import uln as uln_rules

VALID = ["9276308686", "1000000043", "1748529632", "1000102504", "1026893096", "1174112637"]
INVALID = [
    "1000000063",  # r = 0: no check digit can make it valid
    "1748529631",  # wrong check digit
    "1000102508",  # wrong check digit
    "9999999999",  # the "not yet known" placeholder
    "0123456789",  # leading zero
    "12345",
    "",
    "１２３４５６７８９０",  # full-width digits: str.isdigit() is true for them
    "٩٢٧٦٣٠٨٦٨٦",  # Arabic-Indic digits spelling a valid ULN
    " 9276308686",
    "92763086860",
    "927630868a",
]
WEIGHTS_ALL = (10, 9, 8, 7, 6, 5, 4, 3, 2, 1)


def weighted_test(uln: str) -> bool:
    """The documented equivalent rule: weights 10..1 over all ten digits, sum mod 11 == 10."""
    return sum(w * int(d) for w, d in zip(WEIGHTS_ALL, uln, strict=True)) % 11 == 10


prefixes = st.integers(100_000_000, 999_999_999).map(str)


@pytest.mark.parametrize("uln", VALID)
def test_documented_valid_ulns(uln: str) -> None:
    assert uln_rules.is_well_formed(uln)
    assert uln_rules.is_valid(uln)
    assert uln_rules.check_digit(uln[:9]) == int(uln[9])


@pytest.mark.parametrize("uln", INVALID)
def test_documented_invalid_ulns(uln: str) -> None:
    assert not uln_rules.is_valid(uln)


def test_remainder_zero_has_no_check_digit() -> None:
    assert uln_rules.check_digit("100000006") is None
    assert not any(uln_rules.is_valid(f"100000006{d}") for d in range(10))


def test_placeholder_fails_only_the_checksum() -> None:
    assert uln_rules.is_well_formed("9999999999")
    assert not uln_rules.is_valid("9999999999")


def test_non_ascii_digits_are_not_well_formed() -> None:
    assert not uln_rules.is_well_formed("１２３４５６７８９０")
    assert not uln_rules.is_well_formed("٩٢٧٦٣٠٨٦٨٦")


@given(prefixes)
def test_exactly_one_check_digit_unless_remainder_is_zero(prefix: str) -> None:
    valid_digits = [d for d in range(10) if uln_rules.is_valid(f"{prefix}{d}")]
    r = sum(w * int(c) for w, c in zip((10, 9, 8, 7, 6, 5, 4, 3, 2), prefix, strict=True)) % 11
    if r == 0:
        assert valid_digits == []
    else:
        assert valid_digits == [10 - r]


@given(prefixes, st.integers(0, 9))
def test_rule_equals_weights_ten_to_one_mod_eleven(prefix: str, digit: int) -> None:
    uln = f"{prefix}{digit}"
    assert uln_rules.is_valid(uln) == weighted_test(uln)


@given(prefixes.filter(lambda p: uln_rules.check_digit(p) is not None), st.integers(0, 9), st.integers(0, 9))
def test_any_single_digit_change_invalidates(prefix: str, position: int, replacement: int) -> None:
    uln = f"{prefix}{uln_rules.check_digit(prefix)}"
    assert uln_rules.is_valid(uln)
    if str(replacement) == uln[position]:
        replacement = (replacement + 1) % 10
    changed = uln[:position] + str(replacement) + uln[position + 1 :]
    assert not uln_rules.is_valid(changed)


DRAWS = 20_000


@pytest.fixture(scope="module")
def draws() -> list[str]:
    return [uln_rules.random_uln() for _ in range(DRAWS)]


def test_random_ulns_are_always_valid(draws: list[str]) -> None:
    bad = [u for u in draws if not uln_rules.is_valid(u)]
    assert bad == []
    assert "9999999999" not in draws


def test_random_ulns_are_not_sequential(draws: list[str]) -> None:
    values = [int(u) for u in draws]
    steps = [b - a for a, b in itertools.pairwise(values)]
    # A counter (or a counter with a stride) gives a constant or tiny step; random draws almost never do.
    assert max(Counter(steps).values()) <= 3
    assert sum(1 for s in steps if abs(s) < 1000) < 5
    assert len(set(draws)) >= DRAWS - 5
    ascending = sum(1 for s in steps if s > 0)
    assert 0.45 < ascending / len(steps) < 0.55


def test_first_digit_roughly_uniform(draws: list[str]) -> None:
    counts = Counter(u[0] for u in draws)
    assert set(counts) == set("123456789")
    expected = DRAWS / 9
    chi_square = sum((counts[d] - expected) ** 2 / expected for d in "123456789")
    # 8 degrees of freedom: P(chi2 > 40) is about 3e-6.
    assert chi_square < 40


def test_last_digit_covers_every_check_digit(draws: list[str]) -> None:
    # r ranges over 1..10 so the check digit ranges over 0..9; every one must appear.
    assert {u[-1] for u in draws} == set("0123456789")
