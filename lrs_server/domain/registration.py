"""Registration: issue a ULN to a new learner, or return the one they already hold."""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from lrs_server.domain.clock import Clock
from lrs_server.domain.errors import FieldViolation, Reason, ValidationError, invalid
from lrs_server.domain.model import Identity, Learner, Principal, RawIdentity, learner_record, person_record
from lrs_server.domain.ports import LearnerStore, LearnerTransaction, NewLearner, UlnTaken
from lrs_server.domain.record_ports import SchoolChoice
from lrs_server.domain.uln import random_uln
from lrs_server.domain.validation import (
    Violations,
    age_on,
    check_identifier,
    parse_uln,
    validate_identity,
)
from lrs_server.privacy import Disclosure, LearnerView
from matching.types import Candidate, MatchDecision, Matcher, Outcome, PersonRecord, ScoredCandidate

MINIMUM_AGE = 14
CANDIDATE_LIMIT = 500
MAX_CANDIDATES_RETURNED = 10
_ULN_ATTEMPTS = 8


class Confirmation(enum.Enum):
    NONE = "none"
    EXISTING = "existing"
    NEW = "new"


@dataclass(frozen=True, slots=True)
class RegistrationCommand:
    identity: RawIdentity
    request_id: str = ""
    mis_identifier: str = ""
    post14_qualification: bool = False
    confirmation: Confirmation = Confirmation.NONE
    confirm_uln: str = ""
    confirm_new_reason: str = ""
    known_uln: str = ""
    # AbilityToShare, recorded by the school on the learner's behalf (None: not given).
    ability_to_share: SchoolChoice | None = None


