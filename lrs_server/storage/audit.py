"""The access log's hash chain: appending under a lock, and verifying it.

Every entry carries ``seq`` (1, 2, 3...), the previous entry's hash and its own hash, computed over the
previous hash and the entry's content. The head row (``access_log_head``, id 1) holds the number of
entries and the last hash, so deleting the newest entries is detected too. Entries past retention
are purged (storage/purge.py): their detail (who, whose, what) is blanked and ``purged`` set, but
seq and both hashes stay, so the chain still links through them; the head's ``purged_through`` says
how far the purge went, and a purged entry beyond it is reported as tampering. Appends lock the head row
(``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite writers are serialised already), so concurrent
transactions extend the chain one after another and it stays linear.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, select, update

from lrs_server.storage.bulk import insert_rows
from lrs_server.storage.tables import AccessLogEntry, AccessLogHead

ACCESS = AccessLogEntry.__table__  # type: ignore[attr-defined]
HEAD = AccessLogHead.__table__  # type: ignore[attr-defined]


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
    "seq",
    "prev_hash",
    "entry_hash",
)


def append(connection: Connection, entries: Sequence[NewEntry]) -> None:
    """Append ``entries`` to the chain inside the caller's transaction (locks the head row)."""
    if not entries:
        return
    head = connection.execute(_LOCK_HEAD).one()
    seq, previous = head.entries, head.last_hash
    rows: list[tuple[Any, ...]] = []
    for e in entries:
        seq += 1
        digest = entry_hash(previous, seq, e)
        rows.append(
            (e.learner_id, e.organisation_id, e.accessor_kind, e.rpc, e.fields, e.at, seq, previous, digest)
        )
        previous = digest
    insert_rows(connection, ACCESS, _COLUMNS, rows)
    connection.execute(_MOVE_HEAD, {"entries": seq, "last_hash": previous})


# Built once: the append runs in every call that discloses a learner.
_LOCK_HEAD = select(HEAD.c.entries, HEAD.c.last_hash).where(HEAD.c.id == 1).with_for_update()
_MOVE_HEAD = (
    update(HEAD).where(HEAD.c.id == 1).values(entries=bindparam("entries"), last_hash=bindparam("last_hash"))
)


@dataclass(frozen=True, slots=True)
class ChainReport:
    ok: bool
    entries: int
    first_bad_seq: int | None = None
    first_bad_id: int | None = None
    problem: str = ""


def verify(engine: Engine, batch: int = 5000) -> ChainReport:
    """Walk the chain in ``seq`` order; report the first entry that does not check out."""
    previous, expected, checked = "", 1, 0
    with engine.connect() as c:
        head = c.execute(
            select(HEAD.c.entries, HEAD.c.last_hash, HEAD.c.purged_through).where(HEAD.c.id == 1)
        ).first()
        if head is None:
            return ChainReport(False, 0, problem="the chain head row is missing")
        unsequenced = c.execute(select(ACCESS.c.id).where(ACCESS.c.seq.is_(None)).limit(1)).first()
        if unsequenced is not None:
            return ChainReport(False, 0, None, unsequenced.id, "an entry is outside the chain (no seq)")
        last = 0
        while True:
            rows = c.execute(
                select(ACCESS).where(ACCESS.c.seq > last).order_by(ACCESS.c.seq).limit(batch)
            ).all()
            if not rows:
                break
            for row in rows:
                if row.seq != expected:
                    return ChainReport(
                        False, checked, expected, row.id, f"entry {expected} is missing (next is {row.seq})"
                    )
                if row.prev_hash != previous:
                    return ChainReport(False, checked, row.seq, row.id, "does not follow the entry before it")
                problem = _content_problem(row, previous, head.purged_through)
                if problem:
                    return ChainReport(False, checked, row.seq, row.id, problem)
                previous, expected, checked = row.entry_hash, expected + 1, checked + 1
                last = row.seq
        if head.entries != checked or head.last_hash != previous:
            return ChainReport(
                False,
                checked,
                checked + 1,
                None,
                f"the head records {head.entries} entries, the chain holds {checked}: entries were deleted",
            )
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
