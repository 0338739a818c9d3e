"""UK postcodes parsed into the four levels the matcher compares: area, district, sector, unit.

``ZZ99 3CZ`` is the NHS/DfE code for "postcode not known": it is no evidence, so it parses as None,
like any string that is not a well-formed postcode.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from matching.frozen import constructor

NOT_KNOWN = "ZZ993CZ"

# Outward: area (1-2 letters) + district (digit, optional digit or letter); inward: digit + 2 letters.
_PATTERN = re.compile(r"^([A-Z]{1,2})([0-9][0-9A-Z]?)([0-9])([A-Z]{2})$")
# The same, in the one form the service stores (validation's canonical form, upper case with one space
# before the inward code): nearly every postcode the matcher reads. Its levels are slices of it.
_STORED = re.compile(r"([A-Z]{1,2})[0-9][0-9A-Z]? [0-9][A-Z]{2}")
_NOT_KNOWN_STORED = "ZZ99 3CZ"


@dataclass(frozen=True, slots=True)
class Postcode:
    area: str  # "SW"
    district: str  # "SW1A"
    sector: str  # "SW1A 1"
    unit: str  # "SW1A 1AA"


_new_postcode = constructor(Postcode)  # Postcode(...) without its per-field look-ups (see matching.frozen)


@lru_cache(maxsize=65536)
def parse_postcode(text: str) -> Postcode | None:
    """``postcode_of``, cached, for a caller that reads the same postcodes again and again.

    normalise_record calls postcode_of: at national scale only 5-8% of its new records had a postcode
    seen lately, too few to pay for the cache's bookkeeping (see ``matching.address.address_of``)."""
    return postcode_of(text)


def postcode_of(text: str) -> Postcode | None:
    """Parse a postcode in any spacing or case; None when empty, malformed or the not-known code.

    A postcode already in the stored form is only sliced (at national scale this runs for nearly
    every candidate: 1.2 -> 0.6 us); any other is compacted first."""
    stored = _STORED.fullmatch(text)
    if stored is not None and text != _NOT_KNOWN_STORED:
        return _new_postcode(stored[1], text[:-4], text[:-2], text)
    return _parse_written(text)


def _parse_written(text: str) -> Postcode | None:
    compact = "".join(text.upper().split())
    if not compact.isascii() or compact == NOT_KNOWN:
        return None
    found = _PATTERN.match(compact)
    if found is None:
        return None
    area, district_suffix, sector_digit, unit_letters = found.groups()
    district = area + district_suffix
    sector = f"{district} {sector_digit}"
    return _new_postcode(area=area, district=district, sector=sector, unit=sector + unit_letters)
