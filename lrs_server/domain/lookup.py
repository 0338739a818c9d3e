"""Finding and verifying learners for organisations allowed to ask."""

from __future__ import annotations

import enum
import unicodedata
from dataclasses import dataclass

from rapidfuzz.distance import JaroWinkler

from lrs_server.domain.clock import Clock
from lrs_server.domain.errors import Reason, not_found
from lrs_server.domain.merged import resolve_master
from lrs_server.domain.model import Gender, Learner, Principal, RawIdentity, person_record
from lrs_server.domain.ports import LearnerStore, LearnerTransaction
from lrs_server.domain.registration import MAX_CANDIDATES_RETURNED, CandidateView, read_counts
from lrs_server.domain.validation import (
    Violations,
    parse_date_of_birth,
    parse_name,
    parse_uln,
    validate_identity,
)
from lrs_server.privacy import Disclosure, LearnerView
from matching.types import Candidate, Matcher, Outcome

SIMILAR_NAME = 0.85


class FindOutcome(enum.Enum):
    NO_MATCH = "NO_MATCH"
    EXACT_MATCH = "EXACT_MATCH"
    POSSIBLE_MATCHES = "POSSIBLE_MATCHES"
    TOO_MANY_MATCHES = "TOO_MANY_MATCHES"


class VerificationOutcome(enum.Enum):
    VERIFIED = "VERIFIED"
    SIMILAR = "SIMILAR"
    LINKED = "LINKED"
    MISMATCH = "MISMATCH"
    NOT_FOUND = "NOT_FOUND"


class VerifiedField(enum.Enum):
    GIVEN_NAME = "given_name"
    FAMILY_NAME = "family_name"
    DATE_OF_BIRTH = "date_of_birth"
    GENDER = "gender"


@dataclass(frozen=True, slots=True)
class FoundByUln:
    learner: LearnerView
    master_substituted: bool


@dataclass(frozen=True, slots=True)
class FindResult:
    outcome: FindOutcome
    candidates: tuple[CandidateView, ...]


@dataclass(frozen=True, slots=True)
class VerificationQuery:
    uln: str
    given_name: str
    family_name: str
    date_of_birth: str = ""
    gender: Gender | None = None


@dataclass(frozen=True, slots=True)
class VerificationResult:
    outcome: VerificationOutcome
    uln: str
    mismatched: tuple[VerifiedField, ...] = ()


