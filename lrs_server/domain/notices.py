"""Notices: every look at a learner's data by an organisation, told to the learner.

A notice is an access-log entry (written by the one exit, ``privacy.py``) whose accessor is an
organisation: nothing is recorded twice, so a notice can never say something the log does not,
and purging the log's detail (``lrs-server purge``) removes the notice with it. What is kept per
learner is only a marker of how far they have read (``NoticeState.seen_id``): notices after it
are "new since you last looked". The same marker idea drives the email digest (domain/digest.py).
"""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from lrs_server.domain.clock import Clock
from lrs_server.domain.errors import DomainError, ErrorKind, Reason, invalid
from lrs_server.domain.learner_access import (
    CODE_ALPHABET,
    DEFAULT_PAGE,
    MAX_PAGE,
    hash_secret,
    normalise_code,
    page_after,
    page_size,
)
from lrs_server.domain.model import Principal
from lrs_server.domain.notice_ports import Mailer, MailNotSent, NoticeState, NoticeStore, NoticeTransaction
from lrs_server.domain.record_ports import AccessView
from lrs_server.domain.sharing import own_learner
from lrs_server.domain.validation import Violations, parse_email

CONFIRM_CODE_LENGTH = 8
CONFIRM_LIFETIME = timedelta(hours=1)
CONFIRM_MAX_FAILURES = 5


class NoticeKind(enum.Enum):
    FOUND_BY_DETAILS = "found_by_details"
    FOUND_BY_ULN = "found_by_uln"
    VERIFIED = "verified"
    RECORD_READ = "record_read"
    RECORD_REFUSED = "record_refused"
    OTHER = "other"


# What the organisation asked, in the words the learner reads (CLI, web pages, the digest).
SUMMARIES = {
    NoticeKind.FOUND_BY_DETAILS: "searched for you by name, date of birth and postcode, and found you",
    NoticeKind.FOUND_BY_ULN: "looked you up by your ULN and names",
    NoticeKind.VERIFIED: "checked that a ULN and details belong to you",
    NoticeKind.RECORD_READ: "read your learner record",
    NoticeKind.RECORD_REFUSED: "asked for your learner record: your sharing choice withheld your results",
    NoticeKind.OTHER: "saw your details (registering you, or managing duplicate records)",
}
_BY_METHOD = {
    "FindLearnerByDemographics": NoticeKind.FOUND_BY_DETAILS,
    "FindLearnerByUln": NoticeKind.FOUND_BY_ULN,
    "VerifyLearner": NoticeKind.VERIFIED,
    # Each result sent is verified against the learner first; that verification is what is logged.
    "SubmitAchievements": NoticeKind.VERIFIED,
}


def classify(rpc: str, fields: tuple[str, ...]) -> NoticeKind:
    method = rpc.rsplit("/", 1)[-1]
    if method == "GetLearnerRecord":
        return NoticeKind.RECORD_REFUSED if "achievements_withheld" in fields else NoticeKind.RECORD_READ
    return _BY_METHOD.get(method, NoticeKind.OTHER)


@dataclass(frozen=True, slots=True)
class Notice:
    access: AccessView
    kind: NoticeKind
    new: bool

    @property
    def summary(self) -> str:
        return SUMMARIES[self.kind]


def notice(access: AccessView, seen_id: int) -> Notice:
    return Notice(access, classify(access.rpc, access.fields), access.id > seen_id)


@dataclass(frozen=True, slots=True)
class NoticePage:
    notices: tuple[Notice, ...]
    next_page_token: str
    new_count: int
    last_seen_at: datetime | None


def learner_ids(tx: NoticeTransaction, principal: Principal) -> tuple[int, list[int]]:
    """The learner's master record id, and the ids whose notices are theirs (merged records too)."""
    learner = own_learner(tx, principal)
    return learner.id, [learner.id, *(lr.id for lr in tx.linked_learners(learner.id))]


def _lock(principal: Principal) -> tuple[str, ...]:
    """Writers of one learner's notice state queue on one key (the row is created on first write)."""
    return (f"notices:{principal.learner_id}",)


