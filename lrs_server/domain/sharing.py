"""Sharing preferences: which choice is in force, and who may see which achievements.

Rules (docs/PRIVACY.md):
- the learner's own latest choice wins; a school's record (AbilityToShare) never overrides it;
- after a merge the most restrictive of the two records' choices applies until the learner chooses again,
  and after it is undone, the most restrictive of those and of every choice made while merged;
- with no choice recorded (or "privacy notice not seen") achievements are shared, as the privacy notice says;
  a school's "not seen" never undoes an earlier school's recorded choice;
- an organisation always sees the results it submitted itself; a learner always sees their own record;
- an administrator sees achievements only when the learner withholds them from nobody;
- a learner's live grant to one organisation opens the achievements of the records it covers to that
  organisation alone, whatever its kind's choice (only a kind a learner can withhold from: never an
  administrator); expired or revoked, it is as if it never was. A grant covers the learner's records
  as they were when it was made (one record, or every record merged together then), never a record
  merged in later; grants made while merged end when the merge is undone (``grants_made_while_merged``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from lrs_server.domain.errors import DomainError, ErrorKind, FieldViolation, Reason, ValidationError
from lrs_server.domain.merged import resolve_master
from lrs_server.domain.model import Learner, OrgKind, Principal
from lrs_server.domain.record_ports import (
    AUDIENCES,
    RecordStore,
    RecordTransaction,
    SchoolChoice,
    SharingEntry,
    SharingSource,
    StoredAchievement,
)

_DECIDING = (SharingSource.LEARNER, SharingSource.MERGE)


def in_force(entries: Sequence[SharingEntry]) -> SharingEntry | None:
    """The entry in force among a learner's entries (oldest first), or None for the default."""
    decided = [e for e in entries if e.source in _DECIDING]
    if decided:
        return decided[-1]
    # A school's "privacy notice not seen" records that nobody decided: it never undoes a school's
    # recorded decision (another school's latest SHARE or DO_NOT_SHARE does: that is the pupil's
    # word through their current school).
    schools = [e for e in entries if e.source is SharingSource.SCHOOL]
    decisions = [e for e in schools if _school_decision(e)]
    latest = decisions or schools
    return latest[-1] if latest else None


def _school_decision(entry: SharingEntry) -> bool:
    """A school's recorded SHARE or DO_NOT_SHARE ("not seen" records that nobody decided)."""
    return entry.source is SharingSource.SCHOOL and entry.school_choice is not SchoolChoice.NOT_SEEN


def queued_choice_applies(entries: Sequence[SharingEntry], queued: SchoolChoice) -> bool:
    """Whether an AbilityToShare that waited (with a registration in the review queue) is recorded
    when it is finally applied. A school may have recorded a newer choice meanwhile, and entries
    cannot be ordered by when the school sent them, so a queued choice may tighten sharing
    (DO_NOT_SHARE) but never loosen a school's recorded decision."""
    return queued is SchoolChoice.DO_NOT_SHARE or not any(_school_decision(e) for e in entries)


def withheld_from(entries: Sequence[SharingEntry]) -> frozenset[OrgKind]:
    entry = in_force(entries)
    return frozenset() if entry is None else entry.withheld_from


def school_entry(choice: SchoolChoice, organisation_id: int, now: datetime) -> SharingEntry:
    withheld = AUDIENCES if choice is SchoolChoice.DO_NOT_SHARE else frozenset()
    return SharingEntry(withheld, SharingSource.SCHOOL, now, choice, organisation_id=organisation_id)


def merged_entry(
    first: Sequence[SharingEntry], second: Sequence[SharingEntry], now: datetime
) -> SharingEntry:
    return SharingEntry(withheld_from(first) | withheld_from(second), SharingSource.MERGE, now)


def unmerged_entry(
    master: Sequence[SharingEntry],
    linked: Sequence[SharingEntry],
    merged_at: datetime,
    now: datetime,
    above: Sequence[SharingEntry] = (),
) -> SharingEntry | None:
    """What the records carry when a merge is undone: while merged, either person's choices were
    written to the group's top master (``master`` itself, or the record it was merged into later,
    whose entries are ``above``), and which of them made each is not known. So each record keeps
    the most restrictive of every choice made while merged and of the records' own choices, until
    its learner chooses again (None when nothing is withheld)."""
    during = (e.withheld_from for e in (*master, *above) if e.source in _DECIDING and e.at >= merged_at)
    before = withheld_from([e for e in master if e.at < merged_at])
    withheld = before.union(withheld_from(master), withheld_from(linked), withheld_from(above), *during)
    return SharingEntry(withheld, SharingSource.MERGE, now) if withheld else None


