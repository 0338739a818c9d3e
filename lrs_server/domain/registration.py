"""Registration: issue a ULN to a new learner, or return the one they already hold."""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from lrs_server.domain.clock import Clock
from lrs_server.domain.errors import DomainError, ErrorKind, FieldViolation, Reason, ValidationError, invalid
from lrs_server.domain.merged import resolve_master
from lrs_server.domain.model import (
    Identity,
    Learner,
    MatchCandidate,
    Principal,
    RawIdentity,
    identity_fingerprint,
    learner_record,
    person_record,
)
from lrs_server.domain.ports import LearnerStore, LearnerTransaction, MisLink, NewLearner, UlnTaken
from lrs_server.domain.record_ports import NewReviewItem, SchoolChoice
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

    def possible_matches(
        self, tx: LearnerTransaction, principal: Principal, items: Sequence[NewReviewItem], now: datetime
    ) -> None: ...

    def school_sharing(
        self,
        tx: LearnerTransaction,
        principal: Principal,
        choices: Sequence[tuple[int, SchoolChoice]],
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
        (result,) = self.register_many(principal, [command], rpc)
        if isinstance(result, DomainError):
            raise result
        return result

    def register_many(
        self, principal: Principal, commands: Sequence[RegistrationCommand], rpc: str
    ) -> list[RegistrationResult | DomainError]:
        """Register several learners in one transaction; a refused row does not stop the others.

        Each row is decided in turn against the registry *and* the rows before it in the same call,
        so a file that lists one pupil twice still yields one ULN.
        """
        checked: list[_Valid | DomainError] = []
        for command in commands:
            try:
                checked.append(self.validate(command))
            except DomainError as error:
                checked.append(error)
        valids = [c for c in checked if isinstance(c, _Valid)]
        decided = iter(self._register_valid(principal, valids, rpc) if valids else [])
        return [c if isinstance(c, DomainError) else next(decided) for c in checked]

    def _register_valid(
        self, principal: Principal, valids: Sequence[_Valid], rpc: str
    ) -> list[RegistrationResult | DomainError]:
        keys = [self._matcher.blocking_keys(v.record) for v in valids]
        # Rows that share a caller's key (request id, MIS identifier) must not be decided at once
        # by two transactions either, whoever they describe (PostgreSQL; SQLite has one writer).
        own = {
            f"{kind}:{principal.org_id}:{value}"
            for v in valids
            for kind, value in (
                ("request", v.command.request_id.strip()),
                ("mis", v.command.mis_identifier.strip()),
            )
            if value
        }
        lock_keys = frozenset(own).union(*keys)
        for _ in range(_ULN_ATTEMPTS):
            try:
                with self._store.write(lock_keys) as tx:
                    return _Batch(self, tx, principal, rpc, self._clock.now()).run(valids, keys)
            except UlnTaken:
                continue
        raise RuntimeError("could not draw unused ULNs")  # ~impossible: the space is ~8e8


@dataclass(slots=True)
class _Plan:
    """What one row will do, before the batch's writes are flushed.

    A row answered with registered learners names them by id (``learner_id``, ``candidate_ids``)
    while the chunk is decided; ``_Batch._resolve`` then reads them in full, once for the chunk."""

    outcome: Outcome
    learner: Learner | None = None
    decision: MatchDecision | None = None
    candidates: tuple[tuple[Learner, ScoredCandidate], ...] = ()
    updated: bool = False
    explanation: str = ""
    learner_id: int | None = None
    candidate_ids: tuple[tuple[int, ScoredCandidate], ...] = ()
    replayed: bool = False  # a retried request_id: its first call recorded everything already


class _Batch:
    """One transaction's worth of registrations: reads in bulk, decides row by row, writes in bulk."""

    def __init__(
        self,
        service: RegistrationService,
        tx: LearnerTransaction,
        principal: Principal,
        rpc: str,
        now: datetime,
    ) -> None:
        self._matcher = service._matcher
        self._disclosure = service._disclosure
        self._hooks = service._hooks
        self._tx = tx
        self._principal = principal
        self._rpc = rpc
        self._now = now
        self._next_provisional = -1
        self._new: dict[int, tuple[str, NewLearner]] = {}  # provisional id -> (ULN, details)
        # blocking key -> learners added by this batch (provisional ids), as the matcher reads them
        self._in_batch: dict[str, list[MatchCandidate]] = {}
        self._links: dict[str, int] = {}  # MIS identifier -> learner id, as this batch leaves them
        self._sent: dict[str, str] = {}  # MIS identifier -> fingerprint of the details last sent

    def run(
        self, valids: Sequence[_Valid], keys: Sequence[frozenset[str]]
    ) -> list[RegistrationResult | DomainError]:
        tx = self._tx
        mis_ids = [v.command.mis_identifier.strip() for v in valids]  # "" for a row without one
        stored = tx.mis_links(self._principal, [m for m in mis_ids if m])
        self._links = {mis: link.learner_id for mis, link in stored.items()}
        self._sent = {mis: link.details for mis, link in stored.items()}
        linked = {lr.id: lr for lr in tx.learners_by_ids(sorted(set(self._links.values())))}
        # A pupil whose record was since merged as a duplicate is answered with (and from now on
        # linked to) the master.
        masters = {i: resolve_master(tx, lr) for i, lr in linked.items() if lr.master_id is not None}
        for mis, learner_id in list(self._links.items()):
            if (master := masters.get(learner_id)) is not None:
                self._links[mis] = master.id
                linked[master.id] = master
        # Rows whose MIS identifier names a learner are answered from the link (see _plan): only
        # the others need candidates, so a re-sent file reads no candidates at all.
        known = {mis for mis, learner_id in self._links.items() if learner_id in linked}
        to_match = [(v, k) for v, k, mis in zip(valids, keys, mis_ids, strict=True) if mis not in known]
        # Each row's fingerprint (what the school sent), computed once.
        prints = [
            identity_fingerprint(v.identity) if mis else "" for v, mis in zip(valids, mis_ids, strict=True)
        ]
        # A known row the school changed is weighed against its learner (_describes): its counts
        # are read with the rest, not one query at a time.
        changed = [
            (v.record, learner_record(linked[self._links[mis]]))
            for v, mis, sent in zip(valids, mis_ids, prints, strict=True)
            if mis in known and self._sent.get(mis) != sent
        ]
        registry = tx.candidates_by_key(frozenset().union(*(k for _, k in to_match)))
        queries = [*(v.record for v, _ in to_match), *(record for pair in changed for record in pair)]
        read_counts(tx, self._matcher, queries, registry)
        plans: list[_Plan | DomainError] = []
        for valid, row_keys, sent in zip(valids, keys, prints, strict=True):
            try:
                plans.append(self._plan(valid, row_keys, registry, linked, sent))
            except DomainError as error:
                plans.append(error)
        self._resolve([p for p in plans if isinstance(p, _Plan)])
        real = self._flush(plans, valids)
        return self._results(plans, real)

    # -- deciding --------------------------------------------------------------------------

    def _plan(
        self,
        valid: _Valid,
        keys: frozenset[str],
        registry: dict[str, list[MatchCandidate]],
        linked: dict[int, Learner],
        sent: str,
    ) -> _Plan:
        """``sent``: the row's fingerprint ("" without an MIS identifier)."""
        command = valid.command
        request_id = command.request_id.strip()
        mis_identifier = command.mis_identifier.strip()
        if request_id and (stored := self._tx.stored_request(self._principal, request_id)) is not None:
            learner = self._tx.learner_by_id(stored.learner_id) if stored.learner_id is not None else None
            if learner is not None:
                # A retry gets the first answer, for the learner as it now stands (a merged duplicate
                # answers with its master); a key re-used for another person gets no one's ULN.
                if not self._describes(valid, learner):
                    raise _request_id_reused(command.request_id)
                answer = resolve_master(self._tx, learner) or learner
                return _Plan(Outcome(stored.outcome), answer, replayed=True)
        if mis_identifier and (linked_id := self._links.get(mis_identifier)) is not None:
            # Linked before this chunk, added by it, or matched by an earlier row of it (rare: the
            # same identifier twice in one chunk; read then).
            known = linked.get(linked_id) or self._provisional(linked_id) or self._tx.learner_by_id(linked_id)
            if known is not None:
                return self._known_pupil(valid, known, mis_identifier, sent)
        # Each stored record once; a merged duplicate's record answers for its master (the matcher
        # counts a learner once, by its best record).
        pool = {
            c.record_of: c
            for key in sorted(keys)
            for c in (*registry.get(key, ()), *self._in_batch.get(key, ()))
        }
        decision = self._matcher.decide(
            valid.record, [Candidate(c.id, c.record) for c in pool.values()], self._tx.frequencies
        )
        chosen = _confirmed(command, decision, pool)
        undecided = (
            decision.outcome is Outcome.POSSIBLE_MATCH and command.confirmation is not Confirmation.NEW
        )
        if chosen is None and undecided:
            shown = decision.candidates[:MAX_CANDIDATES_RETURNED]
            return _Plan(
                Outcome.POSSIBLE_MATCH,
                None,
                decision,
                explanation=_explain(decision, command),
                candidate_ids=tuple((s.candidate_id, s) for s in shown),
            )
        if chosen is not None:
            plan = _Plan(
                Outcome.MATCHED,
                self._provisional(chosen.id),
                decision,
                explanation=_explain(decision, command),
                learner_id=chosen.id,
            )
        else:
            plan = _Plan(
                Outcome.NEW, self._add(valid, keys), decision, explanation=_explain(decision, command)
            )
        linked_id = plan.learner.id if plan.learner is not None else plan.learner_id
        if mis_identifier and linked_id is not None:
            self._links[mis_identifier] = linked_id
            self._sent[mis_identifier] = sent
        return plan

    def _resolve(self, plans: Sequence[_Plan]) -> None:
        """Read in full, in one query, the registered learners the chunk's rows are answered with;
        learners added by this batch are its provisional ones."""
        wanted = {i for p in plans for i in (p.learner_id, *(i for i, _ in p.candidate_ids)) if i and i > 0}
        found = {lr.id: lr for lr in self._tx.learners_by_ids(sorted(wanted))} if wanted else {}

        def learner(learner_id: int) -> Learner:
            known = found.get(learner_id) or self._provisional(learner_id)
            assert known is not None, "a candidate of this chunk vanished under its write lock"
            return known

        for plan in plans:
            if plan.learner is None and plan.learner_id is not None:
                plan.learner = learner(plan.learner_id)
            if plan.candidate_ids:
                plan.candidates = tuple((learner(i), s) for i, s in plan.candidate_ids)

    def _add(self, valid: _Valid, keys: frozenset[str]) -> Learner:
        """A provisional learner (negative id) that later rows of this batch can match against."""
        provisional_id = self._next_provisional
        self._next_provisional -= 1
        new = NewLearner(
            valid.identity,
            valid.command.post14_qualification,
            keys,
            self._matcher.frequency_terms(valid.record),
        )
        self._new[provisional_id] = ("", new)
        candidate = MatchCandidate(provisional_id, "", valid.record, provisional_id)
        for key in keys:
            self._in_batch.setdefault(key, []).append(candidate)
        return Learner(id=provisional_id, uln="", identity=valid.identity, version=1)

    def _provisional(self, learner_id: int) -> Learner | None:
        if learner_id not in self._new:
            return None
        _, new = self._new[learner_id]
        return Learner(id=learner_id, uln="", identity=new.identity, version=1)

    def _known_pupil(self, valid: _Valid, learner: Learner, mis_identifier: str, sent: str) -> _Plan:
        """This organisation registered the MIS identifier before: keep its ULN, and refresh the
        learner's details when the organisation's row changed since it last sent it (not merely
        when they differ: someone else may have corrected them since, and a re-sent file must not
        undo that). Links older than the fingerprint compare with the learner's details."""
        before, self._sent[mis_identifier] = self._sent.get(mis_identifier, ""), sent
        unchanged = before == sent if before else learner.identity == valid.identity
        if unchanged or learner.identity == valid.identity:
            return _Plan(Outcome.MATCHED, learner)
        if not self._describes(valid, learner):
            # A correction leaves the pupil recognisable; these details describe someone else (an
            # identifier re-used, or two rows swapped in the MIS). Overwriting would hand this
            # learner's ULN and record to that person: refuse the row, change nothing.
            self._sent[mis_identifier] = before
            raise _mis_identifier_conflict(valid.command.mis_identifier)
        if learner.id < 0:  # added by an earlier row of this chunk: that row's details stand
            return _Plan(Outcome.MATCHED, learner)
        updated = self._tx.update_learner(
            learner,
            valid.identity,
            self._matcher.blocking_keys(valid.record),
            self._matcher.frequency_terms(valid.record),
            self._matcher.frequency_terms(learner_record(learner)),
            self._now,
        )
        return _Plan(Outcome.MATCHED, updated, updated=True)

    def _describes(self, valid: _Valid, learner: Learner) -> bool:
        """Whether the row could be this learner at all: anything but NEW when the matcher weighs the
        row against the learner alone. The caller's own key (an MIS identifier, a request id) is
        evidence the matcher does not see, so a possible match is enough, and the address is not
        held against the row: pupils move, the school's latest address is the one it sends, and
        an address says least about who someone is (a new family name and a new address in one
        row is still the same pupil; a twin or another child is not, nor is a row with a twin's
        name signature)."""
        row = valid.record
        held = replace(
            learner_record(learner),
            postcode=row.postcode,
            address_line1=row.address_line1,
            address_line2=row.address_line2,
            town=row.town,
        )
        decision = self._matcher.decide(row, [Candidate(learner.id, held)], self._tx.frequencies)
        return decision.outcome is not Outcome.NEW and not decision.lookalike

    # -- writing ---------------------------------------------------------------------------

    def _flush(self, plans: Sequence[_Plan | DomainError], valids: Sequence[_Valid]) -> dict[int, Learner]:
        """Insert the new learners and record decisions, links and requests; provisional id -> learner."""
        tx = self._tx
        ulns = _draw_ulns(tx, len(self._new))
        provisional_ids = sorted(self._new, reverse=True)  # -1, -2, ... in the order they were added
        inserted = tx.insert_learners(
            self._principal,
            [(uln, self._new[pid][1]) for uln, pid in zip(ulns, provisional_ids, strict=True)],
            self._now,
        )
        real = dict(zip(provisional_ids, inserted, strict=True))

        def real_id(learner: Learner | None) -> int | None:
            if learner is None:
                return None
            return real[learner.id].id if learner.id < 0 else learner.id

        tx.record_decisions(
            self._principal,
            [
                (real_id(p.learner), p.outcome.value, p.explanation)
                for p in plans
                if isinstance(p, _Plan) and p.explanation
            ],
            self._now,
        )
        tx.link_mis_many(
            self._principal,
            {m: MisLink(real[i].id if i < 0 else i, self._sent.get(m, "")) for m, i in self._links.items()},
        )
        for plan, valid in zip(plans, valids, strict=True):
            request_id = valid.command.request_id.strip()
            learner_id = real_id(plan.learner) if isinstance(plan, _Plan) else None
            if request_id and learner_id is not None and isinstance(plan, _Plan) and plan.explanation:
                tx.store_request(self._principal, request_id, plan.outcome.value, learner_id)
        if self._hooks is not None:
            self._run_hooks(plans, valids, real_id)
        return real

    def _run_hooks(
        self,
        plans: Sequence[_Plan | DomainError],
        valids: Sequence[_Valid],
        real_id: Callable[[Learner | None], int | None],
    ) -> None:
        """Queue POSSIBLE_MATCH rows for review (with their AbilityToShare, recorded when the item is
        resolved); record AbilityToShare for rows with a learner."""
        assert self._hooks is not None
        review: list[NewReviewItem] = []
        sharing: list[tuple[int, SchoolChoice]] = []
        for plan, valid in zip(plans, valids, strict=True):
            if not isinstance(plan, _Plan):
                continue
            command = valid.command
            if plan.outcome is Outcome.POSSIBLE_MATCH:
                review.append(
                    NewReviewItem(
                        command.mis_identifier.strip(),
                        command.post14_qualification,
                        valid.identity,
                        tuple(i for lr, _ in plan.candidates if (i := real_id(lr)) is not None),
                        command.ability_to_share,
                    )
                )
            elif (
                command.ability_to_share is not None
                and not plan.replayed  # re-recording it would override a choice made since
                and (learner_id := real_id(plan.learner)) is not None
            ):
                sharing.append((learner_id, command.ability_to_share))
        self._hooks.possible_matches(self._tx, self._principal, review, self._now)
        self._hooks.school_sharing(self._tx, self._principal, sharing, self._now)

    def _results(
        self, plans: Sequence[_Plan | DomainError], real: dict[int, Learner]
    ) -> list[RegistrationResult | DomainError]:
        """Release what the caller may see of each row's learner (or candidates): one disclosure,
        so one access-log append, for the whole batch."""
        # Provisional learners (negative ids: added earlier in this batch) are shown as inserted.
        groups = [
            [
                real.get(lr.id, lr)
                for lr in ([p.learner] if p.learner is not None else [c for c, _ in p.candidates])
            ]
            for p in plans
            if isinstance(p, _Plan)
        ]
        views = iter(
            self._disclosure.release(
                self._tx, self._principal, self._rpc, [lr for group in groups for lr in group], self._now
            )
        )
        group_sizes = iter(len(group) for group in groups)
        results: list[RegistrationResult | DomainError] = []
        for plan in plans:
            if isinstance(plan, DomainError):
                results.append(plan)
                continue
            seen = [next(views) for _ in range(next(group_sizes))]
            if plan.learner is not None:
                results.append(RegistrationResult(plan.outcome, seen[0], (), plan.updated))
            else:
                shown = tuple(CandidateView(v, s) for v, (_, s) in zip(seen, plan.candidates, strict=True))
                results.append(RegistrationResult(plan.outcome, None, shown))
        return results


def _mis_identifier_conflict(mis_identifier: str) -> DomainError:
    return DomainError(
        ErrorKind.FAILED_PRECONDITION,
        Reason.MIS_IDENTIFIER_CONFLICT,
        f"MIS identifier {mis_identifier!r} names a learner your organisation registered whose details are "
        "too different from these for this row to be a correction of them: if this is another pupil, give "
        "them their own MIS identifier; if the pupil's details really changed this much, correct them with "
        "UpdateLearner (lrs-school update)",
        [FieldViolation("mis_identifier", Reason.MIS_IDENTIFIER_CONFLICT, "names a different learner")],
    )


def _request_id_reused(request_id: str) -> DomainError:
    return DomainError(
        ErrorKind.FAILED_PRECONDITION,
        Reason.REQUEST_ID_REUSED,
        f"request_id {request_id!r} was used before for a learner these details do not describe: "
        "use a new request_id for each learner",
        [FieldViolation("request_id", Reason.REQUEST_ID_REUSED, "used before for another learner")],
    )


def read_counts(
    tx: LearnerTransaction,
    matcher: Matcher,
    queries: Sequence[PersonRecord],
    registry: Mapping[str, Sequence[MatchCandidate]],
) -> dict[int, MatchCandidate]:
    """Every stored record of ``registry`` once (a record stands under several keys), having read
    in one query the name counts deciding will ask of them and of ``queries`` (the matcher also
    asks whether candidates' given names are recognised ones): one query beats one per candidate."""
    stored = {c.record_of: c for found in registry.values() for c in found}
    prefetch_counts(tx, matcher, queries, (c.record for c in stored.values()))
    return stored


def prefetch_counts(
    tx: LearnerTransaction,
    matcher: Matcher,
    queries: Iterable[PersonRecord],
    candidates: Iterable[PersonRecord],
) -> None:
    """Read in one query every count deciding ``queries`` against ``candidates`` may ask for."""
    reads = {term for record in queries for term in matcher.frequency_reads(record)}
    for record in candidates:
        reads.update(matcher.candidate_frequency_reads(record))
    tx.frequencies.prefetch(reads)


def _draw_ulns(tx: LearnerTransaction, count: int) -> list[str]:
    """``count`` distinct ULNs nobody holds (checked in one query; a race is caught on insert)."""
    ulns: list[str] = []
    while len(ulns) < count:
        drawn = {random_uln() for _ in range(count - len(ulns))} - set(ulns)
        ulns.extend(sorted(drawn - tx.ulns_taken(drawn)))
    return ulns


def _confirmed(
    command: RegistrationCommand, decision: MatchDecision, pool: dict[int, MatchCandidate]
) -> MatchCandidate | None:
    """The existing learner this registration is (by the caller's confirmation or the matcher), or None."""
    by_id = {c.id: c for c in pool.values()}
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
                    # Bits a MATCHED had to clear on top (a town where many learners live).
                    "doubt": round(s.doubt, 3),
                    "comparisons": [[c.field, c.level, round(c.weight, 3)] for c in s.comparisons],
                }
                for s in decision.candidates[:MAX_CANDIDATES_RETURNED]
            ],
        },
        separators=(",", ":"),
    )
