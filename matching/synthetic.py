"""A labelled, deterministic stream of synthetic registrations for evaluating the matcher.

Each registration carries the true person it describes. About a third are re-registrations of an
earlier person with realistic variations; some are look-alikes of an earlier person (twins,
siblings, a parent with the child's name), who are different people and must never be merged.

Everyone has a last known address consistent with the postcode (a look-alike shares the household's)
and most children a UPN. A re-registration keeps the address unless a variation changes it, and
keeps the UPN only under ``upn_carried``: otherwise it has none, a temporary one or a new one, as when a
school enrols a pupil whose records have not arrived.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Collection, Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import cache
from importlib import resources
from itertools import accumulate

from nicknames import NickNamer
from rapidfuzz.distance import JaroWinkler

from matching.names import VariantGroups, parse_groups
from matching.normalise import normalise_name
from matching.postcode import parse_postcode
from matching.synthetic_names import ORIGINS, PROJECT_DIMINUTIVES, SIMILAR_NAMES, Origin, SimilarName
from matching.synthetic_places import LOCALITIES, STREET_NAMES, STREET_TYPE_WEIGHTS, STREET_TYPES, TOWNS
from matching.types import Gender, PersonRecord

# The look-alikes and variations the matcher was written against, before the address, UPN and the
# cases below were added: a stream of only these is the regression check of what it already handled.
ORIGINAL_LOOKALIKE_KINDS = ("twin", "sibling", "parent_child")
LOOKALIKE_KINDS = (*ORIGINAL_LOOKALIKE_KINDS, "twin_similar_name")

# Variations of a re-registration and their relative frequencies: first the original ones.
_ORIGINAL_VARIATIONS: dict[str, float] = {
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
ORIGINAL_VARIATIONS = tuple(_ORIGINAL_VARIATIONS)
VARIATIONS: dict[str, float] = {
    **_ORIGINAL_VARIATIONS,
    "address_format": 0.06,
    "family_name_changed": 0.03,
    "dob_close": 0.03,
    "dob_wrong": 0.02,
    "diminutive": 0.04,
    "upn_carried": 0.06,
    "postcode_mistyped": 0.03,
}
SECOND_VARIATION_RATE = 0.25
# Variations that cannot be combined: the second would undo or blur the first.
_EXCLUSIVE = (
    frozenset({"missing_postcode", "postcode_mistyped"}),
    frozenset({"dob_wrong", "dob_close", "dob_typo"}),
    frozenset({"dob_wrong", "dob_close", "dob_day_month_swap"}),
)
# UPN: a check letter, LA (3 digits), establishment (4), year of allocation (2), serial (3; a
# temporary UPN has 2 digits and a letter). Most children have one; adults never do.
_UPN_ALPHABET = "ABCDEFGHJKLMNPQRTUVWXYZ"
_UPN_TEMPORARY_RATE = 0.08
_UPN_NONE_RATE = 0.12
# The UPN a re-registration without upn_carried has: none, temporary, or (last) a new permanent one.
# A second permanent UPN is an error schools are told not to make, hence rarer than none or temporary.
_REREGISTRATION_UPN = (0.5, 0.4)
_FLAT_RATE = 0.12
_LINE2_RATE = 0.2
# Birth dates a data-entry error can produce: not in the future of any run of the evaluation.
_LATEST_BIRTH = date(2024, 12, 31)

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


def upn_check_letter(body: str) -> str:
    """The check letter of a UPN's last 12 characters (11 digits, then a digit or, if temporary, a letter)."""
    last = body[11]
    last_value = int(last) if last.isdigit() else _UPN_ALPHABET.index(last)
    total = sum(position * int(digit) for position, digit in enumerate(body[:11], start=2)) + 13 * last_value
    return _UPN_ALPHABET[total % 23]


# A flat in an address line: "Flat 3" alone, or before the street ("Flat 3, 12 Mill Lane").
_FLAT = re.compile(r"(flat \w+)(?:,? (.+))?", re.IGNORECASE)
_ABBREVIATIONS = {full.lower(): short for full, short in STREET_TYPES.items() if short}
_EXPANSIONS = {short.lower(): full for full, short in STREET_TYPES.items() if short}
_STREET_TYPE_NAMES = tuple(STREET_TYPES)
_NOT_STREET_NAMES = frozenset({"flat", *_ABBREVIATIONS, *_EXPANSIONS})


