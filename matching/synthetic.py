"""A labelled, deterministic stream of synthetic registrations for evaluating the matcher.

Each registration carries the true person it describes. About a third are re-registrations of an
earlier person with realistic variations; some are look-alikes of an earlier person (twins,
siblings, a parent with the child's name), who are different people and must never be merged.
"""

from __future__ import annotations

import random
import string
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import cache
from importlib import resources
from itertools import accumulate

from matching.names import VariantGroups, parse_groups
from matching.normalise import normalise_name
from matching.synthetic_names import ORIGINS, Origin
from matching.types import Gender, PersonRecord

LOOKALIKE_KINDS = ("twin", "sibling", "parent_child")

# Variations of a re-registration and their relative frequencies.
VARIATIONS: dict[str, float] = {
    "unchanged": 0.10,
    "formatting": 0.05,
    "typo_given": 0.09,
    "typo_family": 0.09,
    "nickname": 0.09,
    "preferred_name": 0.03,
    "transliteration": 0.07,
    "double_barrelled": 0.05,
    "changed_surname": 0.04,
    "name_swap": 0.04,
    "dob_day_month_swap": 0.05,
    "dob_typo": 0.07,
    "new_address": 0.14,
    "missing_postcode": 0.06,
    "gender_unknown": 0.03,
}
SECOND_VARIATION_RATE = 0.25

_AREAS = [
    "B",
    "M",
    "LS",
    "S",
    "L",
    "E",
    "N",
    "W",
    "SE",
    "SW",
    "NW",
    "EC",
    "WC",
    "G",
    "EH",
    "CF",
    "BT",
    "BS",
    "NE",
    "NG",
    "LE",
    "CV",
    "DE",
    "ST",
    "WV",
    "WS",
    "DY",
    "OL",
    "BL",
    "BB",
    "PR",
    "WN",
    "WA",
    "CH",
    "SK",
    "HD",
    "HX",
    "BD",
    "HG",
    "YO",
    "HU",
    "DN",
    "LN",
    "PE",
    "CB",
    "IP",
    "NR",
    "CO",
    "CM",
    "SS",
    "RM",
    "IG",
    "EN",
    "AL",
    "SG",
    "LU",
    "MK",
    "NN",
    "OX",
    "RG",
    "SL",
    "HP",
    "GU",
    "KT",
    "SM",
    "CR",
    "BR",
    "DA",
    "ME",
    "TN",
    "CT",
    "BN",
    "RH",
    "PO",
    "SO",
    "BH",
    "SP",
    "BA",
    "TA",
    "EX",
    "PL",
    "TR",
    "TQ",
    "DT",
    "GL",
    "HR",
    "WR",
    "SY",
    "LL",
    "SA",
    "NP",
    "LD",
    "AB",
    "DD",
    "PH",
    "KY",
    "FK",
    "ML",
    "KA",
    "DG",
    "TD",
    "IV",
]
_UNIT_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


@dataclass(frozen=True, slots=True)
class Registration:
    record: PersonRecord
    person_id: int
    kind: str  # "new", "reregistration" or one of LOOKALIKE_KINDS
    variations: tuple[str, ...] = ()
    source_person_id: int | None = None  # the earlier person re-registered or looked like


@cache
def given_name_variants() -> VariantGroups:
    """The generator's variant groups: its own frozen file, independent of the matcher's list."""
    text = resources.files("matching").joinpath("synthetic_given_variants.txt").read_text(encoding="utf-8")
    return parse_groups(text)


def _zipf_weights(count: int, exponent: float = 0.7) -> list[float]:
    return [1.0 / (rank + 1) ** exponent for rank in range(count)]


