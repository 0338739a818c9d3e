"""The learner repository: Core statements over the SQLModel tables (this is the hot path)."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Row, and_, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from lrs_server.domain.model import Gender, Identity, Learner, Principal
from lrs_server.domain.ports import AccessRecord, NewLearner, StoredRequest, UlnTaken
from lrs_server.storage import audit
from lrs_server.storage.engine import is_sqlite
from lrs_server.storage.tables import (
    BlockingKey,
    FamilyNameHistory,
    LearnerTable,
    MatchDecisionRecord,
    MisLink,
    NameFrequency,
    RegistrationRequest,
)

LEARNER = LearnerTable.__table__  # type: ignore[attr-defined]
KEYS = BlockingKey.__table__  # type: ignore[attr-defined]
HISTORY = FamilyNameHistory.__table__  # type: ignore[attr-defined]
FREQUENCY = NameFrequency.__table__  # type: ignore[attr-defined]
REQUESTS = RegistrationRequest.__table__  # type: ignore[attr-defined]
MIS = MisLink.__table__  # type: ignore[attr-defined]
DECISIONS = MatchDecisionRecord.__table__  # type: ignore[attr-defined]

_IDENTITY_COLUMNS = tuple(f.name for f in dataclasses.fields(Identity) if f.name != "gender")


def _identity_values(identity: Identity) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(identity, name) for name in _IDENTITY_COLUMNS}
    values["gender"] = identity.gender.value
    return values


def _lock_id(key: str) -> int:
    """A stable signed 64-bit id for a PostgreSQL advisory lock."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)


