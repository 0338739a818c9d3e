"""Learner self-service: activation codes, learner credentials, the access log and export."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from lrs_server.domain.clock import Clock
from lrs_server.domain.errors import DomainError, ErrorKind, Reason, invalid, not_found
from lrs_server.domain.grant_ports import GrantEntry, distinct
from lrs_server.domain.merged import resolve_master
from lrs_server.domain.model import OrgKind, Principal
from lrs_server.domain.record_ports import (
    AccessView,
    AttemptState,
    RecordStore,
    SharingEntry,
    StoredAchievement,
)
from lrs_server.domain.sharing import in_force, own_learner
from lrs_server.domain.validation import ROW_ID_MAX, Violations, parse_iso_date, parse_uln
from lrs_server.privacy import Disclosure, LearnerView

CODE_LIFETIME = timedelta(days=14)
# A learner's sign-in lasts this long; then the school issues a new code. Short enough that a
# forgotten or lost device stops working within a term, long enough not to be a chore.
CREDENTIAL_LIFETIME = timedelta(days=90)
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
CODE_LENGTH = 12
DEFAULT_PAGE, MAX_PAGE = 100, 1000
EXPORT_LOG_LIMIT = 100_000


def hash_secret(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))


@dataclass(frozen=True, slots=True)
class IssuedCode:
    code: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class AccessPage:
    entries: tuple[AccessView, ...]
    next_page_token: str


@dataclass(frozen=True, slots=True)
class Export:
    learner: LearnerView
    family_name_history: tuple[tuple[str, datetime], ...]
    linked_ulns: tuple[str, ...]
    achievements: tuple[StoredAchievement, ...]
    sharing: SharingEntry | None
    sharing_history: tuple[SharingEntry, ...]
    access_log: tuple[AccessView, ...]
    registered_at: datetime | None
    grants: tuple[GrantEntry, ...] = ()


def page_size(value: int, default: int, limit: int) -> int:
    if value < 0 or value > limit:
        raise invalid("page_size", Reason.PAGE_SIZE_INVALID, f"must be 0 to {limit}")
    return value or default


def page_after(token: str) -> int | None:
    """The row a page token says to continue from. Tokens are row ids (of review items, access-log entries)
    written in ASCII digits; anything else (other scripts' digits, a number no row can have) is not
    one this service gave."""
    if not token:
        return None
    digits = token.isascii() and token.isdigit() and len(token) <= len(str(ROW_ID_MAX))
    if not digits or int(token) > ROW_ID_MAX:
        raise invalid("page_token", Reason.PAGE_TOKEN_INVALID, "is not a token this service gave")
    return int(token)


class LearnerAccessService:
    def __init__(self, store: RecordStore, clock: Clock, disclosure: Disclosure) -> None:
        self._store = store
        self._clock = clock
        self._disclosure = disclosure

    def issue_code(self, principal: Principal, uln: str) -> IssuedCode:
        found = Violations()
        uln = found.check("uln", lambda: parse_uln(uln), "")
        found.raise_if_any()
        now = self._clock.now()
        code = new_code()
        with self._store.write(()) as tx:
            learner = resolve_master(tx, tx.learner_by_uln(uln))
            known = learner is not None and (
                principal.kind is OrgKind.ADMIN or tx.registered_or_linked(principal.org_id, learner.id)
            )
            if learner is None or not known:
                # The same answer whether the ULN is unknown or the school has no link to the learner.
                raise not_found(Reason.LEARNER_NOT_FOUND, "no learner with this ULN registered by you")
            expires = now + CODE_LIFETIME
            tx.add_activation_code(
                learner.id, hash_secret(normalise_code(code)), principal.org_id, now, expires
            )
        return IssuedCode(code, expires)

    def activate(self, uln: str, date_of_birth: str, code: str) -> str:
        found = Violations()
        uln = found.check("uln", lambda: parse_uln(uln), "")
        born = found.check(
            "date_of_birth", lambda: parse_iso_date(date_of_birth.strip(), Reason.DATE_OF_BIRTH_INVALID), None
        )
        normalised = normalise_code(code)
        if not normalised or len(normalised) > 32:
            found.add("code", Reason.ACTIVATION_CODE_INVALID, "give the code from your school")
        found.raise_if_any()
        now = self._clock.now()
        token = f"lrsl_{secrets.token_urlsafe(32)}"
        with self._store.write((f"activation:{uln}",)) as tx:
            state = tx.attempt_state(uln)
            if state is not None and state.locked_until is not None and state.locked_until > now:
                raise DomainError(
                    ErrorKind.RESOURCE_EXHAUSTED,
                    Reason.ACTIVATION_LOCKED,
                    "too many failed attempts for this ULN; try again later",
                    metadata={"retry_after": state.locked_until.isoformat()},
                )
            learner = resolve_master(tx, tx.learner_by_uln(uln))
            ok = (
                learner is not None
                and learner.identity.date_of_birth == born
                and tx.take_activation_code(learner.id, hash_secret(normalised), now)
            )
            if ok and learner is not None:
                tx.save_attempt_state(uln, None)
                # A new code is how a learner recovers a lost or stolen device: earlier sign-ins end.
                tx.revoke_credentials(learner.id, now)
                tx.add_credential(learner.id, hash_secret(token), now)
                return token
            # Count the failure; it is committed even though the call fails.
            if state is None or state.window_start + LOCKOUT < now:
                state = AttemptState(0, now, None)
            failures = state.failures + 1
            locked = now + LOCKOUT if failures >= MAX_FAILURES else None
            tx.save_attempt_state(uln, AttemptState(failures, state.window_start, locked))
        raise DomainError(
            ErrorKind.UNAUTHENTICATED,
            Reason.ACTIVATION_FAILED,
            "the ULN, date of birth or code is wrong, or the code has expired or been used",
        )

    def sign_out_everywhere(self, principal: Principal) -> int:
        """End every credential on any of the learner's records (merged ones too); how many."""
        now = self._clock.now()
        with self._store.write(()) as tx:
            learner = own_learner(tx, principal)
            # The credential's own learner is this one or among those merged into it.
            ids = [learner.id, *(lr.id for lr in tx.linked_learners(learner.id))]
            return sum(tx.revoke_credentials(learner_id, now) for learner_id in ids)

    def access_log(self, principal: Principal, size: int, token: str) -> AccessPage:
        limit = page_size(size, DEFAULT_PAGE, MAX_PAGE)
        before = page_after(token)
        with self._store.write(()) as tx:
            learner = own_learner(tx, principal)
            ids = [learner.id, *(lr.id for lr in tx.linked_learners(learner.id))]
            entries = tx.access_log(ids, before, limit + 1)
        more = len(entries) > limit
        entries = entries[:limit]
        return AccessPage(tuple(entries), str(entries[-1].id) if more else "")

    def export(self, principal: Principal, rpc: str) -> Export:
        now = self._clock.now()
        with self._store.write(()) as tx:
            learner = own_learner(tx, principal)
            linked = tx.linked_learners(learner.id)
            ids = [learner.id, *(lr.id for lr in linked)]
            view = self._disclosure.release_export(tx, principal, rpc, learner, now)
            history = tx.sharing_entries(learner.id)
            return Export(
                learner=view,
                family_name_history=tuple(tx.family_name_history(learner.id)),
                linked_ulns=tuple(lr.uln for lr in linked),
                achievements=tuple(tx.achievements(ids)),
                sharing=in_force(history),
                sharing_history=tuple(history),
                access_log=tuple(tx.access_log(ids, None, EXPORT_LOG_LIMIT)),
                registered_at=tx.registered_at(learner.id),
                grants=tuple(distinct([g for g in tx.grants(ids) if g.live(now)])),
            )
