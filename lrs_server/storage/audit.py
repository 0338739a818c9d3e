"""The access log's hash chains: appending under a head lock, and verifying them.

The log is K independent hash chains (``CHAINS``, one head row each in ``access_log_head``, id 1..K),
so that concurrent disclosures from every replica do not queue on one row. Every entry carries its
``chain`` and its ``seq`` within that chain (1, 2, 3...), the previous entry's hash in the chain and
its own hash, computed over the previous hash and the entry's content. Each head row holds its
chain's number of entries and last hash, so deleting a chain's newest entries is detected too.

Entries past retention are purged (storage/purge.py): their detail (who, whose, what) is blanked
and ``purged`` set, but seq and both hashes stay, so the chain still links through them; each head's
``purged_through`` says how far the purge of its chain went, and a purged entry beyond it is
reported as tampering.

An append locks one head for the rest of its transaction. On PostgreSQL it takes any head no other
transaction holds (``FOR UPDATE SKIP LOCKED``, in random order); a head the transaction holds
already is never skipped, and a transaction appending again asks for the head it appended to
(``held``). Only when every head is held by others does it wait, for a random one, and then it holds
no head, so two appenders can never wait for each other's heads (no deadlock). SQLite serialises
writers already; it picks a random head too, so both backends build the same shape of log. How
long taking the head took is reported to a callback registered with ``watch_lock_waits`` (the
``lrs_lock_wait_seconds`` metric).
"""

from __future__ import annotations

import hashlib
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, select, update
from sqlalchemy.pool import Pool

from lrs_server.storage.bulk import insert_rows
from lrs_server.storage.tables import AccessLogEntry, AccessLogHead

ACCESS = AccessLogEntry.__table__  # type: ignore[attr-defined]
HEAD = AccessLogHead.__table__  # type: ignore[attr-defined]

# The number of chains a new database gets (migration 0007_access_log_chains creates their heads).
# Appends use whichever head rows exist, so a database's count is its rows, not this constant.
CHAINS = 16

LockWaitCallback = Callable[[str, float], None]
# Keyed by the engine's pool: connections may come from an engine with execution options (a proxy of
# the engine watched, with another identity), which shares its pool.
_lock_wait_callbacks: weakref.WeakKeyDictionary[Pool, LockWaitCallback] = weakref.WeakKeyDictionary()


def watch_lock_waits(engine: Engine, callback: LockWaitCallback) -> None:
    """Call ``callback("access_log_head", seconds)`` after each append on ``engine`` took its head."""
    _lock_wait_callbacks[engine.pool] = callback


@dataclass(frozen=True, slots=True)
class NewEntry:
    learner_id: int
    organisation_id: int | None
    accessor_kind: str
    rpc: str
    fields: str
    at: datetime


def entry_hash(previous: str, seq: int, e: NewEntry) -> str:
    at = e.at.astimezone(UTC).isoformat(timespec="microseconds")
    text = "|".join(
        [
            previous,
            str(seq),
            str(e.learner_id),
            str(e.organisation_id or ""),
            e.accessor_kind,
            e.rpc,
            e.fields,
            at,
        ]
    )
    return hashlib.sha256(text.encode()).hexdigest()


_COLUMNS = (
    "learner_id",
    "organisation_id",
    "accessor_kind",
    "rpc",
    "fields",
    "at",
    "chain",
    "seq",
    "prev_hash",
    "entry_hash",
)


def lock_head(connection: Connection, held: int | None = None) -> Any:
    """Lock one chain head for the caller's transaction and return it (id, entries, last_hash).
    ``held``: the head this transaction appended to already (locked by it, so taken at once)."""
    if held is not None:
        return connection.execute(_HELD_HEAD, {"head": held}).one()
    if connection.dialect.name != "postgresql":
        return connection.execute(_ANY_HEAD).one()
    started = time.perf_counter()
    row = connection.execute(_FREE_HEAD).first()
    if row is None:  # every head is held by another transaction (and none by this one): wait for one
        row = connection.execute(_ANY_HEAD_LOCKED).one()
    callback = _lock_wait_callbacks.get(connection.engine.pool)
    if callback is not None:
        callback("access_log_head", time.perf_counter() - started)
    return row


# Built once: a head is locked in every call that discloses a learner.
_HEAD_COLUMNS = select(HEAD.c.id, HEAD.c.entries, HEAD.c.last_hash)
_HELD_HEAD = _HEAD_COLUMNS.where(HEAD.c.id == bindparam("head")).with_for_update()
_ANY_HEAD = _HEAD_COLUMNS.order_by(func.random()).limit(1)
_FREE_HEAD = _ANY_HEAD.with_for_update(skip_locked=True)
_ANY_HEAD_LOCKED = _ANY_HEAD.with_for_update()


