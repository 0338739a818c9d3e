"""The last known address lines in the form the address comparison and blocking read.

A school writes one address many ways: "12 Mill Rd", "12, Mill Road", "Flat 3, 12 Mill Road" or
"Flat 3" on line 2; a typo in the street; the town spelt out or missing. What is compared:

* ``numbers``: every number on lines 1 and 2 (house and flat numbers, "12a" kept whole), as a set,
  so that the flat written on line 1 or on line 2 reads the same;
* ``street``: line 1's words (line 2's when line 1 has none, e.g. "Flat 3" / "12 Mill Road"), with
  thoroughfare abbreviations spelt out (Rd -> road, St -> street at the end, saint at the start)
  and flat words ("flat", "apartment", "unit") dropped;
* ``town``: the town, folded like names.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from matching.fold import fold

# Royal Mail's common thoroughfare descriptors and their usual abbreviations (PAF "thoroughfare
# descriptor" list, and the Australian forms FEBRL-style data uses). Only the spelling is
# normalised: "Mill Road" and "Mill Lane" stay different streets.
_THOROUGHFARES = {
    "rd": "road",
    "st": "street",
    "str": "street",
    "ave": "avenue",
    "av": "avenue",
    "avn": "avenue",
    "ln": "lane",
    "la": "lane",
    "cl": "close",
    "dr": "drive",
    "drv": "drive",
    "cres": "crescent",
    "cresc": "crescent",
    "cr": "crescent",
    "ct": "court",
    "crt": "court",
    "gdns": "gardens",
    "gdn": "gardens",
    "gr": "grove",
    "gro": "grove",
    "grv": "grove",
    "pl": "place",
    "sq": "square",
    "ter": "terrace",
    "terr": "terrace",
    "tce": "terrace",
    "pk": "park",
    "pde": "parade",
    "hwy": "highway",
    "cct": "circuit",
    "cir": "circle",
    "wy": "way",
    "wlk": "walk",
    "mt": "mount",
    "hl": "hill",
    "rise": "rise",
    "mws": "mews",
    "bvd": "boulevard",
    "blvd": "boulevard",
    "esp": "esplanade",
}
# Words that introduce a flat or unit number, not part of the street's name.
_FLAT_WORDS = frozenset({"flat", "apartment", "apt", "apmnt", "unit", "room", "suite", "no", "number"})


@dataclass(frozen=True, slots=True)
class Address:
    """A normalised last known address; empty parts are ''."""

    numbers: frozenset[str]
    street: str
    town: str

    def __bool__(self) -> bool:
        return bool(self.numbers or self.street or self.town)


EMPTY_ADDRESS = Address(frozenset(), "", "")


def _street_words(tokens: list[str]) -> list[str]:
    # Folded tokens are letters and digits only: one that is not all letters holds a digit.
    words = [t for t in tokens if t.isalpha() and t not in _FLAT_WORDS]
    spelt = [_THOROUGHFARES.get(word, word) for word in words]
    if len(words) > 1 and words[0] == "st":
        spelt[0] = "saint"  # St James Road
    return spelt


@lru_cache(maxsize=32_768)
def normalise_address(line1: str, line2: str, town: str) -> Address:
    """Numbers, street and town of an address as written on LRB/CTF lines (cached: candidates recur,
    though at national scale most candidates' addresses are seen once: this runs per candidate)."""
    if not (line1 or line2 or town):
        return EMPTY_ADDRESS
    first = fold(line1).split()
    second = fold(line2).split() if line2 else []
    numbers = frozenset(t for t in (*first, *second) if not t.isalpha())
    street = _street_words(first) or _street_words(second)
    return Address(numbers, " ".join(street), fold(town))
