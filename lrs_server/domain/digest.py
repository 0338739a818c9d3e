"""The daily email digest of new notices (``lrs-server send-digests``, run by cron).

A digest says which organisations looked and what they did, never what they were given: no
ULN, no name, no field, no achievement or grade (an email can be read by whoever reaches the
mailbox). Each learner's ``digest_sent_id`` moves past the notices told only after the mail
server took the message, so a failure is retried by the next run (at least once, never lost).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from lrs_server.domain.clock import Clock
from lrs_server.domain.merged import resolve_master
from lrs_server.domain.notice_ports import Mailer, MailNotSent, NoticeState, NoticeStore
from lrs_server.domain.notices import SUMMARIES, classify
from lrs_server.domain.record_ports import AccessView

# A cron job that runs daily, a little early one day, still sends.
MIN_INTERVAL = timedelta(hours=20)
MAX_LINES = 50
SUBJECT = "Organisations looked at your learner record"


@dataclass(frozen=True, slots=True)
class DigestReport:
    sent: int
    failed: int
    nothing_new: int


def compose(accesses: Sequence[AccessView], total: int) -> str:
    """The message body: one line per look, newest first (at most MAX_LINES, then a count)."""
    lines = [
        f"Since your last email, organisations looked at your learner record {total} time"
        f"{'' if total == 1 else 's'}:",
        "",
    ]
    for a in accesses[:MAX_LINES]:
        when = a.at.strftime("%d %B %Y at %H:%M UTC")
        lines.append(f"- {when}: {a.organisation_name} {SUMMARIES[classify(a.rpc, a.fields)]}.")
    if total > MAX_LINES:
        lines.append(f"- and {total - MAX_LINES} more.")
    lines += [
        "",
        "Sign in to the learner record service to see each one in full. This email never contains",
        "your record. To stop these emails, sign in and choose to stop them.",
    ]
    return "\n".join(lines) + "\n"


class DigestSender:
    def __init__(self, store: NoticeStore, clock: Clock, mailer: Mailer, interval: timedelta = MIN_INTERVAL):
        self._store = store
        self._clock = clock
        self._mailer = mailer
        self._interval = interval

    def send_due(self) -> DigestReport:
        now = self._clock.now()
        with self._store.read() as tx:
            due = tx.digest_recipients(now - self._interval)
        outcomes = Counter(self._send_one(learner_id, state, now) for learner_id, state in due)
        return DigestReport(outcomes["sent"], outcomes["failed"], outcomes["quiet"])

    def _send_one(self, learner_id: int, state: NoticeState, now: datetime) -> str:
        with self._store.read() as tx:
            learner = resolve_master(tx, tx.learner_by_id(learner_id))
            if learner is None:  # pragma: no cover - learners are never deleted
                return "quiet"
            ids = [learner.id, *(lr.id for lr in tx.linked_learners(learner.id))]
            fresh = tx.organisation_accesses(ids, None, state.digest_sent_id, MAX_LINES)
            total = tx.count_organisation_accesses(ids, state.digest_sent_id)
        if not fresh:
            return "quiet"
        try:
            self._mailer.send(state.digest_email, SUBJECT, compose(fresh, total))
        except MailNotSent:
            return "failed"
        with self._store.write((f"notices:{learner_id}",)) as tx:
            current = tx.notice_state(learner_id)
            if current is not None and current.digest_email == state.digest_email:
                done = max(current.digest_sent_id, fresh[0].id)
                tx.save_notice_state(
                    learner_id, replace(current, digest_sent_id=done, digest_sent_at=now), now
                )
        return "sent"
