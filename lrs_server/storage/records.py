"""Storage for records, sharing, self-service, merges and the review queue (Core statements)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, Select, and_, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from lrs_server.domain.merged import MAX_LINKS
from lrs_server.domain.model import Gender, Identity, Learner, LearnerKind, OrgKind, Principal
from lrs_server.domain.record_ports import (
    AccessView,
    AchievementData,
    AchievementKind,
    AchievementStatus,
    AttemptState,
    MergeEntry,
    NewReviewItem,
    ReviewEntry,
    SchoolChoice,
    SharingEntry,
    SharingSource,
    StoredAchievement,
    SubmitOutcome,
)
from lrs_server.storage.grants import GrantStatements
from lrs_server.storage.learners import (
    DECISIONS,
    HISTORY,
    LEARNER,
    MIS,
    SqlStore,
    SqlTransaction,
    among,
    learners_where,
    list_value,
    listed,
    prepared,
)
from lrs_server.storage.organisations import ORG, hash_token
from lrs_server.storage.tables import (
    AccessLogEntry,
    AchievementRecord,
    ActivationAttempt,
    ActivationCode,
    LearnerCredential,
    LearnerMerge,
    ReviewItemRecord,
    SharingChoiceRecord,
)
from matching.types import Outcome

ACH = AchievementRecord.__table__  # type: ignore[attr-defined]
SHARING = SharingChoiceRecord.__table__  # type: ignore[attr-defined]
CODES = ActivationCode.__table__  # type: ignore[attr-defined]
ATTEMPTS = ActivationAttempt.__table__  # type: ignore[attr-defined]
CREDENTIALS = LearnerCredential.__table__  # type: ignore[attr-defined]
MERGES = LearnerMerge.__table__  # type: ignore[attr-defined]
REVIEW = ReviewItemRecord.__table__  # type: ignore[attr-defined]
ACCESS = AccessLogEntry.__table__  # type: ignore[attr-defined]
_DATA_FIELDS = tuple(f.name for f in dataclasses.fields(AchievementData))


def _kinds(text: str) -> frozenset[OrgKind]:
    return frozenset(OrgKind(k) for k in text.split(",") if k)


def identity_json(identity: Identity) -> str:
    values = dataclasses.asdict(identity)
    values["date_of_birth"] = identity.date_of_birth.isoformat()
    values["gender"] = identity.gender.value
    return json.dumps(values, sort_keys=True)


def identity_from_json(text: str) -> Identity:
    values = json.loads(text)
    values["date_of_birth"] = date.fromisoformat(values["date_of_birth"])
    values["gender"] = Gender(values["gender"])
    return Identity(**values)


def access_select(learner_ids: Sequence[int]) -> Select[Any]:
    """Access-log entries about these learners, with the ULN and the organisation (purged entries,
    whose learner is gone, never match)."""
    return (
        select(ACCESS, LEARNER.c.uln, ORG.c.ref.label("org_ref"), ORG.c.name.label("org_name"))
        .join(LEARNER, LEARNER.c.id == ACCESS.c.learner_id)
        .outerjoin(ORG, ORG.c.id == ACCESS.c.organisation_id)
        .where(ACCESS.c.learner_id.in_(list(learner_ids)))
    )


def access_view(row: Any) -> AccessView:
    return AccessView(
        row.id,
        row.at,
        row.uln,
        row.org_ref or "",
        row.org_name or ("you" if row.accessor_kind == LearnerKind.LEARNER.value else ""),
        row.accessor_kind,
        row.rpc,
        tuple(f for f in row.fields.split(",") if f),
    )


class SqlRecordTransaction(GrantStatements, SqlTransaction):
    """Implements ``domain.record_ports.RecordTransaction``."""

    # -- achievements ----------------------------------------------------------------------

    def upsert_achievement(
        self, learner_id: int, organisation_id: int, data: AchievementData, now: datetime
    ) -> SubmitOutcome:
        values: dict[str, Any] = {name: getattr(data, name) for name in _DATA_FIELDS}
        values["kind"], values["status"] = data.kind.value, data.status.value
        key = and_(
            ACH.c.learner_id == learner_id,
            ACH.c.submitted_by == organisation_id,
            ACH.c.kind == data.kind.value,
            ACH.c.qualification_ref == data.qualification_ref,
            ACH.c.subject == data.subject,
            ACH.c.component == data.component,
        )
        row = self._c.execute(select(ACH).where(key)).first()
        if row is None:
            try:
                with self._c.begin_nested():
                    self._c.execute(
                        insert(ACH).values(
                            learner_id=learner_id,
                            submitted_by=organisation_id,
                            created_at=now,
                            updated_at=now,
                            **values,
                        )
                    )
                return SubmitOutcome.CREATED
            except IntegrityError:  # a concurrent submission of the same result won: update it instead
                row = self._c.execute(select(ACH).where(key)).one()
        if all(getattr(row, name) == value for name, value in values.items()):
            return SubmitOutcome.UNCHANGED
        self._c.execute(update(ACH).where(ACH.c.id == row.id).values(updated_at=now, **values))
        return SubmitOutcome.UPDATED

    def achievements(self, learner_ids: Sequence[int]) -> list[StoredAchievement]:
        result = []
        for row in self._c.execute(_ACHIEVEMENTS(self._c), {"ids": list_value(self._c, learner_ids)}):
            values = {name: getattr(row, name) for name in _DATA_FIELDS}
            values["kind"], values["status"] = AchievementKind(row.kind), AchievementStatus(row.status)
            result.append(
                StoredAchievement(
                    row.learner_id,
                    row.uln,
                    AchievementData(**values),
                    row.submitted_by,
                    row.org_ref,
                    row.org_name,
                    row.updated_at,
                )
            )
        return result

    def linked_learners(self, master_id: int) -> list[Learner]:
        """Every learner linked to ``master_id``, directly or through another linked learner."""
        found: list[Learner] = []
        frontier = [master_id]
        while frontier and len(found) < MAX_LINKS:
            linked = self._learners_from(_LINKED_TO(self._c), {"ids": list_value(self._c, frontier)})
            found.extend(linked)
            frontier = [lr.id for lr in linked]
        return found

    # -- sharing ---------------------------------------------------------------------------

    def sharing_entries(self, learner_id: int) -> list[SharingEntry]:
        return [
            SharingEntry(
                _kinds(row.withheld_from),
                SharingSource(row.source),
                row.at,
                SchoolChoice(row.school_choice) if row.school_choice else None,
                row.ref or "",
                row.organisation_id,
            )
            for row in self._c.execute(_SHARING_ENTRIES, {"learner_id": learner_id})
        ]

    def add_sharing(self, entries: Sequence[tuple[int, SharingEntry]]) -> None:
        if not entries:
            return
        self._c.execute(
            insert(SHARING),
            [
                {
                    "learner_id": learner_id,
                    "withheld_from": ",".join(sorted(k.value for k in entry.withheld_from)),
                    "source": entry.source.value,
                    "school_choice": entry.school_choice.value if entry.school_choice else "",
                    "organisation_id": entry.organisation_id,
                    "at": entry.at,
                }
                for learner_id, entry in entries
            ],
        )

    # -- self-service ----------------------------------------------------------------------

    def registered_or_linked(self, organisation_id: int, learner_id: int) -> bool:
        """Whether the organisation has this learner (or a duplicate merged into it) as its own: it
        registered them, holds an MIS link to them, or was answered MATCHED with them."""
        ids = [learner_id, *(lr.id for lr in self.linked_learners(learner_id))]
        ties = (
            select(LEARNER.c.id).where(LEARNER.c.id.in_(ids), LEARNER.c.created_by == organisation_id),
            select(MIS.c.learner_id).where(
                MIS.c.learner_id.in_(ids), MIS.c.organisation_id == organisation_id
            ),
            select(DECISIONS.c.learner_id).where(
                DECISIONS.c.learner_id.in_(ids),
                DECISIONS.c.organisation_id == organisation_id,
                DECISIONS.c.outcome == Outcome.MATCHED.value,
            ),
        )
        return any(self._c.execute(tie.limit(1)).first() is not None for tie in ties)

    def add_activation_code(
        self, learner_id: int, code_hash: str, issued_by: int, now: datetime, expires: datetime
    ) -> None:
        self._c.execute(
            insert(CODES).values(
                learner_id=learner_id,
                code_hash=code_hash,
                issued_by=issued_by,
                created_at=now,
                expires_at=expires,
            )
        )

    def take_activation_code(self, learner_id: int, code_hash: str, now: datetime) -> bool:
        result = self._c.execute(
            update(CODES)
            .where(
                CODES.c.learner_id == learner_id,
                CODES.c.code_hash == code_hash,
                CODES.c.used_at.is_(None),
                CODES.c.expires_at > now,
            )
            .values(used_at=now)
        )
        return result.rowcount == 1

    def attempt_state(self, uln: str) -> AttemptState | None:
        row = self._c.execute(select(ATTEMPTS).where(ATTEMPTS.c.uln == uln)).first()
        return None if row is None else AttemptState(row.failures, row.window_start, row.locked_until)

    def save_attempt_state(self, uln: str, state: AttemptState | None) -> None:
        exists = self._c.execute(select(ATTEMPTS.c.uln).where(ATTEMPTS.c.uln == uln)).first() is not None
        if state is None:
            if exists:
                self._c.execute(ATTEMPTS.delete().where(ATTEMPTS.c.uln == uln))
            return
        values = {
            "failures": state.failures,
            "window_start": state.window_start,
            "locked_until": state.locked_until,
        }
        if exists:
            self._c.execute(update(ATTEMPTS).where(ATTEMPTS.c.uln == uln).values(**values))
        else:
            self._c.execute(insert(ATTEMPTS).values(uln=uln, **values))

    def add_credential(self, learner_id: int, token_hash: str, now: datetime) -> None:
        self._c.execute(
            insert(CREDENTIALS).values(learner_id=learner_id, token_hash=token_hash, created_at=now)
        )

    def revoke_credentials(self, learner_id: int, now: datetime) -> int:
        result = self._c.execute(
            update(CREDENTIALS)
            .where(CREDENTIALS.c.learner_id == learner_id, CREDENTIALS.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return int(result.rowcount)

    def access_log(self, learner_ids: Sequence[int], before_id: int | None, limit: int) -> list[AccessView]:
        stmt = access_select(learner_ids).order_by(ACCESS.c.id.desc()).limit(limit)
        if before_id is not None:
            stmt = stmt.where(ACCESS.c.id < before_id)
        return [access_view(row) for row in self._c.execute(stmt)]

    def family_name_history(self, learner_id: int) -> list[tuple[str, datetime]]:
        stmt = (
            select(HISTORY.c.family_name, HISTORY.c.replaced_at)
            .where(HISTORY.c.learner_id == learner_id)
            .order_by(HISTORY.c.replaced_at.desc(), HISTORY.c.id.desc())
        )
        return [(row.family_name, row.replaced_at) for row in self._c.execute(stmt)]

    def registered_at(self, learner_id: int) -> datetime | None:
        at: datetime | None = self._c.execute(
            select(LEARNER.c.created_at).where(LEARNER.c.id == learner_id)
        ).scalar_one_or_none()
        return at

    # -- merges ----------------------------------------------------------------------------

    def set_master(self, learner_id: int, master_id: int | None, now: datetime) -> None:
        self._c.execute(
            update(LEARNER)
            .where(LEARNER.c.id == learner_id)
            .values(master_id=master_id, version=LEARNER.c.version + 1, updated_at=now)
        )

    def add_merge(self, master_id: int, linked_id: int, by: int, reason: str, now: datetime) -> None:
        self._c.execute(
            insert(MERGES).values(
                master_id=master_id, linked_id=linked_id, merged_by=by, reason=reason, merged_at=now
            )
        )

    def open_merge(self, linked_id: int) -> MergeEntry | None:
        row = self._c.execute(
            select(MERGES.c.id, MERGES.c.master_id, MERGES.c.linked_id, MERGES.c.merged_at)
            .where(MERGES.c.linked_id == linked_id, MERGES.c.undone_at.is_(None))
            .order_by(MERGES.c.id.desc())
            .limit(1)
        ).first()
        return None if row is None else MergeEntry(row.id, row.master_id, row.linked_id, row.merged_at)

    def close_merge(self, merge_id: int, by: int, reason: str, now: datetime) -> None:
        self._c.execute(
            update(MERGES)
            .where(MERGES.c.id == merge_id)
            .values(undone_by=by, undo_reason=reason, undone_at=now)
        )

    # -- review queue ----------------------------------------------------------------------

    def add_review_items(self, organisation_id: int, items: Sequence[NewReviewItem], now: datetime) -> None:
        rows: dict[str, dict[str, Any]] = {}
        for item in items:
            text = identity_json(item.identity)
            digest = hashlib.sha256(f"{organisation_id}|{text}".encode()).hexdigest()
            rows.setdefault(
                digest,
                {
                    "organisation_id": organisation_id,
                    "mis_identifier": item.mis_identifier,
                    "post14_qualification": item.post14_qualification,
                    "identity": text,
                    "identity_digest": digest,
                    "candidate_ids": ",".join(str(i) for i in item.candidate_ids),
                    "school_choice": item.school_choice.value if item.school_choice else "",
                    "status": "open",
                    "created_at": now,
                },
            )
        if not rows:
            return
        # The same registration re-sent: the item already open for it is enough.
        already = self._c.execute(
            select(REVIEW.c.identity_digest).where(
                among(self._c, REVIEW.c.identity_digest, rows), REVIEW.c.status == "open"
            )
        ).scalars()
        for digest in set(already):
            del rows[digest]
        if rows:
            self._c.execute(insert(REVIEW), list(rows.values()))

    def _review_entries(self, where: Any, limit: int) -> list[ReviewEntry]:
        stmt = (
            select(REVIEW, ORG.c.ref)
            .join(ORG, ORG.c.id == REVIEW.c.organisation_id)
            .where(where)
            .order_by(REVIEW.c.id)
            .limit(limit)
        )
        return [
            ReviewEntry(
                row.id,
                row.organisation_id,
                row.ref,
                row.mis_identifier,
                row.post14_qualification,
                identity_from_json(row.identity),
                tuple(int(i) for i in row.candidate_ids.split(",") if i),
                row.status,
                row.created_at,
                SchoolChoice(row.school_choice) if row.school_choice else None,
            )
            for row in self._c.execute(stmt)
        ]

    def open_review_items(self, after_id: int, limit: int, submitted_by_ref: str = "") -> list[ReviewEntry]:
        where = [REVIEW.c.status == "open", REVIEW.c.id > after_id]
        if submitted_by_ref:
            where.append(ORG.c.ref == submitted_by_ref)
        return self._review_entries(and_(*where), limit)

    def count_open_review_items(self, submitted_by_ref: str = "") -> int:
        stmt = select(func.count()).select_from(REVIEW).where(REVIEW.c.status == "open")
        if submitted_by_ref:
            stmt = stmt.join(ORG, ORG.c.id == REVIEW.c.organisation_id).where(ORG.c.ref == submitted_by_ref)
        return int(self._c.execute(stmt).scalar_one())

    def review_item(self, item_id: int) -> ReviewEntry | None:
        found = self._review_entries(REVIEW.c.id == item_id, 1)
        return found[0] if found else None

    def resolve_review_item(self, item_id: int, learner_id: int, status: str, by: int, now: datetime) -> None:
        self._c.execute(
            update(REVIEW)
            .where(REVIEW.c.id == item_id)
            .values(status=status, learner_id=learner_id, resolved_by=by, resolved_at=now)
        )


class SqlRecordStore(SqlStore[SqlRecordTransaction]):
    """Implements ``domain.ports.LearnerStore`` and ``domain.record_ports.RecordStore``."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine, SqlRecordTransaction)


