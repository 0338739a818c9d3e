"""Blocking keys: short strings under which a learner is stored and candidates are fetched.

Several independent keys, each selective on its own (at 1M learners a key should rarely hold more
than ~50 learners), so that any one typical variation (typo, nickname, changed surname, swapped
names, mistyped or day/month-swapped birth date, new address) leaves at least one key intact, and so
does a birth-date error together with a change of one name (or a swap of both).

The birth date in keys is *swap-invariant*: month and day are sorted, so 03/04 and 04/03 share keys
without storing extra rows.
"""

from __future__ import annotations

from matching.normalise import Name, NormalisedRecord, phonetic, soundex


def swap_invariant_date(record: NormalisedRecord) -> str:
    digits = record.dob_digits
    month_day = "".join(sorted((digits[4:6], digits[6:8])))
    return digits[:4] + month_day


def _code(text: str) -> str:
    """Soundex, or the first letters when the name has no Latin letters (other scripts)."""
    return soundex(text) or text[:4]


def _name_code(text: str) -> str:
    """Metaphone cut to four letters, the same for given and family names so that a pair of them can be
    sorted (forename/surname swap); the first letters for other scripts."""
    return (phonetic(text) or text)[:4]


def _name_pair(first: str, second: str) -> str:
    return ":".join(sorted((_name_code(first), _name_code(second))))


# Keys are stored in a 64-character column. Only the district keys carry a whole phonetic code; real
# names' codes are far shorter than this, but a name of 35 characters that each spell out to
# several letters ("ǆ", "ﬆ") is not, so the code is cut here rather than overflow the column.
_PHONETIC_IN_KEY = 32


def _district_key(district: str, code: str) -> str:
    return f"r{district}:{code[:_PHONETIC_IN_KEY]}"


def _family_alternatives(record: NormalisedRecord) -> list[Name]:
    """The current family name, previous ones, and the parts of double-barrelled names."""
    names = [record.family, *record.previous_families]
    parts = [Name((token,), token) for name in names if len(name.tokens) > 1 for token in name.tokens]
    return [name for name in (*names, *parts) if name]


def _household_keys(record: NormalisedRecord, district: str | None) -> set[str]:
    """House numbers and street within the town (its sound, so that most typos in the town keep
    it), or within the postcode district when no town is given: a household.

    Survives any change of name together with any error in the birth date, whether or not the
    postcode is given or right. One key: a second, within the district, cost every learner an index
    entry and was the only key left for no row of any evaluation set (docs/MATCHING.md)."""
    address = record.address
    if not (address.street and address.numbers):
        return set()
    house = f"{':'.join(sorted(address.numbers))[:10]}:{address.street[:24]}"
    place = (phonetic(address.town) or address.town) if address.town else district
    return {f"h{house}:{place[:16]}"} if place else set()


def blocking_keys(record: NormalisedRecord) -> frozenset[str]:
    keys: set[str] = set()
    dob = swap_invariant_date(record)
    year, month_day = dob[:4], dob[4:]
    given = record.first_given
    district = record.postcode.district if record.postcode is not None else None
    if given:
        # Survives any change of family name.
        keys.add(f"g{dob}{_code(given)}")
    for family in _family_alternatives(record):
        fam = family.joined
        # Survives any change of given name (nickname, typo).
        keys.add(f"f{dob}{_code(fam)}")
        if given:
            # Name codes sorted (survive a swap) with the birth date less one part: survive a
            # mistyped birth date. Without the year; then with the year and only one of month
            # and day, once each (a typo in one leaves the other; "year alone" held ~140 learners
            # for a common name at 1M, and every one of them was a candidate to load and score).
            names = _name_pair(given, fam)
            keys.add(f"m{names}:{month_day}")
            for part in {month_day[:2], month_day[2:]}:
                keys.add(f"n{names}:{year}{part}")
        if district is not None:
            # Survives any change of given name together with any error in the birth date.
            keys.add(_district_key(district, phonetic(fam) or fam[:4]))
    keys.update(_household_keys(record, district))
    if record.upn:
        # A permanent UPN follows the pupil whatever else changed.
        keys.add(f"u{record.upn}")
    if district is not None:
        # Survives any change of name.
        keys.add(f"p{district}:{dob}")
        if given:
            # Survives any change of family name together with any error in the birth date. The same
            # prefix as the family-name key above, so a forename/surname swap keeps both.
            keys.add(_district_key(district, record.given_phonetic or given[:4]))
    return frozenset(keys)
