"""Updating a learner's identity details, with optimistic concurrency (etags)."""

from __future__ import annotations

from dataclasses import dataclass

from lrs_server.domain.clock import Clock
from lrs_server.domain.errors import Reason, conflict, not_found
from lrs_server.domain.model import Principal, RawIdentity, learner_record, person_record
from lrs_server.domain.ports import LearnerStore
from lrs_server.domain.validation import Violations, parse_uln, validate_identity
from lrs_server.privacy import Disclosure, LearnerView
from matching.types import Matcher


@dataclass(frozen=True, slots=True)
class UpdateCommand:
    uln: str
    identity: RawIdentity
    etag: str = ""


class UpdateService:
    def __init__(self, store: LearnerStore, matcher: Matcher, clock: Clock, disclosure: Disclosure) -> None:
        self._store = store
        self._matcher = matcher
        self._clock = clock
        self._disclosure = disclosure

    def update(self, principal: Principal, command: UpdateCommand, rpc: str) -> LearnerView:
        found = Violations()
        uln = found.check("uln", lambda: parse_uln(command.uln), "")
        found.prefix = "identity."
        identity = validate_identity(command.identity, self._clock.today(), found)
        found.raise_if_any()
        record = person_record(identity)
        new_keys = self._matcher.blocking_keys(record)
        with self._store.read() as tx:
            current = tx.learner_by_uln(uln)
        if current is None:
            raise not_found(Reason.LEARNER_NOT_FOUND, f"no learner holds ULN {uln}")
        old_keys = self._matcher.blocking_keys(learner_record(current))
        with self._store.write(old_keys | new_keys) as tx:
            learner = tx.learner_by_uln(uln)
            if learner is None:
                raise not_found(Reason.LEARNER_NOT_FOUND, f"no learner holds ULN {uln}")
            if command.etag and command.etag != learner.etag:
                raise conflict(
                    Reason.VERSION_CONFLICT,
                    "the learner changed since you read it: read it again and re-apply your change",
                )
            updated = tx.update_learner(
                learner,
                identity,
                new_keys,
                self._matcher.frequency_terms(record),
                self._matcher.frequency_terms(learner_record(learner)),
                self._clock.now(),
            )
            (view,) = self._disclosure.release(tx, principal, rpc, [updated], self._clock.now())
            return view