class RegistrationHooks(Protocol):
    """Called inside the registration transaction (implemented by domain/review.py)."""

    def possible_match(
        self,
        tx: LearnerTransaction,
        principal: Principal,
        identity: Identity,
        post14_qualification: bool,
        mis_identifier: str,
        candidate_ids: Sequence[int],
        now: datetime,
    ) -> None: ...

    def school_sharing(
        self,
        tx: LearnerTransaction,
        principal: Principal,
        learner_id: int,
        choice: SchoolChoice,
        now: datetime,
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class CandidateView:
    learner: LearnerView
    score: ScoredCandidate


@dataclass(frozen=True, slots=True)
class RegistrationResult:
    outcome: Outcome
    learner: LearnerView | None
    candidates: tuple[CandidateView, ...] = ()
    updated: bool = False


@dataclass(frozen=True, slots=True)
class _Valid:
    identity: Identity
    record: PersonRecord
    command: RegistrationCommand


class RegistrationService:
    def __init__(
        self,
        store: LearnerStore,
        matcher: Matcher,
        clock: Clock,
        disclosure: Disclosure,
        hooks: RegistrationHooks | None = None,
    ) -> None:
        self._store = store
        self._matcher = matcher
        self._clock = clock
        self._disclosure = disclosure
        self._hooks = hooks

    def validate(self, command: RegistrationCommand, field_prefix: str = "") -> _Valid:
        """Check every field; raise one ValidationError listing all the bad ones."""
        found = Violations(prefix=f"{field_prefix}identity.")
        today = self._clock.today()
        identity = validate_identity(command.identity, today, found)
        found.prefix = field_prefix
        check_identifier(found, "request_id", command.request_id, Reason.REQUEST_ID_INVALID)
        check_identifier(found, "mis_identifier", command.mis_identifier, Reason.MIS_IDENTIFIER_INVALID)
        if command.confirmation is Confirmation.EXISTING:
            found.check("confirmation.confirm_uln", lambda: parse_uln(command.confirm_uln), "")
        if command.confirmation is Confirmation.NEW and not command.confirm_new_reason.strip():
            found.add("confirmation.confirm_new_reason", Reason.FIELD_REQUIRED, "give the reason")
        if command.known_uln:
            found.check("uln", lambda: parse_uln(command.known_uln), "")
        found.raise_if_any()
        if age_on(identity.date_of_birth, today) < MINIMUM_AGE and not command.post14_qualification:
            raise invalid(
                f"{field_prefix}identity.date_of_birth",
                Reason.UNDER_MINIMUM_AGE,
                f"the learner is under {MINIMUM_AGE}; set post14_qualification if they are "
                "registering for a post-14 qualification",
            )
        return _Valid(identity, person_record(identity), command)

    def register(self, principal: Principal, command: RegistrationCommand, rpc: str) -> RegistrationResult:
        valid = self.validate(command)
        return self.register_valid(principal, valid, rpc)

    def register_valid(self, principal: Principal, valid: _Valid, rpc: str) -> RegistrationResult:
        keys = self._matcher.blocking_keys(valid.record)
        for _ in range(_ULN_ATTEMPTS):
            try:
                with self._store.write(keys) as tx:
                    return self._register(tx, principal, valid, keys, rpc)
            except UlnTaken:
                continue
        raise RuntimeError("could not draw an unused ULN")  # ~impossible: the space is ~8e8

    # -- inside the serialised transaction -----------------------------------------------------

    def _register(
        self,
        tx: LearnerTransaction,
        principal: Principal,
        valid: _Valid,
        keys: frozenset[str],
        rpc: str,
    ) -> RegistrationResult:
        command = valid.command
        now = self._clock.now()
        request_id = command.request_id.strip()
        mis_identifier = command.mis_identifier.strip()
        if request_id and (stored := tx.stored_request(principal, request_id)) is not None:
            learner = tx.learner_by_id(stored.learner_id) if stored.learner_id is not None else None
            if learner is not None:
                return self._answer(tx, principal, rpc, Outcome(stored.outcome), learner, now)
        if mis_identifier and (linked_id := tx.mis_link(principal, mis_identifier)) is not None:
            linked = tx.learner_by_id(linked_id)
            if linked is not None:
                return self._known_pupil(tx, principal, valid, linked, rpc, now)

        scored_candidates = tx.candidates(keys, CANDIDATE_LIMIT)
        decision = self._matcher.decide(
            valid.record,
            [Candidate(c.id, learner_record(c)) for c in scored_candidates],
            tx.frequencies,
        )
        by_id = {c.id: c for c in scored_candidates}
        chosen = self._apply_confirmation(command, decision, by_id)
        undecided = (
            decision.outcome is Outcome.POSSIBLE_MATCH and command.confirmation is not Confirmation.NEW
        )
        if chosen is None and undecided:
            tx.record_decision(principal, None, Outcome.POSSIBLE_MATCH.value, _explain(decision), now)
            shown = decision.candidates[:MAX_CANDIDATES_RETURNED]
            if self._hooks is not None:
                self._hooks.possible_match(
                    tx,
                    principal,
                    valid.identity,
                    command.post14_qualification,
                    mis_identifier,
                    [s.candidate_id for s in shown],
                    now,
                )
            views = self._disclosure.release(tx, principal, rpc, [by_id[s.candidate_id] for s in shown], now)
            return RegistrationResult(
                Outcome.POSSIBLE_MATCH,
                None,
                tuple(CandidateView(v, s) for v, s in zip(views, shown, strict=True)),
            )
        if chosen is not None:
            outcome, learner = Outcome.MATCHED, chosen
        else:
            outcome = Outcome.NEW
            new = NewLearner(
                valid.identity,
                command.post14_qualification,
                keys,
                self._matcher.frequency_terms(valid.record),
            )
            learner = tx.insert_learner(principal, random_uln(), new, now)
        tx.record_decision(principal, learner.id, outcome.value, _explain(decision, command), now)
        if request_id:
            tx.store_request(principal, request_id, outcome.value, learner.id)
        if mis_identifier:
            tx.link_mis(principal, mis_identifier, learner.id)
        if self._hooks is not None and command.ability_to_share is not None:
            self._hooks.school_sharing(tx, principal, learner.id, command.ability_to_share, now)
        return self._answer(tx, principal, rpc, outcome, learner, now)

    def _apply_confirmation(
        self, command: RegistrationCommand, decision: MatchDecision, by_id: dict[int, Learner]
    ) -> Learner | None:
        """The existing learner this registration is, or None for a new one."""
        if command.confirmation is Confirmation.EXISTING:
            shown = {by_id[s.candidate_id].uln: by_id[s.candidate_id] for s in decision.candidates}
            if command.confirm_uln not in shown:
                raise ValidationError(
                    [
                        FieldViolation(
                            "confirmation.confirm_uln",
                            Reason.CONFIRMATION_INVALID,
                            "is not one of the candidates for this learner; register again without a "
                            "confirmation to see them",
                        )
                    ]
                )
            return shown[command.confirm_uln]
        if decision.outcome is Outcome.MATCHED and decision.matched_id is not None:
            return by_id[decision.matched_id]
        return None

    def _known_pupil(
        self,
        tx: LearnerTransaction,
        principal: Principal,
        valid: _Valid,
        learner: Learner,
        rpc: str,
        now: datetime,
    ) -> RegistrationResult:
        """The organisation registered this MIS identifier before: keep its ULN, refresh details."""
        updated = False
        if learner.identity != valid.identity:
            old_terms = self._matcher.frequency_terms(learner_record(learner))
            learner = tx.update_learner(
                learner,
                valid.identity,
                self._matcher.blocking_keys(valid.record),
                self._matcher.frequency_terms(valid.record),
                old_terms,
                now,
            )
            updated = True
        result = self._answer(tx, principal, rpc, Outcome.MATCHED, learner, now)
        return RegistrationResult(result.outcome, result.learner, (), updated)

    def _answer(
        self,
        tx: LearnerTransaction,
        principal: Principal,
        rpc: str,
        outcome: Outcome,
        learner: Learner,
        now: datetime,
    ) -> RegistrationResult:
        (view,) = self._disclosure.release(tx, principal, rpc, [learner], now)
        return RegistrationResult(outcome, view)


def _explain(decision: MatchDecision, command: RegistrationCommand | None = None) -> str:
    """The decision and its per-field comparisons as JSON, stored for audit."""
    return json.dumps(
        {
            "outcome": decision.outcome.value,
            "matched_id": decision.matched_id,
            "confirmation": command.confirmation.value if command else "none",
            "confirm_new_reason": command.confirm_new_reason if command else "",
            "candidates": [
                {
                    "id": s.candidate_id,
                    "weight": round(s.match_weight, 3),
                    "comparisons": [[c.field, c.level, round(c.weight, 3)] for c in s.comparisons],
                }
                for s in decision.candidates[:MAX_CANDIDATES_RETURNED]
            ],
        },
        separators=(",", ":"),
    )