def fold(name: str) -> str:
    """Case, accents, spacing and punctuation removed: "O'Néill" and "o neill" fold alike."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(ch for ch in decomposed if ch.isalnum())


class _Agreement(enum.IntEnum):
    EXACT = 0
    SIMILAR = 1
    DIFFERENT = 2


def _agree(given: str, held: tuple[str, ...]) -> _Agreement:
    """How well a name agrees with the best of the names held (current and previous)."""
    quoted = fold(given)
    folded = [fold(h) for h in held if h]
    if quoted in folded:
        return _Agreement.EXACT
    if any(JaroWinkler.similarity(quoted, h) >= SIMILAR_NAME for h in folded):
        return _Agreement.SIMILAR
    return _Agreement.DIFFERENT


class LookupService:
    def __init__(self, store: LearnerStore, matcher: Matcher, clock: Clock, disclosure: Disclosure) -> None:
        self._store = store
        self._matcher = matcher
        self._clock = clock
        self._disclosure = disclosure

    def find_by_uln(
        self, principal: Principal, uln: str, given_name: str, family_name: str, rpc: str
    ) -> FoundByUln:
        found = Violations()
        uln = found.check("uln", lambda: parse_uln(uln), "")
        given = found.check("given_name", lambda: parse_name(given_name, required=True), "")
        family = found.check("family_name", lambda: parse_name(family_name, required=True), "")
        found.raise_if_any()
        with self._store.write(()) as tx:
            learner, substituted = _resolve(tx, uln)
            if learner is None or not names_match(learner, given, family):
                # The same answer whether the ULN is unknown or the names differ: a ULN alone
                # must not confirm that a learner exists.
                raise not_found(Reason.LEARNER_NOT_FOUND, "no learner with this ULN and these names")
            (view,) = self._disclosure.release(tx, principal, rpc, [learner], self._clock.now())
            return FoundByUln(view, substituted)

    def find_by_demographics(self, principal: Principal, raw: RawIdentity, rpc: str) -> FindResult:
        found = Violations(prefix="identity.")
        identity = validate_identity(raw, self._clock.today(), found)
        found.raise_if_any()
        record = person_record(identity)
        with self._store.write(()) as tx:
            # As registration reads them: a merged duplicate's details find its master.
            registry = tx.candidates_by_key(self._matcher.blocking_keys(record))
            pool = read_counts(tx, self._matcher, [record], registry)
            decision = self._matcher.decide(
                record, [Candidate(c.id, c.record) for c in pool.values()], tx.frequencies
            )
            if decision.outcome is Outcome.MATCHED:
                outcome, shown = FindOutcome.EXACT_MATCH, decision.candidates[:1]
            elif not decision.candidates:
                outcome, shown = FindOutcome.NO_MATCH, ()
            elif len(decision.candidates) > MAX_CANDIDATES_RETURNED:
                outcome, shown = FindOutcome.TOO_MANY_MATCHES, ()
            else:
                outcome, shown = FindOutcome.POSSIBLE_MATCHES, decision.candidates
            by_id = {lr.id: lr for lr in tx.learners_by_ids(sorted({s.candidate_id for s in shown}))}
            views = self._disclosure.release(
                tx, principal, rpc, [by_id[s.candidate_id] for s in shown], self._clock.now()
            )
        return FindResult(outcome, tuple(CandidateView(v, s) for v, s in zip(views, shown, strict=True)))

    def verify(self, principal: Principal, query: VerificationQuery, rpc: str) -> VerificationResult:
        found = Violations()
        uln = found.check("uln", lambda: parse_uln(query.uln), "")
        given = found.check("given_name", lambda: parse_name(query.given_name, required=True), "")
        family = found.check("family_name", lambda: parse_name(query.family_name, required=True), "")
        born = None
        if query.date_of_birth.strip():
            born = found.check(
                "date_of_birth", lambda: parse_date_of_birth(query.date_of_birth, self._clock.today()), None
            )
        found.raise_if_any()
        with self._store.write(()) as tx:
            learner, substituted = _resolve(tx, uln)
            if learner is None:
                return VerificationResult(VerificationOutcome.NOT_FOUND, uln)
            # Verification discloses that the details match, so it is a read of the learner's data.
            self._disclosure.release(tx, principal, rpc, [learner], self._clock.now())
        held = learner.identity
        names = {
            VerifiedField.GIVEN_NAME: _agree(given, (held.given_name, held.preferred_given_name)),
            VerifiedField.FAMILY_NAME: _agree(family, _family_names(learner)),
        }
        # Forename and surname swapped is a known data-entry slip: accept it as similar.
        swapped = (
            _agree(given, _family_names(learner)) is _Agreement.EXACT
            and _agree(family, (held.given_name,)) is _Agreement.EXACT
        )
        mismatched = [f for f, a in names.items() if a is _Agreement.DIFFERENT and not swapped]
        if born is not None and born != held.date_of_birth:
            mismatched.append(VerifiedField.DATE_OF_BIRTH)
        known = {Gender.MALE, Gender.FEMALE}
        if query.gender in known and held.gender in known and query.gender != held.gender:
            mismatched.append(VerifiedField.GENDER)
        if mismatched:
            # The quoted ULN only: the details did not match, so which record a merged ULN now
            # belongs to is not the caller's to learn.
            return VerificationResult(VerificationOutcome.MISMATCH, uln, tuple(mismatched))
        if substituted:
            return VerificationResult(VerificationOutcome.LINKED, learner.uln)
        similar = tuple(f for f, a in names.items() if a is not _Agreement.EXACT) or (
            (VerifiedField.GIVEN_NAME, VerifiedField.FAMILY_NAME) if swapped else ()
        )
        if similar:
            return VerificationResult(VerificationOutcome.SIMILAR, learner.uln, similar)
        return VerificationResult(VerificationOutcome.VERIFIED, learner.uln)


def _family_names(learner: Learner) -> tuple[str, ...]:
    held = learner.identity
    return (
        held.family_name,
        held.previous_family_name,
        held.family_name_at_16,
        *learner.previous_family_names,
    )


def _resolve(tx: LearnerTransaction, uln: str) -> tuple[Learner | None, bool]:
    """The learner holding ``uln``, or its master when it was merged into another (substituted)."""
    quoted = tx.learner_by_uln(uln)
    learner = resolve_master(tx, quoted)
    return learner, learner is not quoted


def names_match(learner: Learner, given_name: str, family_name: str) -> bool:
    """Whether quoted names plausibly belong to ``learner`` (given or preferred name; current or any
    earlier family name): the check that stops anyone fishing with a ULN alone."""
    return all(
        _agree(name, held) is not _Agreement.DIFFERENT
        for name, held in (
            (given_name, (learner.identity.given_name, learner.identity.preferred_given_name)),
            (family_name, _family_names(learner)),
        )
    )
