"""Merging duplicate learners (one becomes the master, the other linked to it) and undoing it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lrs_server.domain.clock import Clock
from lrs_server.domain.errors import DomainError, ErrorKind, Reason, not_found
from lrs_server.domain.merged import MAX_LINKS, resolve_master
from lrs_server.domain.model import Learner, Principal
from lrs_server.domain.record_ports import RecordStore, RecordTransaction
from lrs_server.domain.sharing import grants_made_while_merged, merged_entry, unmerged_entry, withheld_from
from lrs_server.domain.validation import Violations, parse_text, parse_uln
from lrs_server.privacy import Disclosure, LearnerView


def _reason(found: Violations, value: str) -> str:
    text = found.check("reason", lambda: parse_text(value), None)
    if text is None:  # refused already (control characters)
        return ""
    if not text:
        found.add("reason", Reason.REASON_REQUIRED, "say why (kept for audit)")
    elif len(text) > 500:
        found.add("reason", Reason.FIELD_TOO_LONG, "at most 500 characters")
    return text


def _learner(tx: RecordTransaction, uln: str, field: str) -> Learner:
    learner = tx.learner_by_uln(uln)
    if learner is None:
        raise not_found(Reason.LEARNER_NOT_FOUND, f"no learner holds the {field} {uln}")
    return learner


def _refuse(message: str, reason: Reason = Reason.MERGE_INVALID) -> DomainError:
    return DomainError(ErrorKind.FAILED_PRECONDITION, reason, message)


@dataclass(frozen=True, slots=True)
class Link:
    linked_uln: str
    master_uln: str
    merged_at: datetime | None


@dataclass(frozen=True, slots=True)
class Links:
    learner: LearnerView
    links: tuple[Link, ...]


class MergeService:
    def __init__(self, store: RecordStore, clock: Clock, disclosure: Disclosure) -> None:
        self._store = store
        self._clock = clock
        self._disclosure = disclosure

    def merge(
        self, principal: Principal, master_uln: str, linked_uln: str, reason: str, rpc: str
    ) -> LearnerView:
        found = Violations()
        master_uln = found.check("master_uln", lambda: parse_uln(master_uln), "")
        linked_uln = found.check("linked_uln", lambda: parse_uln(linked_uln), "")
        why = _reason(found, reason)
        found.raise_if_any()
        if master_uln == linked_uln:
            raise _refuse("a learner cannot be merged into itself")
        now = self._clock.now()
        with self._store.write(("merges",)) as tx:
            master = _learner(tx, master_uln, "master_uln")
            linked = _learner(tx, linked_uln, "linked_uln")
            if master.master_id is not None:
                raise _refuse("the master ULN is itself linked to another record: merge into that one")
            if linked.master_id is not None:
                raise _refuse("the linked ULN is merged already: undo that merge first")
            grouped = 2 + len(tx.linked_learners(master.id)) + len(tx.linked_learners(linked.id))
            if grouped > MAX_LINKS:
                raise _refuse(
                    f"a learner's merges may group at most {MAX_LINKS} records; this would make {grouped}"
                )
            # The most restrictive of the two choices applies until the learner chooses again.
            master_entries, linked_entries = tx.sharing_entries(master.id), tx.sharing_entries(linked.id)
            if withheld_from(master_entries) or withheld_from(linked_entries):
                tx.add_sharing([(master.id, merged_entry(master_entries, linked_entries, now))])
            tx.set_master(linked.id, master.id, now)
            tx.add_merge(master.id, linked.id, principal.org_id, why, now)
            (view,) = self._disclosure.release(tx, principal, rpc, [master], now)
            return view

    def unmerge(self, principal: Principal, linked_uln: str, reason: str) -> tuple[str, str]:
        found = Violations()
        linked_uln = found.check("linked_uln", lambda: parse_uln(linked_uln), "")
        why = _reason(found, reason)
        found.raise_if_any()
        now = self._clock.now()
        with self._store.write(("merges",)) as tx:
            linked = _learner(tx, linked_uln, "linked_uln")
            merge = tx.open_merge(linked.id)
            if linked.master_id is None or merge is None:
                raise _refuse("this ULN is not linked to another record", Reason.NOT_MERGED)
            master = tx.learner_by_id(merge.master_id)
            if master is not None:
                # The master may since have been merged into another record: choices made while
                # merged went to that one, the top of the chain.
                top = resolve_master(tx, master) or master
                above = tx.sharing_entries(top.id) if top.id != master.id else []
                entry = unmerged_entry(
                    tx.sharing_entries(master.id), tx.sharing_entries(linked.id), merge.merged_at, now, above
                )
                if entry is not None:
                    tx.add_sharing([(i, entry) for i in dict.fromkeys((master.id, linked.id, top.id))])
                group = [top.id, *(lr.id for lr in tx.linked_learners(top.id))]
                parted = [linked.id, *(lr.id for lr in tx.linked_learners(linked.id))]
                tx.revoke_grants(grants_made_while_merged(tx, group, parted), now, "unmerge")
            tx.set_master(linked.id, None, now)
            tx.close_merge(merge.id, principal.org_id, why, now)
            return (master.uln if master else "", linked.uln)

    def links(self, principal: Principal, uln: str, rpc: str) -> Links:
        """The merge linking ``uln`` to a master, if any, then every learner linked to it. The learner
        asked for leaves through the one exit (projected and logged)."""
        found = Violations()
        uln = found.check("uln", lambda: parse_uln(uln), "")
        found.raise_if_any()
        with self._store.write(()) as tx:
            learner = _learner(tx, uln, "uln")
            links: list[Link] = []
            if learner.master_id is not None:
                master = tx.learner_by_id(learner.master_id)
                merge = tx.open_merge(learner.id)
                links.append(Link(uln, master.uln if master else "", merge.merged_at if merge else None))
            linked = tx.linked_learners(learner.id)
            ulns = {learner.id: learner.uln, **{lr.id: lr.uln for lr in linked}}
            for lr in linked:
                merge = tx.open_merge(lr.id)
                master_uln = ulns.get(lr.master_id, "") if lr.master_id is not None else ""
                links.append(Link(lr.uln, master_uln, merge.merged_at if merge else None))
            (view,) = self._disclosure.release(tx, principal, rpc, [learner], self._clock.now())
        return Links(view, tuple(links))
