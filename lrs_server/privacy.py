"""The one exit through which learner data leaves the service.

Every domain service hands the learners it is about to return to ``Disclosure.release``, which
(1) projects each learner to the fields the caller's kind of organisation needs, and (2) writes an
access-log entry for each learner disclosed, in the same transaction as the read. Servicers only
ever see what comes out of here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lrs_server.domain.model import Identity, Learner, OrgKind, Principal
from lrs_server.domain.ports import AccessRecord, LearnerTransaction

_CORE = frozenset({"given_name", "middle_names", "family_name", "date_of_birth", "gender"})
_NAMES = frozenset({"previous_family_name", "family_name_at_16", "preferred_given_name"})
_ADDRESS = frozenset({"postcode", "address_line1", "address_line2", "town", "county"})
_ALL = frozenset(f.name for f in dataclasses.fields(Identity))

# Data minimisation: what each kind of organisation needs to identify a learner. Post-16
# admissions and awarding bodies get no address, email or UPN (a UPN is for schools only).
VISIBLE_FIELDS: dict[OrgKind, frozenset[str]] = {
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


def project(learner: Learner, kind: OrgKind) -> LearnerView:
    visible = VISIBLE_FIELDS[kind]
    hidden: dict[str, Any] = {name: "" for name in _ALL - visible if name not in _BLANK}
    identity = dataclasses.replace(learner.identity, **hidden)
    names = learner.previous_family_names if "previous_family_name" in visible else ()
    return LearnerView(learner.uln, identity, names, learner.etag, visible)


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
