"""Storage for notices (read from the access log) and the per-learner notice state."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Engine, and_, func, or_, select

from lrs_server.domain.notice_ports import NoticeState
from lrs_server.domain.record_ports import AccessView
from lrs_server.storage.learners import SqlStore
from lrs_server.storage.records import ACCESS, SqlRecordTransaction, access_select, access_view
from lrs_server.storage.tables import LearnerNoticeState

STATE = LearnerNoticeState.__table__  # type: ignore[attr-defined]
_STATE_FIELDS = (
    "seen_id",
    "seen_at",
    "digest_email",
    "pending_email",
    "pending_code_hash",
    "pending_expires_at",
    "pending_failures",
    "digest_sent_id",
    "digest_sent_at",
)


def _by_organisations(learner_ids: Sequence[int], after_id: int) -> ColumnElement[bool]:
    return and_(
        ACCESS.c.learner_id.in_(list(learner_ids)),
        ACCESS.c.organisation_id.is_not(None),
        ACCESS.c.id > after_id,
    )


class SqlNoticeTransaction(SqlRecordTransaction):
    """Implements ``domain.notice_ports.NoticeTransaction``."""

    def organisation_accesses(
        self, learner_ids: Sequence[int], before_id: int | None, after_id: int, limit: int
    ) -> list[AccessView]:
        stmt = (
            access_select(learner_ids)
            .where(_by_organisations(learner_ids, after_id))
            .order_by(ACCESS.c.id.desc())
            .limit(limit)
        )
        if before_id is not None:
            stmt = stmt.where(ACCESS.c.id < before_id)
        return [access_view(row) for row in self._c.execute(stmt)]

    def count_organisation_accesses(self, learner_ids: Sequence[int], after_id: int) -> int:
        stmt = select(func.count()).select_from(ACCESS).where(_by_organisations(learner_ids, after_id))
        return int(self._c.execute(stmt).scalar_one())

    def newest_organisation_access(self, learner_ids: Sequence[int]) -> int:
        stmt = select(func.max(ACCESS.c.id)).where(_by_organisations(learner_ids, 0))
        return int(self._c.execute(stmt).scalar_one_or_none() or 0)

    def notice_state(self, learner_id: int) -> NoticeState | None:
        row = self._c.execute(select(STATE).where(STATE.c.learner_id == learner_id)).first()
        return None if row is None else NoticeState(**{f: getattr(row, f) for f in _STATE_FIELDS})

    def save_notice_state(self, learner_id: int, state: NoticeState, now: datetime) -> None:
        # An upsert: two credentials on records merged into one learner lock different keys, and
        # both may create the row at once.
        values = {f: getattr(state, f) for f in _STATE_FIELDS} | {"updated_at": now}
        stmt = self._upsert(STATE).values(learner_id=learner_id, **values)
        self._c.execute(stmt.on_conflict_do_update(index_elements=[STATE.c.learner_id], set_=values))

    def digest_recipients(self, last_sent_before: datetime) -> list[tuple[int, NoticeState]]:
        stmt = (
            select(STATE)
            .where(
                STATE.c.digest_email != "",
                or_(STATE.c.digest_sent_at.is_(None), STATE.c.digest_sent_at < last_sent_before),
            )
            .order_by(STATE.c.learner_id)
        )
        return [
            (row.learner_id, NoticeState(**{f: getattr(row, f) for f in _STATE_FIELDS}))
            for row in self._c.execute(stmt)
        ]


class SqlNoticeStore(SqlStore[SqlNoticeTransaction]):
    """Implements ``domain.notice_ports.NoticeStore``."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine, SqlNoticeTransaction)