class SyntheticStream:
    """Deterministic for a given seed. ``registrations(n)`` yields n labelled registrations."""

    def __init__(
        self,
        seed: int,
        reregistration_rate: float = 0.33,
        lookalike_rate: float = 0.06,
        birth_years: tuple[int, int] = (2006, 2017),
    ) -> None:
        self.rng = random.Random(seed)
        self.birth_years = birth_years
        self.reregistration_rate = reregistration_rate
        self.lookalike_rate = lookalike_rate
        self.persons: list[PersonRecord] = []
        self._children: list[int] = []  # people of school age: the ones look-alikes are made of
        self._households: dict[tuple[str, str], set[str]] = {}
        self._named_parents: set[tuple[str, str, str]] = set()  # (family, postcode, given) with a parent
        self._origin_of: list[Origin] = []
        # Cumulative weights, computed once: rng.choices would otherwise re-add them on every pick.
        self._cum_weights = {
            id(pool): list(accumulate(_zipf_weights(len(pool))))
            for o in ORIGINS
            for pool in (o.male, o.female, o.family)
        }
        self._origin_cum_weights = list(accumulate(o.share for o in ORIGINS))

    # --- building blocks ------------------------------------------------------------------------

    def _pick(self, pool: tuple[str, ...]) -> str:
        return self.rng.choices(pool, cum_weights=self._cum_weights[id(pool)])[0]

    def _origin(self) -> Origin:
        return self.rng.choices(ORIGINS, cum_weights=self._origin_cum_weights)[0]

    def _given(self, origin: Origin, gender: Gender) -> str:
        # One child in eight has a given name from another tradition.
        source = self._origin() if self.rng.random() < 0.125 else origin
        return self._pick(source.male if gender is Gender.MALE else source.female)

    def _postcode(self) -> str:
        rng = self.rng
        area = rng.choice(_AREAS)
        unit = "".join(rng.choices(_UNIT_LETTERS, k=2))
        return f"{area}{rng.randint(1, 28)} {rng.randint(0, 9)}{unit}"

    def _dob(self) -> date:
        first_year, last_year = self.birth_years
        start = date(first_year, 1, 1)
        return start + timedelta(days=self.rng.randrange((date(last_year, 12, 31) - start).days + 1))

    def _gender(self) -> Gender:
        return Gender.MALE if self.rng.random() < 0.5 else Gender.FEMALE

    def _new_person(self) -> tuple[PersonRecord, Origin]:
        origin = self._origin()
        gender = self._gender()
        middle = self._given(origin, gender) if self.rng.random() < 0.4 else ""
        record = PersonRecord(
            given_name=self._given(origin, gender),
            family_name=self._pick(origin.family),
            date_of_birth=self._dob(),
            gender=gender,
            postcode=self._postcode(),
            middle_names=middle,
        )
        return record, origin

    def _household(self, record: PersonRecord) -> set[str]:
        """Given and middle names already used in the record's household (family name + postcode)."""
        return self._households.setdefault(
            (normalise_name(record.family_name).joined, record.postcode), set()
        )

    def _distinct_given(self, origin: Origin, gender: Gender, source: PersonRecord) -> str:
        """A given name unlike any in the household's: not equal to, nor a nickname or spelling of, one."""
        used = self._household(source)
        variants = given_name_variants()
        for _ in range(1000):
            name = self._given(origin, gender)
            norm = normalise_name(name).joined
            if not any(norm == other or variants.are_variants(norm, other) for other in used):
                return name
        raise RuntimeError("name pool exhausted")

    # --- variations -----------------------------------------------------------------------------

    def _typo(self, text: str) -> str:
        rng = self.rng
        if len(text) < 4:
            return text + rng.choice("aeiy")
        i = rng.randrange(1, len(text) - 1)
        kind = rng.choice(("substitute", "delete", "insert", "transpose", "double"))
        letter = rng.choice(string.ascii_lowercase)
        if kind == "substitute":
            return text[:i] + letter + text[i + 1 :]
        if kind == "delete":
            return text[:i] + text[i + 1 :]
        if kind == "insert":
            return text[:i] + letter + text[i:]
        if kind == "double":
            return text[:i] + text[i] + text[i:]
        return text[: i - 1] + text[i] + text[i - 1] + text[i + 1 :]

    def _nickname(self, given: str) -> str | None:
        variants = given_name_variants()
        norm = normalise_name(given).joined
        groups = variants.groups_of.get(norm)
        if not groups:
            return None
        options = sorted(n for n, g in variants.groups_of.items() if n != norm and not g.isdisjoint(groups))
        return self.rng.choice(options).capitalize() if options else None

    _SPELLINGS = (
        ("ph", "f"),
        ("f", "ph"),
        ("y", "i"),
        ("i", "y"),
        ("ou", "u"),
        ("ee", "i"),
        ("kh", "k"),
        ("aa", "a"),
        ("oo", "u"),
        ("ck", "k"),
        ("c", "k"),
        ("sz", "sh"),
        ("w", "v"),
        ("ie", "y"),
        ("ei", "ai"),
        ("ll", "l"),
        ("mm", "m"),
        ("dh", "d"),
        ("th", "t"),
        ("u", "oo"),
        ("e", "a"),
        ("a", "e"),
        ("ai", "ay"),
    )

    def _transliterate(self, name: str) -> str:
        """Another plausible romanisation: a listed variant, else a spelling rule, else diacritics dropped."""
        folded = normalise_name(name).joined
        variant = self._nickname(name) if self.rng.random() < 0.3 else None
        if variant and given_name_variants().known(folded):
            return variant
        rules = [(a, b) for a, b in self._SPELLINGS if a in folded[1:]]
        if rules:
            a, b = self.rng.choice(rules)
            i = folded.index(a, 1)
            return (folded[:i] + b + folded[i + len(a) :]).capitalize()
        return folded.capitalize()

    def _vary(self, record: PersonRecord, origin: Origin, variation: str) -> PersonRecord:
        rng = self.rng
        if variation == "formatting":
            return replace(
                record,
                given_name=record.given_name.upper(),
                family_name=" " + record.family_name.upper().replace("-", " ") + ".",
                postcode=record.postcode.lower().replace(" ", ""),
            )
        if variation == "typo_given":
            return replace(record, given_name=self._typo(record.given_name))
        if variation == "typo_family":
            return replace(record, family_name=self._typo(record.family_name))
        if variation == "nickname":
            nickname = self._nickname(record.given_name)
            return replace(record, given_name=nickname or self._typo(record.given_name))
        if variation == "preferred_name":
            if record.middle_names:
                return replace(record, given_name=record.middle_names, middle_names=record.given_name)
            return replace(
                record, preferred_given_name=record.given_name, given_name=self._typo(record.given_name)
            )
        if variation == "transliteration":
            if rng.random() < 0.5:
                return replace(record, given_name=self._transliterate(record.given_name))
            return replace(record, family_name=self._transliterate(record.family_name))
        if variation == "double_barrelled":
            other = self._pick(self._origin().family)
            joined = (
                f"{record.family_name}-{other}" if rng.random() < 0.5 else f"{other}-{record.family_name}"
            )
            previous = (record.family_name,) if rng.random() < 0.5 else ()
            return replace(record, family_name=joined, previous_family_names=previous)
        if variation == "changed_surname":
            new = self._pick(self._origin().family)
            return replace(record, family_name=new, previous_family_names=(record.family_name,))
        if variation == "name_swap":
            return replace(record, given_name=record.family_name, family_name=record.given_name)
        if variation == "dob_day_month_swap":
            dob = record.date_of_birth
            if dob.day <= 12 and dob.day != dob.month:
                return replace(record, date_of_birth=date(dob.year, dob.day, dob.month))
            return self._vary(record, origin, "dob_typo")
        if variation == "dob_typo":
            return replace(record, date_of_birth=self._dob_typo(record.date_of_birth))
        if variation == "new_address":
            return replace(record, postcode=self._postcode())
        if variation == "missing_postcode":
            return replace(record, postcode=rng.choice(("", "ZZ99 3CZ")))
        if variation == "gender_unknown":
            return replace(record, gender=Gender.NOT_KNOWN)
        return record

    def _dob_typo(self, dob: date) -> date:
        rng = self.rng
        if rng.random() < 0.4:
            return dob + timedelta(days=rng.choice((-1, 1)))
        digits = dob.strftime("%Y%m%d")
        for _ in range(50):
            i = rng.choice((3, 5, 6, 7))
            changed = digits[:i] + rng.choice(string.digits.replace(digits[i], "")) + digits[i + 1 :]
            try:
                return date(int(changed[:4]), int(changed[4:6]), int(changed[6:]))
            except ValueError:
                continue
        return dob + timedelta(days=1)

    # --- look-alikes ----------------------------------------------------------------------------

    def _lookalike(self, source: PersonRecord, origin: Origin, kind: str) -> PersonRecord:
        rng = self.rng
        if kind == "twin":
            gender = self._gender()
            return replace(
                source,
                given_name=self._distinct_given(origin, gender, source),
                gender=gender,
                middle_names="",
            )
        if kind == "sibling":
            gender = self._gender()
            offset = timedelta(days=rng.choice((-1, 1)) * rng.randint(300, 2500))
            return replace(
                source,
                given_name=self._distinct_given(origin, gender, source),
                gender=gender,
                middle_names="",
                date_of_birth=source.date_of_birth + offset,
            )
        # A parent with the child's name, born a generation earlier, at the same address.
        years = rng.randint(17, 45)
        dob = source.date_of_birth
        return replace(
            source,
            date_of_birth=date(dob.year - years, dob.month, min(dob.day, 28)),
            middle_names="" if rng.random() < 0.5 else source.middle_names,
        )

    # --- the stream -----------------------------------------------------------------------------

    def _register(self, record: PersonRecord, origin: Origin) -> int:
        person_id = len(self.persons)
        self.persons.append(record)
        self._origin_of.append(origin)
        if record.date_of_birth.year >= 2000:
            self._children.append(person_id)
        household = self._household(record)
        for name in (record.given_name, *record.middle_names.split()):
            household.add(normalise_name(name).joined)
        return person_id

    def new_people(self, n: int) -> Iterator[PersonRecord]:
        """n new, unrelated people (no re-registrations, no look-alikes, not remembered): a registry."""
        for _ in range(n):
            yield self._new_person()[0]

    def vary(
        self, record: PersonRecord, variations: tuple[str, ...] | None = None
    ) -> tuple[PersonRecord, tuple[str, ...]]:
        """``record`` re-registered with the given variations (drawn as in the stream when None)."""
        if variations is None:
            variations = self._draw_variations()
        for variation in variations:
            record = self._vary(record, ORIGINS[0], variation)
        return record, variations

    def _draw_variations(self) -> tuple[str, ...]:
        rng = self.rng
        variations = list(VARIATIONS)
        weights = list(VARIATIONS.values())
        chosen = [rng.choices(variations, weights)[0]]
        if rng.random() < SECOND_VARIATION_RATE:
            second = rng.choices(variations, weights)[0]
            if second not in chosen and "unchanged" not in (second, chosen[0]):
                chosen.append(second)
        return tuple(chosen)

    def registrations(self, n: int) -> Iterator[Registration]:
        rng = self.rng
        for _ in range(n):
            roll = rng.random()
            if self.persons and roll < self.reregistration_rate:
                person_id = rng.randrange(len(self.persons))
                origin = self._origin_of[person_id]
                chosen = self._draw_variations()
                record = self.persons[person_id]
                for variation in chosen:
                    record = self._vary(record, origin, variation)
                yield Registration(record, person_id, "reregistration", chosen, person_id)
            elif self.persons and roll < self.reregistration_rate + self.lookalike_rate:
                source_id = rng.choice(self._children)
                origin = self._origin_of[source_id]
                kind = rng.choice(LOOKALIKE_KINDS)
                if kind == "parent_child":
                    # Only one parent can share a child's name.
                    source = self.persons[source_id]
                    named = (normalise_name(source.family_name).joined, source.postcode, source.given_name)
                    if named in self._named_parents:
                        kind = "sibling"
                    self._named_parents.add(named)
                record = self._lookalike(self.persons[source_id], origin, kind)
                yield Registration(record, self._register(record, origin), kind, (), source_id)
            else:
                record, origin = self._new_person()
                yield Registration(record, self._register(record, origin), "new")