def withheld_for(viewer: Principal, withheld: frozenset[OrgKind]) -> bool:
    """True when the learner's kind-level choice withholds achievement data from this caller."""
    if viewer.is_learner:
        return False
    if viewer.kind is OrgKind.ADMIN:
        return bool(withheld)
    return viewer.kind in withheld


@dataclass(frozen=True, slots=True)
class InForce:
    """What decides what one caller sees of a learner's achievements: the kinds the choice in force
    withholds them from, the records (learner ids) of the learner's merge group, and those of them
    whose achievements the caller holds a live grant for."""

    withheld_from: frozenset[OrgKind]
    group: frozenset[int] = frozenset()
    granted: frozenset[int] = frozenset()


def in_force_for(
    tx: RecordTransaction, viewer: Principal, learner: Learner, linked: Sequence[Learner], now: datetime
) -> InForce:
    """The sharing state ``viewer`` meets reading ``learner`` (the master) and the records merged into it."""
    withheld = withheld_from(tx.sharing_entries(learner.id))
    group = frozenset({learner.id, *(lr.id for lr in linked)})
    if viewer.is_learner or viewer.kind not in AUDIENCES or viewer.kind not in withheld:
        return InForce(withheld, group)  # grants matter only against a kind-level opt-out
    live = tx.grants(sorted(group), viewer.org_id)
    return InForce(withheld, group, frozenset(g.learner_id for g in live if g.live(now)))


def achievements_withheld(viewer: Principal, state: InForce) -> bool:
    """True when the learner's choice keeps some of the record's achievements from this caller."""
    return withheld_for(viewer, state.withheld_from) and not state.group <= state.granted


def may_see(viewer: Principal, state: InForce, achievement: StoredAchievement) -> bool:
    """Whether ``viewer`` may see one achievement: never withheld from the organisation that submitted
    it, nor from one the learner granted that achievement's record."""
    if not viewer.is_learner and achievement.submitted_by == viewer.org_id:
        return True
    return not withheld_for(viewer, state.withheld_from) or achievement.learner_id in state.granted


def grants_made_while_merged(tx: RecordTransaction, group: Sequence[int], parted: Sequence[int]) -> list[str]:
    """Grants to end when ``parted`` (a record and those merged into it) leaves ``group``: those made
    while merged, which cover records on both sides. Which of the two people made each is not known,
    so neither keeps it (as for choices made while merged, the stricter outcome); each can grant again.
    Grants made before the merge cover one side only and stay with it."""
    rows = tx.grants(group)
    inside = {g.key for g in rows if g.learner_id in parted}
    return sorted(inside & {g.key for g in rows if g.learner_id not in parted})


def own_learner(tx: RecordTransaction, principal: Principal) -> Learner:
    """The learner a learner credential belongs to (the master, after a merge)."""
    if principal.learner_id is None:
        raise DomainError(
            ErrorKind.PERMISSION_DENIED, Reason.CALLER_NOT_PERMITTED, "only a learner may do this"
        )
    learner = resolve_master(tx, tx.learner_by_id(principal.learner_id))
    if learner is None:  # pragma: no cover - learners are never deleted
        raise DomainError(ErrorKind.NOT_FOUND, Reason.LEARNER_NOT_FOUND, "your record no longer exists")
    return learner


class SharingService:
    """A learner reads and changes their own sharing preferences."""

    def __init__(self, store: RecordStore) -> None:
        self._store = store

    def current(self, principal: Principal) -> SharingEntry | None:
        with self._store.write(()) as tx:
            return in_force(tx.sharing_entries(own_learner(tx, principal).id))

    def choose(self, principal: Principal, withheld: Sequence[OrgKind | None], now: datetime) -> SharingEntry:
        bad = [i for i, kind in enumerate(withheld) if kind is None or kind not in AUDIENCES]
        if bad:
            raise ValidationError(
                [
                    FieldViolation(
                        f"withheld_from[{i}]",
                        Reason.SHARING_KIND_INVALID,
                        "must be school, post16 or awarding_body",
                    )
                    for i in bad
                ]
            )
        kinds = frozenset(k for k in withheld if k is not None)
        with self._store.write(()) as tx:
            learner = own_learner(tx, principal)
            entry = SharingEntry(kinds, SharingSource.LEARNER, now)
            tx.add_sharing([(learner.id, entry)])
            return entry
