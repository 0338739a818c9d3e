"""The one exit through which learner data leaves the service.

Every domain service hands the learners it is about to return to ``Disclosure.release``, which
(1) projects each learner to the fields the caller's kind of organisation needs, and (2) writes an
access-log entry for each learner disclosed, in the same transaction as the read. Servicers only
ever see what comes out of here.

Achievements leave only through ``Disclosure.release_record``, which applies the learner's sharing
preferences and grants (domain/sharing.py) structurally: a ``RecordView`` cannot be built with an achievement
the caller may not see, and the access-log entry says whether achievement data was withheld.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lrs_server.domain import sharing
from lrs_server.domain.model import Identity, Learner, LearnerKind, OrgKind, Principal
from lrs_server.domain.ports import AccessRecord, LearnerTransaction
from lrs_server.domain.record_ports import StoredAchievement

_CORE = frozenset({"given_name", "middle_names", "family_name", "date_of_birth", "gender"})
_NAMES = frozenset({"previous_family_name", "family_name_at_16", "preferred_given_name"})
_ADDRESS = frozenset({"postcode", "address_line1", "address_line2", "town", "county"})
_ALL = frozenset(f.name for f in dataclasses.fields(Identity))

# Data minimisation: what each kind of organisation needs to identify a learner. Post-16
# admissions and awarding bodies get no address, email or UPN (a UPN is for schools only).
VISIBLE_FIELDS: dict[OrgKind | LearnerKind, frozenset[str]] = {
    LearnerKind.LEARNER: _ALL,
    OrgKind.SCHOOL: _ALL,
    OrgKind.ADMIN: _ALL,
    OrgKind.POST16: _CORE | _NAMES | {"school_at_16"},
    OrgKind.AWARDING_BODY: _CORE | _NAMES,
}
_BLANK = {"date_of_birth": None, "gender": None}


@dataclass(frozen=True, slots=True)
class LearnerView:
    """A learner as one caller may see it: hidden identity fields are blank."""

    uln: str
    identity: Identity
    previous_family_names: tuple[str, ...]
    etag: str
    visible_fields: frozenset[str]


def project(learner: Learner, kind: OrgKind | LearnerKind) -> LearnerView:
    visible = VISIBLE_FIELDS[kind]
    hidden: dict[str, Any] = {name: "" for name in _ALL - visible if name not in _BLANK}
    identity = dataclasses.replace(learner.identity, **hidden)
    names = learner.previous_family_names if "previous_family_name" in visible else ()
    return LearnerView(learner.uln, identity, names, learner.etag, visible)


@dataclass(frozen=True, slots=True)
class RecordView:
    """A learner record as one caller may see it: only the achievements it may see."""

    learner: LearnerView
    achievements: tuple[StoredAchievement, ...]
    withheld: bool


class Disclosure:
    """Releases learners to a caller: projects them and logs the access."""

    def release(
        self,
        tx: LearnerTransaction,
        principal: Principal,
        rpc: str,
        learners: Sequence[Learner],
        now: datetime,
    ) -> tuple[LearnerView, ...]:
        views = tuple(project(learner, principal.kind) for learner in learners)
        tx.log_access(
            principal,
            [
                AccessRecord(lr.id, rpc, tuple(sorted(v.visible_fields)))
                for lr, v in zip(learners, views, strict=True)
            ],
            now,
        )
        return views

    def release_record(
        self,
        tx: LearnerTransaction,
        principal: Principal,
        rpc: str,
        learner: Learner,
        achievements: Sequence[StoredAchievement],
        state: sharing.InForce,
        now: datetime,
    ) -> RecordView:
        """Identity projected as ``release`` does; achievements filtered by the learner's sharing choice
        and grants (domain/sharing.py)."""
        view = project(learner, principal.kind)
        shown = tuple(a for a in achievements if sharing.may_see(principal, state, a))
        withheld = sharing.achievements_withheld(principal, state)
        fields = set(view.visible_fields)
        if shown:
            fields.add("achievements")
        if withheld:
            fields.add("achievements_withheld")
        if state.granted and any(a.learner_id in state.granted for a in shown):
            fields.add("achievements_granted")  # the learner's grant let this organisation see them
        tx.log_access(principal, [AccessRecord(learner.id, rpc, tuple(sorted(fields)))], now)
        return RecordView(view, shown, withheld)

    def release_export(
        self, tx: LearnerTransaction, principal: Principal, rpc: str, learner: Learner, now: datetime
    ) -> LearnerView:
        """Everything about a learner, to that learner only."""
        if principal.learner_id is None:
            raise PermissionError("an export goes only to the learner")  # a bug, never a request
        view = project(learner, principal.kind)
        tx.log_access(principal, [AccessRecord(learner.id, rpc, ("export",))], now)
        return view
