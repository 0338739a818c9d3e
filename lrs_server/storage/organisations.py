"""Organisations and their bearer tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, insert, select, update

from lrs_server.domain.model import OrgKind, Principal
from lrs_server.storage.tables import ApiToken, Organisation

ORG = Organisation.__table__  # type: ignore[attr-defined]
TOKEN = ApiToken.__table__  # type: ignore[attr-defined]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class IssuedToken:
    principal: Principal
    token: str


class OrganisationAlreadyExists(Exception):
    pass


class OrganisationNotFound(Exception):
    pass


class OrganisationStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, kind: OrgKind, ref: str, name: str, town: str = "") -> IssuedToken:
        """Create an organisation and its first token. The token is returned once and never stored."""
        token = f"lrs_{secrets.token_urlsafe(32)}"
        now = datetime.now(UTC)
        with self._engine.begin() as c:
            if c.execute(select(ORG.c.id).where(ORG.c.ref == ref)).first() is not None:
                raise OrganisationAlreadyExists(ref)
            org_id = c.execute(
                insert(ORG).values(kind=kind.value, ref=ref, name=name, town=town, created_at=now)
            ).inserted_primary_key[0]  # type: ignore[index]
            c.execute(
                insert(TOKEN).values(organisation_id=org_id, token_hash=hash_token(token), created_at=now)
            )
        return IssuedToken(Principal(org_id, kind, ref, name), token)

    def issue_token(self, ref: str) -> IssuedToken:
        """A further token for an existing organisation (e.g. rotating a leaked one)."""
        token = f"lrs_{secrets.token_urlsafe(32)}"
        with self._engine.begin() as c:
            row = c.execute(
                select(ORG.c.id, ORG.c.kind, ORG.c.ref, ORG.c.name).where(
                    ORG.c.ref == ref, ORG.c.revoked_at.is_(None)
                )
            ).first()
            if row is None:
                raise OrganisationNotFound(ref)
            c.execute(
                insert(TOKEN).values(
                    organisation_id=row.id, token_hash=hash_token(token), created_at=datetime.now(UTC)
                )
            )
        return IssuedToken(Principal(row.id, OrgKind(row.kind), row.ref, row.name), token)

    def set_town(self, ref: str, town: str) -> None:
        """Where the organisation is (learners search by it when granting)."""
        with self._engine.begin() as c:
            if c.execute(update(ORG).where(ORG.c.ref == ref).values(town=town)).rowcount == 0:
                raise OrganisationNotFound(ref)

    def revoke(self, ref: str) -> None:
        now = datetime.now(UTC)
        with self._engine.begin() as c:
            org_id = c.execute(select(ORG.c.id).where(ORG.c.ref == ref)).scalar_one_or_none()
            if org_id is None:
                raise OrganisationNotFound(ref)
            c.execute(update(ORG).where(ORG.c.id == org_id).values(revoked_at=now))
            c.execute(
                update(TOKEN)
                .where(TOKEN.c.organisation_id == org_id, TOKEN.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )

    def principal_for_token(self, token: str) -> Principal | None:
        """The organisation holding a live token, or None (unknown, revoked token or organisation)."""
        stmt = (
            select(ORG.c.id, ORG.c.kind, ORG.c.ref, ORG.c.name)
            .join(TOKEN, TOKEN.c.organisation_id == ORG.c.id)
            .where(
                TOKEN.c.token_hash == hash_token(token),
                TOKEN.c.revoked_at.is_(None),
                ORG.c.revoked_at.is_(None),
            )
        )
        with self._engine.connect() as c:
            row = c.execute(stmt).first()
        return None if row is None else Principal(row.id, OrgKind(row.kind), row.ref, row.name)
