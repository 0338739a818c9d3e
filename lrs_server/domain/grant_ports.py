"""What grants (a learner's per-organisation exceptions to their sharing choice) need from storage."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from lrs_server.domain.model import OrgKind


@dataclass(frozen=True, slots=True)
class OrganisationEntry:
    id: int
    ref: str
    name: str
    kind: OrgKind
    town: str


@dataclass(frozen=True, slots=True)
class GrantEntry:
    """One record's share of a grant. A grant made while records were merged covers each of them, one
    entry per record, all with the grant's ``key``. ``expires_at`` is exclusive: the start of the day
    after the last day."""

    key: str
    learner_id: int
    organisation: OrganisationEntry
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None

    def live(self, now: datetime) -> bool:
        """In force now. An expired or revoked grant is as if it never was."""
        return self.revoked_at is None and now < self.expires_at


def distinct(entries: Sequence[GrantEntry]) -> list[GrantEntry]:
    """One entry per grant (the first of each key), in the order given."""
    return list({e.key: e for e in reversed(entries)}.values())[::-1]


class GrantTransaction(Protocol):
    def organisation_by_ref(self, ref: str) -> OrganisationEntry | None:
        """A live (not revoked) organisation."""
        ...

    def search_organisations(
        self, name: str, kinds: frozenset[OrgKind], town: str, offset: int, limit: int, ref: str = ""
    ) -> list[OrganisationEntry]:
        """Live organisations of ``kinds`` whose name contains ``name`` and whose town is ``town``
        (both any case), and whose reference is ``ref`` (empty criteria match all), by name."""
        ...

    def grants(self, learner_ids: Sequence[int], organisation_id: int | None = None) -> list[GrantEntry]:
        """Grants on these records not revoked (expired ones included), optionally to one organisation."""
        ...

    def add_grant(
        self, learner_ids: Sequence[int], organisation_id: int, now: datetime, expires_at: datetime
    ) -> str:
        """One grant covering these records; its key."""
        ...

    def revoke_grants(self, keys: Sequence[str], now: datetime, reason: str) -> None:
        """End these grants on every record they cover."""
        ...
