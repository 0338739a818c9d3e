"""Storage for grants and the organisation search learners use to make them (Core statements).

A mixin of ``SqlRecordTransaction``: grants are read in the same transaction as the record they open."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from lrs_server.domain.grant_ports import GrantEntry, OrganisationEntry
from lrs_server.domain.model import OrgKind
from lrs_server.storage.organisations import ORG
from lrs_server.storage.tables import LearnerGrant

GRANT = LearnerGrant.__table__  # type: ignore[attr-defined]
_ORG_COLUMNS = (ORG.c.id, ORG.c.ref, ORG.c.name, ORG.c.kind, ORG.c.town)


def _organisation(row: Any) -> OrganisationEntry:
    return OrganisationEntry(row.id, row.ref, row.name, OrgKind(row.kind), row.town)


class GrantStatements:
    """Implements ``domain.grant_ports.GrantTransaction`` on the transaction's connection."""

    _c: Connection

    def organisation_by_ref(self, ref: str) -> OrganisationEntry | None:
        row = self._c.execute(
            select(*_ORG_COLUMNS).where(ORG.c.ref == ref, ORG.c.revoked_at.is_(None))
        ).first()
        return None if row is None else _organisation(row)

    def search_organisations(
        self, name: str, kinds: frozenset[OrgKind], town: str, offset: int, limit: int, ref: str = ""
    ) -> list[OrganisationEntry]:
        stmt = select(*_ORG_COLUMNS).where(
            ORG.c.revoked_at.is_(None), ORG.c.kind.in_(sorted(k.value for k in kinds))
        )
        if name:
            stmt = stmt.where(func.lower(ORG.c.name).contains(name.lower(), autoescape=True))
        if town:
            stmt = stmt.where(func.lower(ORG.c.town) == town.lower())
        if ref:
            stmt = stmt.where(ORG.c.ref == ref)
        stmt = stmt.order_by(func.lower(ORG.c.name), ORG.c.id).offset(offset).limit(limit)
        return [_organisation(row) for row in self._c.execute(stmt)]

    def grants(self, learner_ids: Sequence[int], organisation_id: int | None = None) -> list[GrantEntry]:
        stmt = (
            select(GRANT, *(c.label(f"org_{c.name}") for c in _ORG_COLUMNS))
            .join(ORG, ORG.c.id == GRANT.c.organisation_id)
            .where(GRANT.c.learner_id.in_(list(learner_ids)), GRANT.c.revoked_at.is_(None))
            .order_by(GRANT.c.id)
        )
        if organisation_id is not None:
            stmt = stmt.where(GRANT.c.organisation_id == organisation_id)
        return [
            GrantEntry(
                row.grant_key,
                row.learner_id,
                OrganisationEntry(row.org_id, row.org_ref, row.org_name, OrgKind(row.org_kind), row.org_town),
                row.created_at,
                row.expires_at,
                row.revoked_at,
            )
            for row in self._c.execute(stmt)
        ]

    def add_grant(
        self, learner_ids: Sequence[int], organisation_id: int, now: datetime, expires_at: datetime
    ) -> str:
        key = secrets.token_hex(16)
        self._c.execute(
            insert(GRANT),
            [
                {
                    "grant_key": key,
                    "learner_id": learner_id,
                    "organisation_id": organisation_id,
                    "created_at": now,
                    "expires_at": expires_at,
                    "revoked_reason": "",
                }
                for learner_id in learner_ids
            ],
        )
        return key

    def revoke_grants(self, keys: Sequence[str], now: datetime, reason: str) -> None:
        if keys:
            self._c.execute(
                update(GRANT)
                .where(GRANT.c.grant_key.in_(sorted(set(keys))), GRANT.c.revoked_at.is_(None))
                .values(revoked_at=now, revoked_reason=reason)
            )
