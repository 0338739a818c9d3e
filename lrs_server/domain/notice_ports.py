"""What the notices and the email digest need from storage and from a mail server."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from lrs_server.domain.record_ports import AccessView, RecordTransaction


@dataclass(frozen=True, slots=True)
class NoticeState:
    """How far a learner has read their notices, and their digest address (one per master record)."""

    seen_id: int = 0
    seen_at: datetime | None = None
    digest_email: str = ""
    pending_email: str = ""
    pending_code_hash: str = ""
    pending_expires_at: datetime | None = None
    pending_failures: int = 0
    digest_sent_id: int = 0
    digest_sent_at: datetime | None = None


class NoticeTransaction(RecordTransaction, Protocol):
    def organisation_accesses(
        self, learner_ids: Sequence[int], before_id: int | None, after_id: int, limit: int
    ) -> list[AccessView]:
        """Access-log entries about these learners made by organisations (not by the learner),
        newest first, with ``after_id < id < before_id`` (the entry id, which grows with time
        across every chain); purged entries are gone."""
        ...

    def count_organisation_accesses(self, learner_ids: Sequence[int], after_id: int) -> int: ...

    def newest_organisation_access(self, learner_ids: Sequence[int]) -> int:
        """The id of the newest such entry (0 when there is none)."""
        ...

    def notice_state(self, learner_id: int) -> NoticeState | None: ...

    def save_notice_state(self, learner_id: int, state: NoticeState, now: datetime) -> None: ...

    def digest_recipients(self, last_sent_before: datetime) -> list[tuple[int, NoticeState]]:
        """Learners with a confirmed digest address whose last digest was sent before the instant."""
        ...


class NoticeStore(Protocol):
    def write(self, lock_keys: Sequence[str]) -> AbstractContextManager[NoticeTransaction, bool | None]: ...

    def read(self) -> AbstractContextManager[NoticeTransaction, bool | None]: ...


class MailNotSent(Exception):
    """The mail server did not take the message."""


class Mailer(Protocol):
    def send(self, to: str, subject: str, body: str) -> None:
        """Hand one plain-text message to the mail server; raises MailNotSent."""
        ...