def _street_line(line1: str, line2: str) -> int:
    """Which line (0 or 1) holds the street: line 2 only when line 1 is a flat alone."""
    flat = _FLAT.fullmatch(line1)
    return 1 if flat and not flat.group(2) and line2 else 0


def _street_words(line: str) -> list[str]:
    return [w for w in re.findall(r"[A-Za-z]{3,}", line) if w.lower() not in _NOT_STREET_NAMES]


def _respell_street_type(line: str) -> str:
    """The street type (a line's last word) shortened ("Road" -> "Rd") or spelled out ("Rd" -> "Road")."""
    head, _, last = line.rpartition(" ")
    word = last.rstrip(".").lower()
    new = _ABBREVIATIONS.get(word) or _EXPANSIONS.get(word)
    if not head or new is None:
        return line
    return f"{head} {new.upper() if last.isupper() and len(last) > 1 else new}"


def _repunctuate(line: str) -> str:
    """Apostrophes or commas left out, or a comma after the house number ("12, Mill Lane")."""
    if "'" in line:
        return line.replace("'", "")
    if "," in line:
        return line.replace(",", "")
    return re.sub(r"^(\d+) ", r"\1, ", line)


def _move_flat(line1: str, line2: str, street_first: bool) -> tuple[str, str]:
    """The flat written on its own line instead of before the street, or the other way round."""
    flat = _FLAT.fullmatch(line1)
    if flat and flat.group(2):  # "Flat 3, 12 Mill Lane": a district in line 2 gives way
        return (flat.group(2), flat.group(1)) if street_first else (flat.group(1), flat.group(2))
    if flat and line2:  # "Flat 3" / "12 Mill Lane"
        return f"{flat.group(1)}, {line2}", ""
    flat = _FLAT.fullmatch(line2)
    if flat:  # "12 Mill Lane" / "Flat 3"
        return f"{flat.group(1)}, {line1}", ""
    return line1, line2


def town_of(postcode: str) -> str:
    """The post town of a postcode: one of its area's towns, fixed by the district."""
    parsed = parse_postcode(postcode)
    towns = TOWNS.get(parsed.area, ()) if parsed else ()
    return towns[sum(map(ord, parsed.district)) % len(towns)] if parsed and towns else ""


def is_permanent_upn(upn: str) -> bool:
    return len(upn) == 13 and upn[12].isdigit()


@cache
def _nicknamer() -> NickNamer:
    return NickNamer()


@cache
def diminutives(given: str) -> tuple[str, ...]:
    """Short forms of a given name: the nicknames package's, then the project's own (sorted, capitalised)."""
    found = {n.capitalize() for n in _nicknamer().nicknames_of(given.lower()) if n.isalpha()}
    found.update(PROJECT_DIMINUTIVES.get(given, ()))
    found.discard(given)
    return tuple(sorted(found))


