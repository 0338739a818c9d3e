"""Purging what is past retention (``lrs-server purge``), safe while the service is serving.

The access log is purged chain by chain, each as a prefix of its hash chain: entries 1..N, where N
is the last entry before the first one still within retention (a chain's entries are appended in
time order, so a replica whose clock lagged cannot leave a hole). Each purged entry keeps seq, at
and both hashes; learner, organisation, accessor kind, RPC and fields are blanked and ``purged`` is
set, and the chain head's ``purged_through`` moves to N (storage/audit.py verifies against it). Work
is done in batches, each in a transaction that locks that chain's head row as appends do, so
appends to that chain wait for one batch at most (the other chains take them meanwhile) and no
chain is ever seen half-purged.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, and_, delete, func, or_, select, true, update

from lrs_server.domain.retention import Cutoffs
from lrs_server.storage.audit import ACCESS, HEAD
from lrs_server.storage.tables import ActivationAttempt, ActivationCode, LearnerGrant, LearnerNoticeState

CODES = ActivationCode.__table__  # type: ignore[attr-defined]
ATTEMPTS = ActivationAttempt.__table__  # type: ignore[attr-defined]
STATE = LearnerNoticeState.__table__  # type: ignore[attr-defined]
GRANTS = LearnerGrant.__table__  # type: ignore[attr-defined]
BATCH = 5000


@dataclass(frozen=True, slots=True)
class PurgeReport:
    access_log_entries: int
    notice_states: int
    pending_emails: int
    activation_codes: int
    activation_attempts: int
    ended_grants: int = 0


def purge(engine: Engine, cut: Cutoffs, now: datetime, batch: int = BATCH) -> PurgeReport:
    entries = _purge_access_log(engine, cut.access_log, batch)
    with _writer(engine) as c:
        states = c.execute(
            delete(STATE).where(
                STATE.c.digest_email == "",
                func.coalesce(STATE.c.seen_at, STATE.c.updated_at) < cut.notice_state,
            )
        ).rowcount
        pending = c.execute(
            update(STATE)
            .where(STATE.c.pending_expires_at < now)
            .values(pending_email="", pending_code_hash="", pending_expires_at=None, pending_failures=0)
        ).rowcount
        codes = c.execute(
            delete(CODES).where(
                or_(
                    CODES.c.used_at < cut.activation_code,
                    and_(CODES.c.used_at.is_(None), CODES.c.expires_at < cut.activation_code),
                )
            )
        ).rowcount
        # Failed activations whose window and lock are both over count for nothing any more.
        attempts = c.execute(
            delete(ATTEMPTS).where(
                ATTEMPTS.c.window_start < cut.activation_code,
                or_(ATTEMPTS.c.locked_until.is_(None), ATTEMPTS.c.locked_until < now),
            )
        ).rowcount
        # A grant ended (revoked, or past its end) before the cut-off; every row of a grant made while
        # merged ends at once, so a grant is removed whole.
        grants = c.execute(
            delete(GRANTS).where(func.coalesce(GRANTS.c.revoked_at, GRANTS.c.expires_at) < cut.ended_grant)
        ).rowcount
    return PurgeReport(entries, int(states), int(pending), int(codes), int(attempts), int(grants))


@contextmanager
def _writer(engine: Engine) -> Iterator[Connection]:
    """One write transaction (begun IMMEDIATE on SQLite, so it queues behind other writers)."""
    with engine.connect() as connection:
        connection = connection.execution_options(sqlite_immediate=True)
        with connection.begin():
            yield connection


def _purge_access_log(engine: Engine, cutoff: datetime, batch: int) -> int:
    with engine.connect() as c:
        chains = list(c.execute(select(HEAD.c.id).order_by(HEAD.c.id)).scalars())
    return sum(_purge_chain(engine, chain, cutoff, batch) for chain in chains)


def _purge_chain(engine: Engine, chain: int, cutoff: datetime, batch: int) -> int:
    purged = 0
    in_chain = ACCESS.c.chain == chain
    while True:
        with _writer(engine) as c:
            head = c.execute(
                select(HEAD.c.entries, HEAD.c.purged_through).where(HEAD.c.id == chain).with_for_update()
            ).one()
            first_recent = c.execute(
                select(func.min(ACCESS.c.seq)).where(
                    in_chain, ACCESS.c.seq > head.purged_through, ACCESS.c.at >= cutoff
                )
            ).scalar_one_or_none()
            through = head.entries if first_recent is None else first_recent - 1
            upto = min(through, head.purged_through + batch)
            if upto <= head.purged_through:
                return purged
            done = c.execute(
                update(ACCESS)
                .where(in_chain, ACCESS.c.seq > head.purged_through, ACCESS.c.seq <= upto)
                .values(
                    learner_id=None, organisation_id=None, accessor_kind="", rpc="", fields="", purged=true()
                )
            ).rowcount
            c.execute(update(HEAD).where(HEAD.c.id == chain).values(purged_through=upto))
            purged += int(done)
