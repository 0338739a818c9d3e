"""The last known address lines in the form the address comparison and blocking read.

A school writes one address many ways: "12 Mill Rd", "12, Mill Road", "Flat 3, 12 Mill Road" or
"Flat 3" on line 2; a typo in the street; the town spelt out or missing. What is compared:

* ``numbers``: every number on lines 1 and 2 (house and flat numbers, "12a" kept whole), as a set,
  so that the flat written on line 1 or on line 2 reads the same;
* ``house``: the number just before the street's name ("Flat 10, 1 Grange Lane": 1), '' when the
  line gives none, so that a flat number that happens to be another address's house number does
  not make the two one house;
* ``street``: line 1's words (line 2's when line 1 has none, e.g. "Flat 3" / "12 Mill Road"), with
  thoroughfare abbreviations spelt out (Rd -> road, St -> street at the end, saint at the start)
  and flat words ("flat", "apartment", "unit") dropped;
* ``other_street``: line 2's words read the same way when line 1 gave the street, '' otherwise. Two
  systems put a house name or building and the street on the lines in either order ("Rose Cottage" /
  "Mill Lane" and "Mill Lane" alone; "42 Stone Place" / "Medical Centre" and "42 Medical Centre" /
  "Stone Place"): the comparison reads a street on the other line as the same street, blocking keys
  only ``street``;
* ``town``: the town, folded like names.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from matching.fold import fold, fold_tokens
from matching.frozen import constructor

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
    house: str = ""
    other_street: str = ""

    def __bool__(self) -> bool:
        return bool(self.numbers or self.street or self.town)


EMPTY_ADDRESS = Address(frozenset(), "", "")
_new_address = constructor(Address)  # Address(...) without its per-field look-ups (see matching.frozen)


def _street(tokens: list[str]) -> tuple[list[str], str]:
    """A line's street words, spelt out, and its house number: the number just before the last run of
    street words ("flat 10 1 grange lane": 1; "apartment 5 the maltings 3 mill road": 3), or ''.

    One pass over the words (this runs for nearly every candidate record)."""
    words: list[str] = []
    house = previous = ""
    in_street = False  # whether the previous word is a street word
    for token in tokens:
        if token.isalpha() and token not in _FLAT_WORDS:
            if not in_street:  # a run of street words starts: is there a number just before it?
                house = "" if previous.isalpha() else previous
            words.append(token)
            in_street = True
        else:
            in_street = False
        previous = token
    spelt = [_THOROUGHFARES.get(word, word) for word in words]
    if len(words) > 1 and words[0] == "st":
        spelt[0] = "saint"  # St James Road
    return spelt, house


def _numbers(first: list[str], second: list[str]) -> frozenset[str]:
    # Folded tokens are letters and digits only: one that is not all letters holds a digit.
    numbers = [t for t in first if not t.isalpha()]
    if second:
        numbers += [t for t in second if not t.isalpha()]
    return _number_set(tuple(numbers))


@lru_cache(maxsize=4096)
def _number_set(numbers: tuple[str, ...]) -> frozenset[str]:
    """The set of an address's numbers, one shared set for each (a few hundred house numbers cover
    most addresses): not a new set per record for the garbage collector to walk while it is cached."""
    return frozenset(numbers)


@lru_cache(maxsize=8192)
def _fold_town(town: str) -> str:
    """``fold(town)``, cached: a few thousand towns hold every learner (unlike their address lines)."""
    return fold(town)


def address_of(line1: str, line2: str, town: str) -> Address:
    """Numbers, street and town of an address as written on LRB/CTF lines.

    Not cached: normalise_record, which calls it, caches the whole record, and a record new to that
    cache seldom has an address another record had lately (at national scale 7-9% of them: a brother's
    or sister's), so a second cache cost more than it saved: with every cache full and evicting, a
    record took 7.4 us with address and postcode caches and 6.3 without."""
    if not (line1 or line2 or town):
        return EMPTY_ADDRESS
    first = fold_tokens(line1)
    second = fold_tokens(line2) if line2 else []
    street, house = _street(first)
    other: list[str] = []
    if not street:
        street, house = _street(second)
    elif second:
        other, _ = _street(second)
    return _new_address(_numbers(first, second), " ".join(street), _fold_town(town), house, " ".join(other))
