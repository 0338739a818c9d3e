"""Blocking keys: short strings under which a learner is stored and candidates are fetched.

Several independent keys, each selective on its own (at 1M learners a key should rarely hold more
than ~50 learners), so that any one typical variation (typo, nickname, changed surname, swapped
names, mistyped or day/month-swapped birth date, new address) leaves at least one key intact.

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


def _family_alternatives(record: NormalisedRecord) -> list[Name]:
    """The current family name, previous ones, and the parts of double-barrelled names."""
    names = [record.family, *record.previous_families]
    parts = [Name((token,), token) for name in names if len(name.tokens) > 1 for token in name.tokens]
    return [name for name in (*names, *parts) if name]


def blocking_keys(record: NormalisedRecord) -> frozenset[str]:
    keys: set[str] = set()
    dob = swap_invariant_date(record)
    year, month_day = dob[:4], dob[4:]
    given = record.first_given
    given_code = record.given_phonetic[:3] or given[:3]
    if given:
        # Survives any change of family name.
        keys.add(f"g{dob}{_code(given)}")
    for family in _family_alternatives(record):
        fam = family.joined
        fam_code = phonetic(fam) or fam[:4]
        # Survives any change of given name (nickname, typo).
        keys.add(f"f{dob}{_code(fam)}")
        if given:
            # Initials, sorted: survives forename/surname swap and most typos.
            keys.add("i" + dob + "".join(sorted((given[0], fam[0]))))
            # Without the year, then without month and day: survive a mistyped birth date.
            keys.add(f"n{fam_code}:{given_code}:{year}")
            keys.add(f"m{fam_code}:{given_code}:{month_day}")
    if record.postcode is not None:
        district = record.postcode.district
        # Survives any change of name.
        keys.add(f"p{district}:{dob}")
        if given and record.family:
            # Survives any error in the birth date.
            keys.add(f"q{district}:{record.family_phonetic or record.family.joined[:4]}:{given_code}")
    return frozenset(keys)
