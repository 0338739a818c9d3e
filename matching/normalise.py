"""Canonical forms of names, computed once per record.

Names are NFKD-normalised, case-folded and stripped of diacritics; apostrophes vanish (O'Neill ->
oneill) and other punctuation separates tokens (Smith-Jones -> smith jones). A name is kept both as
tokens (to compare parts of multiple or double-barrelled names) and as the tokens joined without
separators (so O'Neill, ONeill and O Neill are all ``oneill``). Leading titles are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import jellyfish

from matching.address import Address, address_of
from matching.fold import fold
from matching.frozen import constructor
from matching.postcode import Postcode, postcode_of
from matching.types import Gender, PersonRecord

TITLES = frozenset(
    {
        "mr",
        "mrs",
        "miss",
        "ms",
        "mx",
        "dr",
        "prof",
        "professor",
        "sir",
        "dame",
        "rev",
        "revd",
        "master",
        "lady",
        "lord",
    }
)


@dataclass(frozen=True, slots=True)
class Name:
    """A normalised name: its tokens and the tokens joined (the form compared for equality)."""

    tokens: tuple[str, ...]
    joined: str

    def __bool__(self) -> bool:
        return bool(self.joined)


EMPTY_NAME = Name((), "")


# Bounded caches: a server process sees millions of records over its life, and its memory must
# stay flat (about 1 KB an entry; 32k entries hold far more than one batch's candidates).
_CACHE_ENTRIES = 32_768


@lru_cache(maxsize=_CACHE_ENTRIES)
def normalise_name(text: str) -> Name:
    tokens = fold(text).split()
    while len(tokens) > 1 and tokens[0] in TITLES:
        tokens = tokens[1:]
    return Name(tuple(tokens), "".join(tokens))


def _ascii_letters(text: str) -> str:
    return "".join(ch for ch in text if "a" <= ch <= "z")


@lru_cache(maxsize=_CACHE_ENTRIES)
def phonetic(text: str) -> str:
    """Metaphone of the ASCII letters of a normalised name ('' when there are none, e.g. other scripts).

    Cached: names recur (every candidate's names are coded, and blocking codes them again)."""
    letters = _ascii_letters(text)
    return jellyfish.metaphone(letters) if letters else ""


@lru_cache(maxsize=_CACHE_ENTRIES)
def soundex(text: str) -> str:
    letters = _ascii_letters(text)
    return jellyfish.soundex(letters) if letters else ""


@dataclass(frozen=True, slots=True)
class NormalisedRecord:
    """Everything the comparisons and blocking need, derived once from a PersonRecord."""

    given: Name  # the first given name as sent (all its tokens)
    first_given: str  # its first token: "mary" for "Mary-Anne"
    other_given: frozenset[str]  # other given tokens, middle names, preferred name (joined and tokens)
    middle: frozenset[str]  # the middle names' tokens alone
    family: Name
    previous_families: tuple[Name, ...]
    given_phonetic: str
    family_phonetic: str
    dob: date
    dob_digits: str  # yyyymmdd
    gender: Gender | None  # None when not known or not specified
    postcode: Postcode | None
    address: Address
    upn: str  # a permanent UPN; '' when missing or temporary (ends in a letter): no evidence


# Builds a NormalisedRecord as NormalisedRecord(...) does, without its per-field name look-ups
# (one is made for nearly every candidate record: see matching.frozen).
_new_record = constructor(NormalisedRecord)


def permanent_upn(upn: str) -> str:
    """The UPN when it is a permanent one (13 characters ending in a digit), else ''.

    A temporary UPN is issued while the permanent one is not known and is replaced later, so two
    temporary UPNs, or a temporary and a permanent one, say nothing about whether two records are
    one pupil."""
    text = upn.strip().upper()
    return text if len(text) == 13 and text[-1].isdigit() else ""


# Most records have no other given names and no middle names: they share this one empty set rather
# than each holding a new one. Every object a cached record holds is one more for the garbage
# collector to walk again and again: while the caches fill at national scale, collections took half
# of the time per uncached record.
_NO_NAMES: frozenset[str] = frozenset()


@lru_cache(maxsize=_CACHE_ENTRIES)
def normalise_record(record: PersonRecord) -> NormalisedRecord:
    """Normalise a record (cached: candidates recur across queries, and records are immutable)."""
    given = normalise_name(record.given_name)
    family = normalise_name(record.family_name)
    others: set[str] = set(given.tokens[1:])
    middle = normalise_name(record.middle_names) if record.middle_names else None
    preferred = normalise_name(record.preferred_given_name) if record.preferred_given_name else None
    for name in (middle, preferred):
        if name:
            others.add(name.joined)
            others.update(name.tokens)
    first_given = given.tokens[0] if given.tokens else ""
    others.discard(first_given)
    previous = (
        tuple(
            name
            for name in (normalise_name(p) for p in record.previous_family_names)
            if name and name != family
        )
        if record.previous_family_names
        else ()
    )
    gender = record.gender if record.gender in (Gender.MALE, Gender.FEMALE) else None
    return _new_record(
        given=given,
        first_given=first_given,
        other_given=frozenset(others) if others else _NO_NAMES,
        middle=frozenset(middle.tokens) if middle else _NO_NAMES,
        family=family,
        previous_families=previous,
        given_phonetic=phonetic(first_given),
        family_phonetic=phonetic(family.joined),
        dob=record.date_of_birth,
        dob_digits=record.date_of_birth.isoformat().replace("-", ""),  # yyyymmdd, faster than strftime
        gender=gender,
        postcode=postcode_of(record.postcode),  # not the cached parse_postcode: see there
        address=address_of(record.address_line1, record.address_line2, record.town),  # likewise
        upn=permanent_upn(record.upn),
    )


def exchange_names(record: NormalisedRecord) -> NormalisedRecord:
    """The record with its given and family names exchanged (previous family names and middle names kept).

    Used to test whether two records agree once one of them is read with its names the other way round."""
    first_given = record.family.tokens[0] if record.family.tokens else ""
    return _new_record(  # not dataclasses.replace: this runs for many candidate pairs
        given=record.family,
        first_given=first_given,
        other_given=record.other_given,
        middle=record.middle,
        family=record.given,
        previous_families=record.previous_families,
        given_phonetic=phonetic(first_given),
        family_phonetic=phonetic(record.given.joined),
        dob=record.dob,
        dob_digits=record.dob_digits,
        gender=record.gender,
        postcode=record.postcode,
        address=record.address,
        upn=record.upn,
    )
