"""The review queue: registrations that ended POSSIBLE_MATCH, decided later by an administrator.

``RegistrationHooks`` is what registration calls inside its own transaction: it queues a
POSSIBLE_MATCH for review and records a school's AbilityToShare on the learner's behalf.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from lrs_server.domain.clock import Clock
from lrs_server.domain.errors import (
    DomainError,
    ErrorKind,
    FieldViolation,
    Reason,
    ValidationError,
    not_found,
)
from lrs_server.domain.learner_access import page_after, page_size
from lrs_server.domain.merged import resolve_master
from lrs_server.domain.model import (
    Learner,
    OrgKind,
    Principal,
    identity_fingerprint,
    learner_record,
    person_record,
)
from lrs_server.domain.ports import LearnerTransaction, MisLink, NewLearner, UlnTaken
from lrs_server.domain.record_ports import (
    NewReviewItem,
    RecordStore,
    RecordTransaction,
    ReviewEntry,
    SchoolChoice,
)
from lrs_server.domain.registration import CandidateView, prefetch_counts
from lrs_server.domain.sharing import queued_choice_applies, school_entry
from lrs_server.domain.uln import random_uln
from lrs_server.domain.validation import Violations, is_row_id, parse_text, parse_uln
from lrs_server.privacy import Disclosure, LearnerView
from matching.types import Candidate, Matcher

DEFAULT_PAGE, MAX_PAGE = 50, 500
_ATTEMPTS = 8


_CHECKED: set[type] = set()  # transaction types known to be RecordTransactions


def _records(tx: LearnerTransaction) -> RecordTransaction:
    # isinstance against a runtime-checkable Protocol inspects every method (~0.1 ms): once per type.
    if type(tx) not in _CHECKED:
        if not isinstance(tx, RecordTransaction):  # wiring error, never a request
            raise TypeError("the registration store must be a RecordStore for review and sharing hooks")
        _CHECKED.add(type(tx))
    return cast(RecordTransaction, tx)


class ReviewHooks:
    """Registration's hooks (see RegistrationService): run inside the registration transaction."""

    def possible_matches(
        self, tx: LearnerTransaction, principal: Principal, items: Sequence[NewReviewItem], now: datetime
    ) -> None:
        if items:
            _records(tx).add_review_items(principal.org_id, items, now)

    def school_sharing(
        self,
        tx: LearnerTransaction,
        principal: Principal,
        choices: Sequence[tuple[int, SchoolChoice]],
        now: datetime,
    ) -> None:
        if not choices:
            return
        _records(tx).add_sharing(
            [(learner_id, school_entry(choice, principal.org_id, now)) for learner_id, choice in choices]
        )


@dataclass(frozen=True, slots=True)
class ReviewView:
    entry: ReviewEntry
    candidates: tuple[LearnerView, ...]
    # The candidates best first, each with the matcher's comparisons against the identity sent.
    matches: tuple[CandidateView, ...] = ()


@dataclass(frozen=True, slots=True)
class ReviewPage:
    items: tuple[ReviewView, ...]
    next_page_token: str
    total_size: int = 0


