"""Value objects of the registration domain."""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import date
from operator import attrgetter
from typing import Any, Protocol

from matching.types import Gender, PersonRecord

__all__ = [
    "Gender",
    "Identity",
    "Learner",
    "LearnerKind",
    "OrgKind",
    "Principal",
    "RawIdentity",
    "learner_record",
    "person_record",
]


class OrgKind(enum.StrEnum):
    """Kinds of organisation that may call the service."""

    SCHOOL = "school"
    POST16 = "post16"
    AWARDING_BODY = "awarding_body"
    ADMIN = "admin"


class LearnerKind(enum.StrEnum):
    """A learner acting for themselves (self-service credential), not an organisation."""

    LEARNER = "learner"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: an authenticated organisation, or a learner (``learner_id`` set, ``org_id`` 0)."""

    org_id: int
    kind: OrgKind | LearnerKind
    ref: str
    name: str
    learner_id: int | None = None

    @property
    def is_learner(self) -> bool:
        return self.kind is LearnerKind.LEARNER


@dataclass(frozen=True, slots=True)
class RawIdentity:
    """Identity exactly as a caller sent it (strings untrimmed, gender possibly missing)."""

    given_name: str = ""
    family_name: str = ""
    date_of_birth: str = ""
    gender: Gender | None = None
    postcode: str = ""
    middle_names: str = ""
    previous_family_name: str = ""
    family_name_at_16: str = ""
    preferred_given_name: str = ""
    address_line1: str = ""
    address_line2: str = ""
    town: str = ""
    county: str = ""
    email: str = ""
    school_at_16: str = ""
    upn: str = ""
    place_of_birth: str = ""
    title: str = ""


@dataclass(frozen=True, slots=True)
class Identity:
    """A validated identity: names trimmed, postcode formatted ("SW1A 1AA"), date parsed."""

    given_name: str
    family_name: str
    date_of_birth: date
    gender: Gender
    postcode: str
    middle_names: str = ""
    previous_family_name: str = ""
    family_name_at_16: str = ""
    preferred_given_name: str = ""
    address_line1: str = ""
    address_line2: str = ""
    town: str = ""
    county: str = ""
    email: str = ""
    school_at_16: str = ""
    upn: str = ""
    place_of_birth: str = ""
    title: str = ""


@dataclass(frozen=True, slots=True)
class Learner:
    """A registered learner as the storage layer holds it."""

    id: int
    uln: str
    identity: Identity
    version: int
    previous_family_names: tuple[str, ...] = field(default=())
    master_id: int | None = None

    @property
    def etag(self) -> str:
        return f'W/"{self.version}"'


@dataclass(frozen=True, slots=True)
class MatchCandidate:
    """A stored learner record as the matcher reads it, and the learner a match answers with: the
    record's own learner, or the master it was merged into (the duplicate's details still describe
    that person). A batch chunk fetches thousands of candidates and answers with a few of them:
    only those are read in full (as ``Learner``)."""

    id: int  # the learner a match answers with
    uln: str  # that learner's ULN
    record: PersonRecord
    record_of: int  # the learner whose stored details ``record`` is (``id`` unless merged)


class MatchingFields(Protocol):
    """What the matcher reads of a learner's stored fields (an ``Identity``; storage reads rows by
    position, ``stored_record``)."""

    @property
    def given_name(self) -> str: ...
    @property
    def family_name(self) -> str: ...
    @property
    def date_of_birth(self) -> date: ...
    @property
    def postcode(self) -> str: ...
    @property
    def middle_names(self) -> str: ...
    @property
    def preferred_given_name(self) -> str: ...
    @property
    def previous_family_name(self) -> str: ...
    @property
    def upn(self) -> str: ...
    @property
    def address_line1(self) -> str: ...
    @property
    def address_line2(self) -> str: ...
    @property
    def town(self) -> str: ...


def person_record(identity: Identity, previous_family_names: tuple[str, ...] = ()) -> PersonRecord:
    """The facts the matcher compares, taken from a validated identity."""
    return matching_record(identity, identity.gender, previous_family_names)


def matching_record(fields: MatchingFields, gender: Gender, history: tuple[str, ...] = ()) -> PersonRecord:
    """The matcher's record of a learner: previous family names are the one given at registration
    and the replaced ones (``history``, newest first), each once."""
    return PersonRecord(
        given_name=fields.given_name,
        family_name=fields.family_name,
        date_of_birth=fields.date_of_birth,
        gender=gender,
        postcode=fields.postcode,
        middle_names=fields.middle_names,
        preferred_given_name=fields.preferred_given_name,
        previous_family_names=_previous_family_names(fields.previous_family_name, history),
        upn=fields.upn,
        address_line1=fields.address_line1,
        address_line2=fields.address_line2,
        town=fields.town,
    )


_GENDERS = {gender.value: gender for gender in Gender}  # a dict lookup: Gender(value) cost 8x more


def stored_record(values: Sequence[Any], history: tuple[str, ...] = ()) -> PersonRecord:
    """``matching_record`` of a stored learner's values in PersonRecord's field order, as storage
    reads them: the gender by its stored value, the previous family name given at registration in
    ``previous_family_names``' place. Positional, for candidate fetches: a registration at 1M
    learners builds some seven of these, a batch chunk thousands, and reading a row's fields by name
    cost several times building the record."""
    (given, family, born, gender, postcode, middle, preferred, previous, upn, line1, line2, town) = values
    return PersonRecord(
        given,
        family,
        born,
        _GENDERS[gender],
        postcode,
        middle,
        preferred,
        _previous_family_names(previous, history),
        upn,
        line1,
        line2,
        town,
    )


def _previous_family_names(given_at_registration: str, history: tuple[str, ...]) -> tuple[str, ...]:
    if history:
        return tuple(dict.fromkeys(n for n in (given_at_registration, *history) if n))
    # nearly every learner (this runs for every candidate the matcher reads)
    return (given_at_registration,) if given_at_registration else ()


def _fingerprint_parts() -> tuple[attrgetter[tuple[object, ...]], int, int]:
    names = [f.name for f in fields(Identity)]
    return attrgetter(*names), names.index("date_of_birth"), names.index("gender")


_IDENTITY_VALUES, _DATE_AT, _GENDER_AT = _fingerprint_parts()


def identity_fingerprint(identity: Identity) -> str:
    """A stable digest of every field of a validated identity: whether an organisation's row for a
    learner changed since it last sent it. Stored with MIS links, so its text must not change: the
    fields in declaration order, the date ISO-formatted, the gender by value, joined by U+001F
    (one attrgetter call per row rather than a generator over ``fields()``: every batch row pays it)."""
    values: list[Any] = list(_IDENTITY_VALUES(identity))
    values[_DATE_AT] = values[_DATE_AT].isoformat()
    values[_GENDER_AT] = values[_GENDER_AT].value
    return hashlib.sha256("\x1f".join(values).encode()).hexdigest()


def learner_record(learner: Learner) -> PersonRecord:
    return person_record(learner.identity, learner.previous_family_names)