def jaro_winkler(a: str, b: str) -> float:
    """Jaro-Winkler similarity of two names' normalised forms."""
    return float(JaroWinkler.similarity(normalise_name(a).joined, normalise_name(b).joined))


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
        variations: Collection[str] = tuple(VARIATIONS),
        lookalike_kinds: tuple[str, ...] = LOOKALIKE_KINDS,
    ) -> None:
        """``variations`` and ``lookalike_kinds`` limit the stream to some of its cases (the
        variations keep their relative frequencies)."""
        self.rng = random.Random(seed)
        self._variations = [v for v in VARIATIONS if v in variations]
        self._variation_cum_weights = list(accumulate(VARIATIONS[v] for v in self._variations))
        self.lookalike_kinds = lookalike_kinds
        self.birth_years = birth_years
        self.reregistration_rate = reregistration_rate
        self.lookalike_rate = lookalike_rate
        self.persons: list[PersonRecord] = []
        self._children: list[int] = []  # people of school age: the ones look-alikes are made of
        # Children with a permanent UPN and a given name in SIMILAR_NAMES: twin_similar_name's sources.
        self._pairable: list[int] = []
        self._upns: set[str] = set()  # every UPN issued: one pupil's is never another's
        self._households: dict[tuple[str, str], set[str]] = {}
        self._named_parents: set[tuple[str, str, str]] = set()  # (family, postcode, given) with a parent
        self._origin_of: list[Origin] = []
        # Cumulative weights, computed once: rng.choices would otherwise re-add them on every pick.
        self._cum_weights = {
            id(pool): list(accumulate(_zipf_weights(len(pool))))
            for o in ORIGINS
            for pool in (o.male, o.female, o.family)
        }
        self._cum_weights[id(STREET_NAMES)] = list(accumulate(_zipf_weights(len(STREET_NAMES))))
        self._street_type_cum_weights = list(accumulate(STREET_TYPE_WEIGHTS))
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

    def _postcode(self, area: str | None = None) -> str:
        rng = self.rng
        area = area or rng.choice(_AREAS)
        unit = "".join(rng.choices(_UNIT_LETTERS, k=2))
        return f"{area}{rng.randint(1, 28)} {rng.randint(0, 9)}{unit}"

    def _dob(self) -> date:
        first_year, last_year = self.birth_years
        start = date(first_year, 1, 1)
        return start + timedelta(days=self.rng.randrange((date(last_year, 12, 31) - start).days + 1))

    def _gender(self) -> Gender:
        return Gender.MALE if self.rng.random() < 0.5 else Gender.FEMALE

    def _street(self) -> str:
        kind = self.rng.choices(_STREET_TYPE_NAMES, cum_weights=self._street_type_cum_weights)[0]
        return f"{self._pick(STREET_NAMES)} {kind}"

    def _address(self, postcode: str) -> tuple[str, str, str]:
        """Lines 1 and 2 and the town of a home at ``postcode``: a house, sometimes a flat in it.

        A flat is written "Flat 3, 12 Mill Lane"; or "12 Mill Lane" with line 2 "Flat 3"; or "Flat 3"
        with the street in line 2. A line 2 that is not a flat is a district or an estate."""
        rng = self.rng
        number = rng.randint(1, 60) if rng.random() < 0.75 else rng.randint(61, 250)
        line1 = f"{number} {self._street()}"
        line2 = rng.choice(LOCALITIES) if rng.random() < _LINE2_RATE else ""
        if rng.random() < _FLAT_RATE:
            flat = f"Flat {rng.randint(1, 30)}"
            form = 0 if line2 else rng.randrange(3)
            if form == 0:
                line1 = f"{flat}, {line1}"
            elif form == 1:
                line2 = flat
            else:
                line1, line2 = flat, line1
        return line1, line2, town_of(postcode)

    def _upn(self, born: date, temporary: bool = False) -> str:
        rng = self.rng
        while True:
            body = f"{rng.randint(201, 938)}{rng.randint(1000, 7999)}{(born.year + 5) % 100:02d}"
            if temporary:
                body += f"{rng.randint(0, 99):02d}{rng.choice(_UPN_ALPHABET)}"
            else:
                body += f"{rng.randint(0, 999):03d}"
            if self._issue(upn := upn_check_letter(body) + body):
                return upn

    def _issue(self, upn: str) -> bool:
        """Record ``upn`` as issued; False when it already was."""
        if upn in self._upns:
            return False
        self._upns.add(upn)
        return True

    def _twin_upn(self, upn: str) -> str:
        """The next unissued UPN after a permanent one, as a school allocates to twins enrolled together."""
        for step in range(1, 1000):
            serial = (int(upn[10:]) + step) % 1000
            body = f"{upn[1:10]}{serial:03d}"
            if self._issue(twin := upn_check_letter(body) + body):
                return twin
        raise RuntimeError("no serial left")

    def _child_upn(self, born: date) -> str:
        """A new pupil's UPN: usually permanent, sometimes temporary or none. Adults have none."""
        if born.year < 1995:
            return ""
        roll = self.rng.random()
        if roll < _UPN_NONE_RATE:
            return ""
        return self._upn(born, temporary=roll < _UPN_NONE_RATE + _UPN_TEMPORARY_RATE)

    def _reregistration_upn(self, born: date) -> str:
        """The UPN of a re-registration whose school did not carry the old one."""
        if born.year < 1995:
            return ""
        none, temporary = _REREGISTRATION_UPN
        roll = self.rng.random()
        return "" if roll < none else self._upn(born, temporary=roll < none + temporary)

    def _new_person(self) -> tuple[PersonRecord, Origin]:
        origin = self._origin()
        gender = self._gender()
        middle = self._given(origin, gender) if self.rng.random() < 0.4 else ""
        born = self._dob()
        postcode = self._postcode()
        line1, line2, town = self._address(postcode)
        record = PersonRecord(
            given_name=self._given(origin, gender),
            family_name=self._pick(origin.family),
            date_of_birth=born,
            gender=gender,
            postcode=postcode,
            middle_names=middle,
            upn=self._child_upn(born),
            address_line1=line1,
            address_line2=line2,
            town=town,
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
            # One move: postcode, street and (unless it stays in the district's town) town together;
            # half of families move within their postcode area.
            parsed = parse_postcode(record.postcode)
            local = parsed is not None and parsed.area in TOWNS and rng.random() < 0.5
            postcode = self._postcode(parsed.area if parsed and local else None)
            line1, line2, town = self._address(postcode)
            return replace(record, postcode=postcode, address_line1=line1, address_line2=line2, town=town)
        if variation == "missing_postcode":
            return replace(record, postcode=rng.choice(("", "ZZ99 3CZ")))
        if variation == "gender_unknown":
            return replace(record, gender=Gender.NOT_KNOWN)
        if variation == "address_format":
            return self._rewrite_address(record)
        if variation == "family_name_changed":
            return replace(
                record, family_name=self._unlike_family(record.family_name), previous_family_names=()
            )
        if variation == "dob_close":
            return replace(record, date_of_birth=self._dob_close(record.date_of_birth))
        if variation == "dob_wrong":
            return replace(record, date_of_birth=self._dob_wrong(record.date_of_birth))
        if variation == "diminutive":
            options = diminutives(record.given_name)
            return replace(record, given_name=rng.choice(options)) if options else record
        if variation == "postcode_mistyped":
            return replace(record, postcode=self._mistype_postcode(record.postcode))
        return record  # unchanged, upn_carried (the UPN is settled in _reregister)

    def _applies(self, variation: str, record: PersonRecord) -> bool:
        """Whether ``variation`` can change ``record`` as its name says (else it is not applied)."""
        if variation == "diminutive":
            return bool(diminutives(record.given_name))
        if variation == "postcode_mistyped":
            return parse_postcode(record.postcode) is not None
        if variation == "address_format":
            return bool(record.address_line1)
        return True

    def _unlike_family(self, family: str) -> str:
        """A wholly different family name (a parent's new partner's, say): Jaro-Winkler < 0.7."""
        for _ in range(1000):
            new = self._pick(self._origin().family)
            if jaro_winkler(new, family) < 0.7:
                return new
        raise RuntimeError("family name pool exhausted")

    def _dob_close(self, dob: date) -> date:
        """A birth date 2-31 days out, or with two of its YYYYMMDD digits changed."""
        rng = self.rng
        if rng.random() < 0.6:
            # Earlier rather than later when later would be a birth date nobody has yet.
            days = rng.randint(2, 31)
            return (
                dob - timedelta(days=days)
                if dob + timedelta(days=days) > _LATEST_BIRTH
                else (dob + timedelta(days=rng.choice((-1, 1)) * days))
            )
        digits = dob.strftime("%Y%m%d")
        for _ in range(100):
            i, j = sorted(rng.sample((3, 4, 5, 6, 7), 2))
            changed = list(digits)
            for k in (i, j):
                changed[k] = rng.choice(string.digits.replace(digits[k], ""))
            text = "".join(changed)
            try:
                close = date(int(text[:4]), int(text[4:6]), int(text[6:]))
            except ValueError:
                continue
            if close <= _LATEST_BIRTH:
                return close
        return dob - timedelta(days=10)

    def _dob_wrong(self, dob: date) -> date:
        """Another date within 12 years, over a month away: the year typed wrong, or another date."""
        rng = self.rng
        for _ in range(100):
            if rng.random() < 0.4:
                years = rng.choice((-1, 1)) * rng.randint(1, 12)
                wrong = date(dob.year + years, dob.month, min(dob.day, 28))
            else:
                wrong = dob + timedelta(days=rng.choice((-1, 1)) * rng.randint(32, 12 * 365))
            if wrong <= _LATEST_BIRTH and abs((wrong - dob).days) > 31:
                return wrong
        return dob - timedelta(days=400)

    def _mistype_postcode(self, postcode: str) -> str:
        """One character of the postcode wrong, still a well-formed postcode (written canonically)."""
        rng = self.rng
        compact = postcode.replace(" ", "").upper()
        for _ in range(100):
            i = rng.randrange(len(compact))
            pool = string.digits if compact[i].isdigit() else _UNIT_LETTERS
            typed = compact[:i] + rng.choice(pool) + compact[i + 1 :]
            if typed != compact and parse_postcode(typed) is not None:
                return f"{typed[:-3]} {typed[-3:]}"
        return postcode

    _ADDRESS_REWRITES = ("abbreviation", "case", "punctuation", "no_line2", "typo", "flat")

    def _rewrite_address(self, record: PersonRecord) -> PersonRecord:
        """The same address as another MIS or parent writes it: one or two of street types shortened
        or spelled out, capitals, punctuation, line 2 left out, a typo in the street, the flat moved
        between lines 1 and 2. The postcode and town are left alone."""
        rng = self.rng
        line1, line2 = record.address_line1, record.address_line2
        possible = {
            "no_line2": bool(line2),
            "flat": _move_flat(line1, line2, True) != (line1, line2),
            "typo": bool(_street_words((line1, line2)[_street_line(line1, line2)])),
        }
        ways = [w for w in self._ADDRESS_REWRITES if possible.get(w, True)]
        for way in rng.sample(ways, 2 if rng.random() < 0.3 else 1):
            if way == "abbreviation":
                line1, line2 = _respell_street_type(line1), _respell_street_type(line2)
            elif way == "case":
                upper = rng.random() < 0.7
                line1, line2 = (line1.upper(), line2.upper()) if upper else (line1.lower(), line2.lower())
            elif way == "punctuation":
                line1, line2 = _repunctuate(line1), _repunctuate(line2)
            elif way == "no_line2":
                line2 = ""
            elif way == "typo":
                line1, line2 = self._street_typo(line1, line2)
            else:
                line1, line2 = _move_flat(line1, line2, rng.random() < 0.5)
        if (line1, line2) == (record.address_line1, record.address_line2):  # a typo that typed the same
            line1, line2 = line1.upper(), line2.upper()
        return replace(record, address_line1=line1, address_line2=line2)

    def _street_typo(self, line1: str, line2: str) -> tuple[str, str]:
        """A typo in the street's name (its longest word), wherever the street is written."""
        lines = [line1, line2]
        index = _street_line(line1, line2)
        if not _street_words(lines[index]):  # line 2, where the street was, already left out
            index = 1 - index
        words = _street_words(lines[index])
        if words:
            word = max(words, key=len)
            lines[index] = lines[index].replace(word, self._typo(word), 1)
        return lines[0], lines[1]

    def _dob_typo(self, dob: date) -> date:
        rng = self.rng
        if rng.random() < 0.4:
            return dob + timedelta(days=rng.choice((-1, 1)))
        digits = dob.strftime("%Y%m%d")
        for _ in range(50):
            i = rng.choice((3, 5, 6, 7))
            changed = digits[:i] + rng.choice(string.digits.replace(digits[i], "")) + digits[i + 1 :]
            try:
                typo = date(int(changed[:4]), int(changed[4:6]), int(changed[6:]))
            except ValueError:
                continue
            if typo <= _LATEST_BIRTH:  # a younger sibling's 2023 must not become 2029
                return typo
        return dob - timedelta(days=1)

    # --- look-alikes ----------------------------------------------------------------------------

    def _lookalike(self, source: PersonRecord, origin: Origin, kind: str) -> PersonRecord | None:
        """A different person of ``source``'s household (same family name and address), or None when
        ``source`` cannot have a twin_similar_name (no similar name left for the household)."""
        rng = self.rng
        if kind == "twin_similar_name":
            twin = self._similar_name(source)
            if twin is None:
                return None
            return replace(
                source,
                given_name=twin.name,
                gender=Gender.FEMALE if twin.female else Gender.MALE,
                middle_names="",
                upn=self._twin_upn(source.upn),
            )
        if kind == "twin":
            gender = self._gender()
            # Twins enrolled together have consecutive UPNs: half the time here.
            consecutive = is_permanent_upn(source.upn) and rng.random() < 0.5
            return replace(
                source,
                given_name=self._distinct_given(origin, gender, source),
                gender=gender,
                middle_names="",
                upn=self._twin_upn(source.upn) if consecutive else self._child_upn(source.date_of_birth),
            )
        if kind == "sibling":
            gender = self._gender()
            offset = timedelta(days=rng.choice((-1, 1)) * rng.randint(300, 2500))
            if source.date_of_birth + offset > _LATEST_BIRTH:  # an older sibling, not one yet unborn
                offset = -offset
            return replace(
                source,
                given_name=self._distinct_given(origin, gender, source),
                gender=gender,
                middle_names="",
                date_of_birth=source.date_of_birth + offset,
                upn=self._child_upn(source.date_of_birth + offset),
            )
        # A parent with the child's name, born a generation earlier, at the same address; no UPN.
        years = rng.randint(18, 45)
        dob = source.date_of_birth
        return replace(
            source,
            date_of_birth=date(dob.year - years, dob.month, min(dob.day, 28)),
            middle_names="" if rng.random() < 0.5 else source.middle_names,
            upn="",
        )

    def _similar_name(self, source: PersonRecord) -> SimilarName | None:
        """A real name one or two letters from ``source``'s that nobody in the household has; of the
        same sex four times in five when there is one."""
        key = f"{source.given_name}/{'f' if source.gender is Gender.FEMALE else 'm'}"
        used = self._household(source)
        options = [n for n in SIMILAR_NAMES.get(key, ()) if normalise_name(n.name).joined not in used]
        same_sex = [n for n in options if n.female == (source.gender is Gender.FEMALE)]
        if same_sex and self.rng.random() < 0.8:
            options = same_sex
        return self.rng.choice(options) if options else None

    # --- the stream -----------------------------------------------------------------------------

    def _register(self, record: PersonRecord, origin: Origin) -> int:
        person_id = len(self.persons)
        self.persons.append(record)
        self._origin_of.append(origin)
        if record.date_of_birth.year >= 2000:
            self._children.append(person_id)
            sex = "f" if record.gender is Gender.FEMALE else "m"
            if is_permanent_upn(record.upn) and f"{record.given_name}/{sex}" in SIMILAR_NAMES:
                self._pairable.append(person_id)
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
        """``record`` re-registered with the given variations (drawn as in the stream when None), and
        the variations that could be applied."""
        return self._reregister(
            record, ORIGINS[0], self._draw_variations() if variations is None else variations
        )

    def _reregister(
        self, person: PersonRecord, origin: Origin, variations: tuple[str, ...]
    ) -> tuple[PersonRecord, tuple[str, ...]]:
        """``person`` registered again: the UPN carried only under upn_carried (and only a permanent
        one), each variation applied that can be. A variation that cannot (no diminutive of the
        name, say) is left out of the labels; with none left the registration is "unchanged"."""
        carried = "upn_carried" in variations and is_permanent_upn(person.upn)
        record = replace(
            person, upn=person.upn if carried else self._reregistration_upn(person.date_of_birth)
        )
        applied = []
        for variation in variations:
            if carried if variation == "upn_carried" else self._applies(variation, record):
                record = self._vary(record, origin, variation)
                applied.append(variation)
        return record, tuple(applied) or ("unchanged",)

    def _draw_variations(self) -> tuple[str, ...]:
        rng = self.rng
        variations, weights = self._variations, self._variation_cum_weights
        chosen = [rng.choices(variations, cum_weights=weights)[0]]
        if rng.random() < SECOND_VARIATION_RATE:
            second = rng.choices(variations, cum_weights=weights)[0]
            pair = {chosen[0], second}
            compatible = not any(pair <= group for group in _EXCLUSIVE)
            if len(pair) == 2 and "unchanged" not in pair and compatible:
                chosen.append(second)
        return tuple(chosen)

    def registrations(self, n: int) -> Iterator[Registration]:
        rng = self.rng
        for _ in range(n):
            roll = rng.random()
            if self.persons and roll < self.reregistration_rate:
                person_id = rng.randrange(len(self.persons))
                record, chosen = self._reregister(
                    self.persons[person_id], self._origin_of[person_id], self._draw_variations()
                )
                yield Registration(record, person_id, "reregistration", chosen, person_id)
            elif self.persons and roll < self.reregistration_rate + self.lookalike_rate:
                kind = rng.choice(self.lookalike_kinds)
                if kind == "twin_similar_name" and not self._pairable:
                    kind = "twin"
                source_id = rng.choice(self._pairable if kind == "twin_similar_name" else self._children)
                source = self.persons[source_id]
                origin = self._origin_of[source_id]
                if kind == "parent_child":
                    # Only one parent can share a child's name.
                    named = (normalise_name(source.family_name).joined, source.postcode, source.given_name)
                    if named in self._named_parents:
                        kind = "sibling"
                    self._named_parents.add(named)
                lookalike = self._lookalike(source, origin, kind)
                if lookalike is None:
                    kind = "twin"
                    lookalike = self._lookalike(source, origin, kind)
                    assert lookalike is not None
                yield Registration(lookalike, self._register(lookalike, origin), kind, (), source_id)
            else:
                record, origin = self._new_person()
                yield Registration(record, self._register(record, origin), "new")