class ReviewService:
    def __init__(self, store: RecordStore, matcher: Matcher, clock: Clock, disclosure: Disclosure) -> None:
        self._store = store
        self._matcher = matcher
        self._clock = clock
        self._disclosure = disclosure

    def list(
        self, principal: Principal, size: int, token: str, rpc: str, submitted_by_ref: str = ""
    ) -> ReviewPage:
        limit = page_size(size, DEFAULT_PAGE, MAX_PAGE)
        after = page_after(token) or 0
        found = Violations()
        school = found.check("submitted_by_ref", lambda: parse_text(submitted_by_ref), "")
        found.raise_if_any()
        now = self._clock.now()
        with self._store.write(()) as tx:
            entries = tx.open_review_items(after, limit + 1, school)
            more = len(entries) > limit
            total = tx.count_open_review_items(school)
            items = []
            for entry in entries[:limit]:
                # Candidates leave through the one exit (projected and logged per learner).
                learners = tx.learners_by_ids(list(entry.candidate_ids))
                views = self._disclosure.release(tx, principal, rpc, learners, now)
                items.append(ReviewView(entry, views, self._matches(tx, entry, learners, views)))
        return ReviewPage(tuple(items), str(items[-1].entry.id) if more and items else "", total)

    def _matches(
        self,
        tx: RecordTransaction,
        entry: ReviewEntry,
        learners: Sequence[Learner],
        views: Sequence[LearnerView],
    ) -> tuple[CandidateView, ...]:
        """Each candidate weighed against the identity sent, as registration weighs it now."""
        query = person_record(entry.identity)
        records = [Candidate(lr.id, learner_record(lr)) for lr in learners]
        prefetch_counts(tx, self._matcher, [query], (c.record for c in records))
        by_id = {lr.id: view for lr, view in zip(learners, views, strict=True)}
        scored = self._matcher.score(query, records, tx.frequencies)
        return tuple(CandidateView(by_id[s.candidate_id], s) for s in scored if s.candidate_id in by_id)

    def resolve(
        self, principal: Principal, item_id: int, link_uln: str, issue_reason: str
    ) -> tuple[str, bool]:
        found = Violations()
        if link_uln:
            link_uln = found.check("link_uln", lambda: parse_uln(link_uln), "")
        elif not issue_reason.strip():
            found.add("decision", Reason.FIELD_REQUIRED, "give link_uln or issue_new_reason")
        else:
            found.check("issue_new_reason", lambda: parse_text(issue_reason), "")
        found.raise_if_any()
        if not is_row_id(item_id):
            # No item can have this id (ids are 32-bit on PostgreSQL): the unknown-id answer.
            raise not_found(Reason.REVIEW_ITEM_NOT_FOUND, f"no review item {item_id}")
        for _ in range(_ATTEMPTS):
            try:
                return self._resolve(principal, item_id, link_uln)
            except UlnTaken:
                continue
        raise RuntimeError("could not draw an unused ULN")  # pragma: no cover

    def _resolve(self, principal: Principal, item_id: int, link_uln: str) -> tuple[str, bool]:
        now = self._clock.now()
        with self._store.read() as tx:
            queued = tx.review_item(item_id)
        if queued is None:
            raise not_found(Reason.REVIEW_ITEM_NOT_FOUND, f"no review item {item_id}")
        # Issuing a ULN here is a registration: lock the person's blocking keys, as registration
        # does, so that the same person registered at this moment on another replica waits.
        keys = self._matcher.blocking_keys(person_record(queued.identity))
        with self._store.write({f"review:{item_id}", *keys}) as tx:
            entry = tx.review_item(item_id)  # again, under the locks
            if entry is None:
                raise not_found(Reason.REVIEW_ITEM_NOT_FOUND, f"no review item {item_id}")
            if entry.status != "open":
                raise DomainError(
                    ErrorKind.FAILED_PRECONDITION,
                    Reason.REVIEW_ITEM_RESOLVED,
                    "this item was decided already",
                )
            submitter = Principal(entry.organisation_id, OrgKind.SCHOOL, entry.organisation_ref, "")
            if link_uln:
                learner = resolve_master(tx, tx.learner_by_uln(link_uln))
                candidates = {
                    c.id
                    for c in map(lambda i: resolve_master(tx, tx.learner_by_id(i)), entry.candidate_ids)
                    if c
                }
                if learner is None or learner.id not in candidates:
                    raise ValidationError(
                        [
                            FieldViolation(
                                "link_uln", Reason.CONFIRMATION_INVALID, "is not one of the candidates"
                            )
                        ]
                    )
                status, issued = "linked", False
            else:
                record = person_record(entry.identity)
                new = NewLearner(
                    entry.identity,
                    entry.post14_qualification,
                    self._matcher.blocking_keys(record),
                    self._matcher.frequency_terms(record),
                )
                uln = random_uln()
                if tx.ulns_taken([uln]):
                    raise UlnTaken(uln)
                (learner,) = tx.insert_learners(submitter, [(uln, new)], now)
                status, issued = "issued", True
            if entry.mis_identifier:
                held = tx.mis_links(submitter, [entry.mis_identifier]).get(entry.mis_identifier)
                # The school may have linked its identifier itself while the item waited (it
                # confirmed the row when re-sending it): that newer link stands.
                if held is None or held.learner_id == learner.id:
                    link = MisLink(learner.id, identity_fingerprint(entry.identity))
                    tx.link_mis_many(submitter, {entry.mis_identifier: link})
            choice = entry.school_choice
            if choice is not None and queued_choice_applies(tx.sharing_entries(learner.id), choice):
                tx.add_sharing([(learner.id, school_entry(choice, entry.organisation_id, now))])
            tx.resolve_review_item(entry.id, learner.id, status, principal.org_id, now)
            return learner.uln, issued