class NoticeService:
    """The learner's notices and their digest address. ``mailer`` is None when no mail server is
    configured: then the digest cannot be asked for."""

    def __init__(self, store: NoticeStore, clock: Clock, mailer: Mailer | None) -> None:
        self._store = store
        self._clock = clock
        self._mailer = mailer

    def list(self, principal: Principal, size: int, token: str) -> NoticePage:
        limit = page_size(size, DEFAULT_PAGE, MAX_PAGE)
        before = page_after(token)
        with self._store.read() as tx:
            master, ids = learner_ids(tx, principal)
            state = tx.notice_state(master) or NoticeState()
            found = tx.organisation_accesses(ids, before, 0, limit + 1)
            new_count = tx.count_organisation_accesses(ids, state.seen_id)
        more = len(found) > limit
        shown = found[:limit]
        return NoticePage(
            tuple(notice(a, state.seen_id) for a in shown),
            str(shown[-1].id) if more else "",
            new_count,
            state.seen_at,
        )

    def mark_seen(self, principal: Principal, through_id: str) -> int:
        """Notices up to ``through_id`` are seen (never moving the marker back); how many stay new."""
        if not through_id:
            raise invalid("through_notice_id", Reason.FIELD_REQUIRED, "give the newest notice's id")
        try:
            through = page_after(through_id) or 0
        except DomainError:
            raise invalid("through_notice_id", Reason.NOTICE_ID_INVALID, "is not a notice id") from None
        now = self._clock.now()
        with self._store.write(_lock(principal)) as tx:
            master, ids = learner_ids(tx, principal)
            state = tx.notice_state(master) or NoticeState()
            # Never past the newest notice there is: a later one must still show as new.
            seen = max(state.seen_id, min(through, tx.newest_organisation_access(ids)))
            tx.save_notice_state(master, replace(state, seen_id=seen, seen_at=now), now)
            return tx.count_organisation_accesses(ids, seen)

    def digest(self, principal: Principal) -> NoticeState:
        with self._store.read() as tx:
            master, _ = learner_ids(tx, principal)
            return tx.notice_state(master) or NoticeState()

    def start_digest(self, principal: Principal, email: str) -> NoticeState:
        """Keep ``email`` as pending and email it a confirmation code (sent after the commit)."""
        found = Violations()
        address = found.check("email", lambda: parse_email(email), "")
        if not address and not found.found:
            found.add("email", Reason.FIELD_REQUIRED, "give the email address for the digest")
        found.raise_if_any()
        mailer = self._require_mailer()
        now = self._clock.now()
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CONFIRM_CODE_LENGTH))
        with self._store.write(_lock(principal)) as tx:
            master, _ = learner_ids(tx, principal)
            state = replace(
                tx.notice_state(master) or NoticeState(),
                pending_email=address,
                pending_code_hash=hash_secret(code),
                pending_expires_at=now + CONFIRM_LIFETIME,
                pending_failures=0,
            )
            tx.save_notice_state(master, state, now)
        body = (
            "You asked for a daily email when an organisation looks at your learner record.\n\n"
            f"Your confirmation code is: {code}\n\n"
            "Enter it where you asked for the email (it works for one hour). If you did not ask,"
            " ignore this message: nothing will be sent to this address.\n"
        )
        try:
            mailer.send(address, "Confirm your email for learner record notices", body)
        except MailNotSent:
            raise DomainError(
                ErrorKind.UNAVAILABLE,
                Reason.EMAIL_NOT_SENT,
                "the confirmation email could not be sent; try again later",
            ) from None
        return state

    def confirm_digest(self, principal: Principal, code: str) -> NoticeState:
        normalised = normalise_code(code)
        if not normalised or len(normalised) > 32:
            raise invalid("code", Reason.DIGEST_CODE_INVALID, "give the code from the confirmation email")
        now = self._clock.now()
        with self._store.write(_lock(principal)) as tx:
            master, ids = learner_ids(tx, principal)
            state = tx.notice_state(master) or NoticeState()
            live = state.pending_email and state.pending_expires_at and state.pending_expires_at > now
            if live and secrets.compare_digest(hash_secret(normalised), state.pending_code_hash):
                confirmed = replace(
                    state,
                    digest_email=state.pending_email,
                    pending_email="",
                    pending_code_hash="",
                    pending_expires_at=None,
                    pending_failures=0,
                    # The digest tells of looks from now on; earlier ones are on the learner's pages.
                    digest_sent_id=max(state.digest_sent_id, tx.newest_organisation_access(ids)),
                )
                tx.save_notice_state(master, confirmed, now)
                return confirmed
            if live:
                failures = state.pending_failures + 1
                spent = failures >= CONFIRM_MAX_FAILURES
                tx.save_notice_state(
                    master,
                    replace(state, pending_failures=failures)
                    if not spent
                    else replace(
                        state,
                        pending_email="",
                        pending_code_hash="",
                        pending_expires_at=None,
                        pending_failures=0,
                    ),
                    now,
                )
        raise DomainError(
            ErrorKind.FAILED_PRECONDITION,
            Reason.DIGEST_CONFIRMATION_FAILED,
            "the code is wrong or has expired (after five wrong codes, ask for a new one)",
        )

    def stop_digest(self, principal: Principal) -> NoticeState:
        now = self._clock.now()
        with self._store.write(_lock(principal)) as tx:
            master, _ = learner_ids(tx, principal)
            state = replace(
                tx.notice_state(master) or NoticeState(),
                digest_email="",
                pending_email="",
                pending_code_hash="",
                pending_expires_at=None,
                pending_failures=0,
            )
            tx.save_notice_state(master, state, now)
            return state

    def _require_mailer(self) -> Mailer:
        if self._mailer is None:
            raise DomainError(
                ErrorKind.FAILED_PRECONDITION,
                Reason.DIGEST_UNAVAILABLE,
                "this service sends no email (no mail server is configured)",
            )
        return self._mailer
