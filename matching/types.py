"""The matcher's contract with the rest of the service: plain, frozen value objects."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol


class Gender(enum.Enum):
    NOT_KNOWN = "not_known"
    MALE = "male"
    FEMALE = "female"
    NOT_SPECIFIED = "not_specified"


@dataclass(frozen=True, slots=True)
class PersonRecord:
    """The identity facts the matcher compares. Names are as the caller sent them (not normalised)."""

    given_name: str
    family_name: str
    date_of_birth: date
    gender: Gender = Gender.NOT_KNOWN
    postcode: str = ""
    middle_names: str = ""
    preferred_given_name: str = ""
    previous_family_names: tuple[str, ...] = ()
    upn: str = ""
    # The last known address as the school's MIS holds it (LRB LastKnownAddressLine1/2 and Town).
    address_line1: str = ""
    address_line2: str = ""
    town: str = ""


@dataclass(frozen=True, slots=True)
class Candidate:
    """A learner already registered, fetched by the storage layer through a blocking key."""

    id: int
    record: PersonRecord


class Outcome(enum.Enum):
    NEW = "NEW"
    MATCHED = "MATCHED"
    POSSIBLE_MATCH = "POSSIBLE_MATCH"


@dataclass(frozen=True, slots=True)
class FieldComparison:
    """One field's comparison: which named level it reached and the weight that level carries."""

    field: str
    level: str
    weight: float


@dataclass(frozen=True, slots=True)
class ScoredCandidate:
    """One candidate's score. ``doubt``: bits the evidence may be worth less than its levels say (a
    town where many learners live), which a MATCHED must clear on top of its thresholds; review
    reads ``match_weight`` as it is, so a doubt never turns a pair away from a reviewer."""

    candidate_id: int
    match_weight: float
    probability: float
    comparisons: tuple[FieldComparison, ...]
    doubt: float = 0.0


@dataclass(frozen=True, slots=True)
class MatchDecision:
    """What to do with a registration, and why.

    ``candidates`` holds the scored candidates worth showing (at or above the lower threshold),
    best first. ``matched_id`` is set only when ``outcome`` is MATCHED. ``lookalike`` says the best
    candidate reached a look-alike signature (twins' names): the record may describe another child
    of that family rather than the candidate.
    """

    outcome: Outcome
    matched_id: int | None
    candidates: tuple[ScoredCandidate, ...]
    lookalike: bool = False


class FrequencyLookup(Protocol):
    """How common a normalised value is among registered learners (for term-frequency weights)."""

    def count(self, field: str, value: str) -> int: ...

    def total(self) -> int: ...


class Matcher(Protocol):
    def blocking_keys(self, record: PersonRecord) -> frozenset[str]:
        """Keys under which a record is stored and candidates are fetched (short strings, indexed)."""
        ...

    def frequency_terms(self, record: PersonRecord) -> Mapping[str, str]:
        """The (field -> normalised value) pairs whose counts the storage layer should keep."""
        ...

    def frequency_reads(self, record: PersonRecord) -> frozenset[tuple[str, str]]:
        """The (field, normalised value) counts that deciding with this record as the query may look
        up (so that a caller can read them for many records at once)."""
        ...

    def candidate_frequency_reads(self, record: PersonRecord) -> frozenset[tuple[str, str]]:
        """The counts that deciding may look up of this record as a candidate (fewer: a candidate's
        own names and place are not weighed by their counts)."""
        ...

    def score(
        self,
        query: PersonRecord,
        candidates: Sequence[Candidate],
        frequencies: FrequencyLookup | None = None,
    ) -> tuple[ScoredCandidate, ...]:
        """Every candidate scored, best first."""
        ...

    def decide(
        self,
        query: PersonRecord,
        candidates: Sequence[Candidate],
        frequencies: FrequencyLookup | None = None,
    ) -> MatchDecision: ...
