"""Unique Learner Numbers: the check digit rule (ILR rules DD01 / ULN_04) and unpredictable issue."""

from __future__ import annotations

import secrets

_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)


def check_digit(first_nine: str) -> int | None:
    """The check digit for nine leading digits, or None when no digit can make them valid (r = 0)."""
    remainder = sum(w * int(d) for w, d in zip(_WEIGHTS, first_nine, strict=True)) % 11
    return None if remainder == 0 else 10 - remainder


def is_well_formed(uln: str) -> bool:
    """Ten ASCII digits, the first 1-9."""
    return len(uln) == 10 and uln.isascii() and uln.isdigit() and uln[0] != "0"


def is_valid(uln: str) -> bool:
    return is_well_formed(uln) and check_digit(uln[:9]) == int(uln[9])


def random_uln() -> str:
    """A valid ULN drawn uniformly from the valid space with a CSPRNG.

    Drawing at random (rather than counting up) means a ULN reveals neither when the learner
    registered nor how many learners there are. Uniqueness is the database's job: the caller
    retries on the (rare) collision.
    """
    while True:
        first_nine = str(secrets.randbelow(900_000_000) + 100_000_000)
        digit = check_digit(first_nine)
        if digit is not None:
            return f"{first_nine}{digit}"