def append(connection: Connection, entries: Sequence[NewEntry], held: int | None = None) -> int | None:
    """Append ``entries`` to one chain inside the caller's transaction (locks that chain's head);
    the chain, for the transaction's next append to pass as ``held`` (None when nothing was
    appended). Reusing it keeps a transaction's entries together and holding a single head."""
    if not entries:
        return held
    head = lock_head(connection, held)
    seq, previous = head.entries, head.last_hash
    rows: list[tuple[Any, ...]] = []
    for e in entries:
        seq += 1
        digest = entry_hash(previous, seq, e)
        rows.append(
            (
                e.learner_id,
                e.organisation_id,
                e.accessor_kind,
                e.rpc,
                e.fields,
                e.at,
                head.id,
                seq,
                previous,
                digest,
            )
        )
        previous = digest
    insert_rows(connection, ACCESS, _COLUMNS, rows)
    connection.execute(_MOVE_HEAD, {"head": head.id, "entries": seq, "last_hash": previous})
    return int(head.id)


# Built once: the append runs in every call that discloses a learner.
_MOVE_HEAD = (
    update(HEAD)
    .where(HEAD.c.id == bindparam("head"))
    .values(entries=bindparam("entries"), last_hash=bindparam("last_hash"))
)


@dataclass(frozen=True, slots=True)
class ChainReport:
    ok: bool
    entries: int
    first_bad_seq: int | None = None
    first_bad_id: int | None = None
    problem: str = ""
    chain: int | None = None


def verify(engine: Engine, batch: int = 5000) -> ChainReport:
    """Walk every chain in ``seq`` order; report the first entry that does not check out."""
    checked = 0
    with engine.connect() as c:
        heads = c.execute(
            select(HEAD.c.id, HEAD.c.entries, HEAD.c.last_hash, HEAD.c.purged_through).order_by(HEAD.c.id)
        ).all()
        if not heads:
            return ChainReport(False, 0, problem="the chain head rows are missing")
        unsequenced = c.execute(select(ACCESS.c.id).where(ACCESS.c.seq.is_(None)).limit(1)).first()
        if unsequenced is not None:
            return ChainReport(False, 0, None, unsequenced.id, "an entry is outside the chain (no seq)")
        headless = c.execute(
            select(ACCESS.c.id, ACCESS.c.chain, ACCESS.c.seq)
            .where(ACCESS.c.chain.not_in([h.id for h in heads]))
            .order_by(ACCESS.c.id)
            .limit(1)
        ).first()
        if headless is not None:
            return ChainReport(
                False,
                0,
                headless.seq,
                headless.id,
                f"its chain {headless.chain} has no head row",
                headless.chain,
            )
        for head in heads:
            report = _verify_chain(c, head, batch)
            if not report.ok:
                return ChainReport(False, checked + report.entries, *_tail(report))
            checked += report.entries
    return ChainReport(True, checked)


def _tail(report: ChainReport) -> tuple[int | None, int | None, str, int | None]:
    return report.first_bad_seq, report.first_bad_id, report.problem, report.chain


def _verify_chain(c: Connection, head: Any, batch: int) -> ChainReport:
    chain = head.id
    previous, expected, checked, last = "", 1, 0, 0
    while True:
        rows = c.execute(
            select(ACCESS)
            .where(ACCESS.c.chain == chain, ACCESS.c.seq > last)
            .order_by(ACCESS.c.seq)
            .limit(batch)
        ).all()
        if not rows:
            break
        for row in rows:
            if row.seq != expected:
                problem = f"entry {expected} is missing (next is {row.seq})"
                return ChainReport(False, checked, expected, row.id, problem, chain)
            if row.prev_hash != previous:
                return ChainReport(
                    False, checked, row.seq, row.id, "does not follow the entry before it", chain
                )
            problem = _content_problem(row, previous, head.purged_through)
            if problem:
                return ChainReport(False, checked, row.seq, row.id, problem, chain)
            previous, expected, checked = row.entry_hash, expected + 1, checked + 1
            last = row.seq
    if head.entries != checked or head.last_hash != previous:
        problem = f"the head records {head.entries} entries, the chain holds {checked}: entries were deleted"
        return ChainReport(False, checked, checked + 1, None, problem, chain)
    return ChainReport(True, checked)


def _content_problem(row: Any, previous: str, purged_through: int) -> str:
    """Why an entry's content does not check out ("" when it does). A purged entry has no content
    left to hash: it is checked by its place in the chain (its stored hash is the next entry's
    previous hash, which that entry's own hash covers) and by lying within the purged range."""
    if row.purged:
        if row.seq > purged_through:
            return f"it is marked purged, but the purge went only to entry {purged_through}"
        return ""
    if row.learner_id is None:
        return "its content was altered"
    entry = NewEntry(row.learner_id, row.organisation_id, row.accessor_kind, row.rpc, row.fields, row.at)
    if entry_hash(previous, row.seq, entry) != row.entry_hash:
        return "its content was altered"
    return ""