# Built once (storage/learners.py, ``prepared``): a record read runs all three.
_ACHIEVEMENTS = prepared(
    lambda dialect: (
        select(ACH, LEARNER.c.uln, ORG.c.ref.label("org_ref"), ORG.c.name.label("org_name"))
        .join(LEARNER, LEARNER.c.id == ACH.c.learner_id)
        .join(ORG, ORG.c.id == ACH.c.submitted_by)
        .where(listed("ids", ACH.c.learner_id, dialect))
        .order_by(ACH.c.award_date, ACH.c.id)
    )
)
_LINKED_TO = learners_where(lambda dialect: listed("ids", LEARNER.c.master_id, dialect))
_SHARING_ENTRIES = (
    select(SHARING, ORG.c.ref)
    .outerjoin(ORG, ORG.c.id == SHARING.c.organisation_id)
    .where(SHARING.c.learner_id == bindparam("learner_id"))
    .order_by(SHARING.c.id)
)


def principal_for_learner_token(engine: Engine, token: str, issued_after: datetime) -> Principal | None:
    """The learner holding a live learner credential (not revoked, issued after ``issued_after``), or None."""
    stmt = (
        select(CREDENTIALS.c.learner_id, LEARNER.c.uln)
        .join(LEARNER, LEARNER.c.id == CREDENTIALS.c.learner_id)
        .where(
            CREDENTIALS.c.token_hash == hash_token(token),
            CREDENTIALS.c.revoked_at.is_(None),
            CREDENTIALS.c.created_at > issued_after,
        )
    )
    with engine.connect() as c:
        row = c.execute(stmt).first()
    if row is None:
        return None
    return Principal(0, LearnerKind.LEARNER, row.uln, "learner", learner_id=row.learner_id)


__all__ = ["SqlRecordStore", "SqlRecordTransaction", "principal_for_learner_token"]
