"""Updating a learner's identity details, with optimistic concurrency (etags)."""

from __future__ import annotations

from dataclasses import dataclass

from lrs_server.domain.clock import Clock
from lrs_server.domain.errors import DomainError, Reason, conflict, not_found
from lrs_server.domain.model import OrgKind, Principal, RawIdentity, learner_record, person_record
from lrs_server.domain.record_ports import RecordStore
from lrs_server.domain.validation import Violations, parse_uln, validate_identity
from lrs_server.privacy import Disclosure, LearnerView
from matching.types import Matcher


@dataclass(frozen=True, slots=True)
class UpdateCommand:
    uln: str
    identity: RawIdentity
    etag: str = ""


class UpdateService:
    def __init__(self, store: RecordStore, matcher: Matcher, clock: Clock, disclosure: Disclosure) -> None:
        self._store = store
        self._matcher = matcher
        self._clock = clock
        self._disclosure = disclosure

    def update(self, principal: Principal, command: UpdateCommand, rpc: str) -> LearnerView:
        """Replace the learner's identity details. A school may update only its own learners (ones
        it registered, links by MIS identifier, or was answered MATCHED with); any other ULN gets
        the same answer as an unknown one, before the etag is looked at, so that an update can
        neither overwrite a stranger's record nor tell whether a ULN exists."""
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
            raise _unknown(uln)
        old_keys = self._matcher.blocking_keys(learner_record(current))
        with self._store.write(old_keys | new_keys) as tx:
            learner = tx.learner_by_uln(uln)
            if learner is None or not (
                principal.kind is OrgKind.ADMIN or tx.registered_or_linked(principal.org_id, learner.id)
            ):
                raise _unknown(uln)
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


def _unknown(uln: str) -> DomainError:
    return not_found(Reason.LEARNER_NOT_FOUND, f"no learner with ULN {uln} registered by you")
