"""Grants: a learner opens their achievements to one named organisation until a date, whatever they
chose for its kind, and can end it early. The rule itself is applied where data leaves
(``sharing.in_force_for`` and ``privacy.Disclosure.release_record``); this module only records grants
and finds the organisations a learner may grant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from lrs_server.domain.clock import Clock
from lrs_server.domain.errors import Reason, not_found
from lrs_server.domain.grant_ports import GrantEntry, OrganisationEntry, distinct
from lrs_server.domain.learner_access import page_after, page_size
from lrs_server.domain.model import OrgKind, Principal
from lrs_server.domain.record_ports import RecordStore, RecordTransaction
from lrs_server.domain.sharing import own_learner
from lrs_server.domain.validation import Violations, parse_iso_date, parse_text

DEFAULT_LENGTH = timedelta(days=90)
MAX_YEARS = 2
SEARCH_PAGE, SEARCH_MAX = 20, 100
GRANTS_PAGE, GRANTS_MAX = 100, 1000
REF_MAX, NAME_MAX, TOWN_MAX = 20, 200, 50


def latest_end(today: date) -> date:
    """The last day a grant made today may run to: the same day two years on (28 February for 29th)."""
    try:
        return today.replace(year=today.year + MAX_YEARS)
    except ValueError:
        return today.replace(year=today.year + MAX_YEARS, day=28)


def parse_expiry(value: str, today: date, found: Violations) -> date:
    """The grant's last day: empty for the default (90 days on), else today to two years on."""
    if not value.strip():
        return today + DEFAULT_LENGTH
    last = found.check("expires_on", lambda: parse_iso_date(value, Reason.GRANT_EXPIRY_INVALID), None)
    if last is None:
        return today
    if last < today:
        found.add("expires_on", Reason.GRANT_EXPIRY_INVALID, "must not be in the past")
    elif last > latest_end(today):
        found.add(
            "expires_on",
            Reason.GRANT_EXPIRY_INVALID,
            f"must be at most two years ahead, by {latest_end(today).isoformat()}",
        )
    return last


def end_of(last: date) -> datetime:
    """A grant runs to the end of its last day (UTC): the exclusive instant it ends."""
    return datetime.combine(last + timedelta(days=1), time(0), tzinfo=UTC)


def last_day(grant: GrantEntry) -> date:
    return (grant.expires_at - timedelta(days=1)).date()


def _text(found: Violations, field: str, value: str, limit: int) -> str:
    text = found.check(field, lambda: parse_text(value), "")
    if len(text) > limit:
        found.add(field, Reason.FIELD_TOO_LONG, f"at most {limit} characters")
    return text


@dataclass(frozen=True, slots=True)
class OrganisationPage:
    organisations: tuple[OrganisationEntry, ...]
    next_page_token: str


@dataclass(frozen=True, slots=True)
class GrantPage:
    grants: tuple[GrantEntry, ...]
    next_page_token: str


class GrantService:
    """``readers``: the kinds of organisation a grant may be made to, those allowed to read records
    (from the authorisation table) that a learner can withhold from; never administrators."""

    def __init__(self, store: RecordStore, clock: Clock, readers: frozenset[OrgKind]) -> None:
        self._store = store
        self._clock = clock
        self._readers = readers

    def search(
        self,
        principal: Principal,
        name: str,
        kind: OrgKind | None,
        town: str,
        size: int,
        token: str,
        ref: str = "",
    ) -> OrganisationPage:
        found = Violations()
        ref = _text(found, "ref", ref, REF_MAX)
        name = _text(found, "name", name, NAME_MAX)
        town = _text(found, "town", town, TOWN_MAX)
        if kind is not None and kind not in self._readers:
            found.add(
                "kind", Reason.ORGANISATION_KIND_INVALID, "is not a kind of organisation that reads records"
            )
        found.raise_if_any()
        limit = page_size(size, SEARCH_PAGE, SEARCH_MAX)
        offset = page_after(token) or 0
        kinds = self._readers if kind is None else frozenset({kind})
        with self._store.read() as tx:
            own_learner(tx, principal)
            rows = tx.search_organisations(name, kinds, town, offset, limit + 1, ref)
        more = len(rows) > limit
        return OrganisationPage(tuple(rows[:limit]), str(offset + limit) if more else "")

    def create(self, principal: Principal, organisation_ref: str, expires_on: str) -> GrantEntry:
        found = Violations()
        ref = _text(found, "organisation_ref", organisation_ref, REF_MAX)
        if not ref:
            found.add("organisation_ref", Reason.FIELD_REQUIRED, "give the organisation's reference")
        now = self._clock.now()
        last = parse_expiry(expires_on, now.date(), found)
        found.raise_if_any()
        # Serialised per credential's learner, so two grants at once cannot both stay live.
        with self._store.write((f"grants:{principal.learner_id}",)) as tx:
            learner = own_learner(tx, principal)
            organisation = self._organisation(tx, ref)
            # Granting again replaces the live grant: the new date is the one in force, and the new
            # grant covers every record of the learner's merged so far.
            self._end(tx, principal, organisation.id, now, "replaced")
            expires = end_of(last)
            ids = [learner.id, *(lr.id for lr in tx.linked_learners(learner.id))]
            key = tx.add_grant(ids, organisation.id, now, expires)
            return GrantEntry(key, learner.id, organisation, now, expires, None)

    def revoke(self, principal: Principal, organisation_ref: str) -> int:
        found = Violations()
        ref = _text(found, "organisation_ref", organisation_ref, REF_MAX)
        if not ref:
            found.add("organisation_ref", Reason.FIELD_REQUIRED, "give the organisation's reference")
        found.raise_if_any()
        with self._store.write((f"grants:{principal.learner_id}",)) as tx:
            organisation = self._organisation(tx, ref)
            # None live (expired, or revoked already) is not an error: the outcome asked for holds.
            return self._end(tx, principal, organisation.id, self._clock.now(), "learner")

    def live_grants(self, principal: Principal, size: int, token: str) -> GrantPage:
        limit = page_size(size, GRANTS_PAGE, GRANTS_MAX)
        offset = page_after(token) or 0
        with self._store.read() as tx:
            live = distinct(self._live(tx, principal, None, self._clock.now()))
        live.sort(key=lambda g: (g.expires_at, g.organisation.name, g.key))
        page = live[offset : offset + limit]
        more = len(live) > offset + limit
        return GrantPage(tuple(page), str(offset + limit) if more else "")

    def _organisation(self, tx: RecordTransaction, ref: str) -> OrganisationEntry:
        organisation = tx.organisation_by_ref(ref)
        if organisation is None or organisation.kind not in self._readers:
            raise not_found(
                Reason.ORGANISATION_NOT_FOUND, "no organisation that may read records has this reference"
            )
        return organisation

    def _live(
        self, tx: RecordTransaction, principal: Principal, organisation_id: int | None, now: datetime
    ) -> list[GrantEntry]:
        """The learner's live grants on any of their records (the master and those merged into it)."""
        learner = own_learner(tx, principal)
        ids = [learner.id, *(lr.id for lr in tx.linked_learners(learner.id))]
        return [g for g in tx.grants(ids, organisation_id) if g.live(now)]

    def _end(
        self, tx: RecordTransaction, principal: Principal, organisation_id: int, now: datetime, why: str
    ) -> int:
        """End every live grant of the learner's to one organisation (on any of their merged records)."""
        live = distinct(self._live(tx, principal, organisation_id, now))
        tx.revoke_grants([g.key for g in live], now, why)
        return len(live)