class _Frequencies:
    """Term frequencies read lazily within the transaction (cached for its life)."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._cache: dict[tuple[str, str], int] = {}
        self._total: int | None = None

    def count(self, field: str, value: str) -> int:
        key = (field, value)
        if key not in self._cache:
            stmt = select(FREQUENCY.c.count).where(FREQUENCY.c.field == field, FREQUENCY.c.value == value)
            self._cache[key] = self._connection.execute(stmt).scalar_one_or_none() or 0
        return self._cache[key]

    def total(self) -> int:
        if self._total is None:
            stmt = select(FREQUENCY.c.count).where(FREQUENCY.c.field == "*", FREQUENCY.c.value == "*")
            self._total = self._connection.execute(stmt).scalar_one_or_none() or 0
        return self._total


class SqlTransaction:
    """One transaction on one connection; implements ``domain.ports.LearnerTransaction``."""

    def __init__(self, connection: Connection) -> None:
        self._c = connection
        self._frequencies = _Frequencies(connection)

    @property
    def frequencies(self) -> _Frequencies:
        return self._frequencies

    # -- reads -----------------------------------------------------------------------------

    def _learners(self, where: Any) -> list[Learner]:
        rows = self._c.execute(select(LEARNER).where(where)).all()
        if not rows:
            return []
        ids = [row.id for row in rows]
        history: dict[int, list[str]] = {}
        stmt = (
            select(HISTORY.c.learner_id, HISTORY.c.family_name)
            .where(HISTORY.c.learner_id.in_(ids))
            .order_by(HISTORY.c.replaced_at.desc(), HISTORY.c.id.desc())
        )
        for learner_id, name in self._c.execute(stmt):
            history.setdefault(learner_id, []).append(name)
        return [_learner(row, tuple(history.get(row.id, ()))) for row in rows]

    def candidates(self, keys: Iterable[str], limit: int) -> list[Learner]:
        key_list = sorted(set(keys))
        if not key_list:
            return []
        ids = (
            select(KEYS.c.learner_id)
            .where(KEYS.c.key.in_(key_list))
            .distinct()
            .limit(limit)
            .scalar_subquery()
        )
        return self._learners(and_(LEARNER.c.id.in_(ids), LEARNER.c.master_id.is_(None)))

    def learner_by_uln(self, uln: str) -> Learner | None:
        found = self._learners(LEARNER.c.uln == uln)
        return found[0] if found else None

    def learner_by_id(self, learner_id: int) -> Learner | None:
        found = self._learners(LEARNER.c.id == learner_id)
        return found[0] if found else None

    def learners_by_ids(self, learner_ids: Sequence[int]) -> list[Learner]:
        by_id = {learner.id: learner for learner in self._learners(LEARNER.c.id.in_(list(learner_ids)))}
        return [by_id[i] for i in learner_ids if i in by_id]

    def stored_request(self, principal: Principal, request_id: str) -> StoredRequest | None:
        stmt = select(REQUESTS.c.outcome, REQUESTS.c.learner_id).where(
            REQUESTS.c.organisation_id == principal.org_id, REQUESTS.c.request_id == request_id
        )
        row = self._c.execute(stmt).first()
        return None if row is None else StoredRequest(row.outcome, row.learner_id)

    def mis_link(self, principal: Principal, mis_identifier: str) -> int | None:
        stmt = select(MIS.c.learner_id).where(
            MIS.c.organisation_id == principal.org_id, MIS.c.mis_identifier == mis_identifier
        )
        learner_id: int | None = self._c.execute(stmt).scalar_one_or_none()
        return learner_id

    # -- writes ----------------------------------------------------------------------------

    def store_request(
        self, principal: Principal, request_id: str, outcome: str, learner_id: int | None
    ) -> None:
        self._c.execute(
            insert(REQUESTS).values(
                organisation_id=principal.org_id,
                request_id=request_id,
                outcome=outcome,
                learner_id=learner_id,
                created_at=datetime.now().astimezone(),
            )
        )

    def link_mis(self, principal: Principal, mis_identifier: str, learner_id: int) -> None:
        now = datetime.now().astimezone()
        changed = self._c.execute(
            update(MIS)
            .where(MIS.c.organisation_id == principal.org_id, MIS.c.mis_identifier == mis_identifier)
            .values(learner_id=learner_id, updated_at=now)
        )
        if changed.rowcount == 0:
            self._c.execute(
                insert(MIS).values(
                    organisation_id=principal.org_id,
                    mis_identifier=mis_identifier,
                    learner_id=learner_id,
                    updated_at=now,
                )
            )

    def insert_learner(self, principal: Principal, uln: str, new: NewLearner, now: datetime) -> Learner:
        if self._c.execute(select(LEARNER.c.id).where(LEARNER.c.uln == uln)).first() is not None:
            raise UlnTaken(uln)
        values = _identity_values(new.identity)
        values.update(
            uln=uln,
            post14_qualification=new.post14_qualification,
            version=1,
            created_by=principal.org_id,
            created_at=now,
            updated_at=now,
        )
        try:
            learner_id: int = self._c.execute(insert(LEARNER).values(**values)).inserted_primary_key[0]  # type: ignore[index]
        except IntegrityError as exc:  # another writer drew the same ULN between check and insert
            raise UlnTaken(uln) from exc
        self._add_keys(learner_id, new.blocking_keys)
        self._count_terms(new.frequency_terms, +1)
        return Learner(id=learner_id, uln=uln, identity=new.identity, version=1)

    def update_learner(
        self,
        learner: Learner,
        identity: Identity,
        blocking_keys: frozenset[str],
        frequency_terms: Mapping[str, str],
        old_frequency_terms: Mapping[str, str],
        now: datetime,
    ) -> Learner:
        self._c.execute(
            update(LEARNER)
            .where(LEARNER.c.id == learner.id)
            .values(**_identity_values(identity), version=learner.version + 1, updated_at=now)
        )
        history = learner.previous_family_names
        if identity.family_name != learner.identity.family_name:
            self._c.execute(
                insert(HISTORY).values(
                    learner_id=learner.id, family_name=learner.identity.family_name, replaced_at=now
                )
            )
            history = (learner.identity.family_name, *history)
        self._c.execute(delete(KEYS).where(KEYS.c.learner_id == learner.id))
        self._add_keys(learner.id, blocking_keys)
        self._count_terms(old_frequency_terms, -1)
        self._count_terms(frequency_terms, +1)
        return Learner(learner.id, learner.uln, identity, learner.version + 1, history, learner.master_id)

    def _add_keys(self, learner_id: int, keys: Iterable[str]) -> None:
        rows = [{"key": key, "learner_id": learner_id} for key in sorted(set(keys))]
        if rows:
            self._c.execute(insert(KEYS), rows)

    def _count_terms(self, terms: Mapping[str, str], delta: int) -> None:
        for field, value in sorted({**terms, "*": "*"}.items()):
            changed = self._c.execute(
                update(FREQUENCY)
                .where(FREQUENCY.c.field == field, FREQUENCY.c.value == value)
                .values(count=FREQUENCY.c.count + delta)
            )
            if changed.rowcount == 0 and delta > 0:
                self._c.execute(insert(FREQUENCY).values(field=field, value=value, count=delta))

    def record_decision(
        self, principal: Principal, learner_id: int | None, outcome: str, explanation: str, now: datetime
    ) -> None:
        self._c.execute(
            insert(DECISIONS).values(
                organisation_id=principal.org_id,
                learner_id=learner_id,
                outcome=outcome,
                explanation=explanation,
                created_at=now,
            )
        )

    def log_access(self, principal: Principal, records: Sequence[AccessRecord], now: datetime) -> None:
        """Append to the hash-chained access log (storage/audit.py); learners reading their own data
        are logged with no organisation."""
        organisation_id = None if principal.learner_id is not None else principal.org_id
        audit.append(
            self._c,
            [
                audit.NewEntry(
                    r.learner_id, organisation_id, principal.kind.value, r.rpc, ",".join(r.fields), now
                )
                for r in records
            ],
        )


def _learner(row: Row[Any], history: tuple[str, ...]) -> Learner:
    values = {name: getattr(row, name) for name in _IDENTITY_COLUMNS}
    identity = Identity(gender=Gender(row.gender), **values)
    return Learner(row.id, row.uln, identity, row.version, history, row.master_id)


class SqlLearnerStore:
    """Implements ``domain.ports.LearnerStore`` on a SQLAlchemy engine."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @contextmanager
    def write(self, lock_keys: Iterable[str]) -> Iterator[SqlTransaction]:
        with self._engine.connect() as connection:
            connection = connection.execution_options(sqlite_immediate=True)
            with connection.begin():
                if not is_sqlite(self._engine):
                    # Two registrations of one person share at least one blocking key, so
                    # locking every key (in a fixed order, to avoid deadlock) serialises them.
                    for lock in sorted({_lock_id(k) for k in lock_keys}):
                        connection.execute(select(func.pg_advisory_xact_lock(lock)))
                yield SqlTransaction(connection)

    @contextmanager
    def read(self) -> Iterator[SqlTransaction]:
        with self._engine.connect() as connection, connection.begin():
            yield SqlTransaction(connection)
