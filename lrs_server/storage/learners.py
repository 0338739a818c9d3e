"""The learner repository: Core statements over the SQLModel tables (this is the hot path)."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from operator import itemgetter
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Connection,
    Engine,
    any_,
    bindparam,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from lrs_server.domain.merged import MAX_LINKS
from lrs_server.domain.model import Gender, Identity, Learner, MatchCandidate, Principal, stored_record
from lrs_server.domain.ports import AccessRecord, MisLink, NewLearner, StoredRequest, UlnTaken
from lrs_server.storage import audit
from lrs_server.storage.bulk import insert_rows
from lrs_server.storage.engine import is_sqlite
from lrs_server.storage.tables import (
    BlockingKey,
    FamilyNameHistory,
    LearnerTable,
    MatchDecisionRecord,
    NameFrequency,
    RegistrationRequest,
)
from lrs_server.storage.tables import (
    MisLink as MisLinkTable,
)

LEARNER = LearnerTable.__table__  # type: ignore[attr-defined]
KEYS = BlockingKey.__table__  # type: ignore[attr-defined]
HISTORY = FamilyNameHistory.__table__  # type: ignore[attr-defined]
FREQUENCY = NameFrequency.__table__  # type: ignore[attr-defined]
REQUESTS = RegistrationRequest.__table__  # type: ignore[attr-defined]
MIS = MisLinkTable.__table__  # type: ignore[attr-defined]
DECISIONS = MatchDecisionRecord.__table__  # type: ignore[attr-defined]

_IDENTITY_COLUMNS = tuple(f.name for f in dataclasses.fields(Identity) if f.name != "gender")
# Identity's fields in declaration order, so that a row builds one positionally (candidate fetches
# build thousands of learners a chunk).
_IDENTITY_IN_ORDER = tuple(LEARNER.c[f.name] for f in dataclasses.fields(Identity))
_GENDER_AT = [f.name for f in dataclasses.fields(Identity)].index("gender")
_LEARNER_WITH_HISTORY = select(
    LEARNER.c.id,
    LEARNER.c.uln,
    LEARNER.c.version,
    LEARNER.c.master_id,
    *_IDENTITY_IN_ORDER,
    HISTORY.c.family_name,
).select_from(LEARNER.outerjoin(HISTORY, HISTORY.c.learner_id == LEARNER.c.id))


# A candidate as the matcher reads it: the learner's id, ULN and master, then PersonRecord's fields
# in its order (model.stored_record; the previous family name given at registration in
# previous_family_names' place), then a previous family name. Positional: candidates are read a row
# at a time, and a Row's attribute access cost more than building the record from it.
_CANDIDATE_WITH_HISTORY = select(
    LEARNER.c.id,
    LEARNER.c.uln,
    LEARNER.c.master_id,
    LEARNER.c.given_name,
    LEARNER.c.family_name,
    LEARNER.c.date_of_birth,
    LEARNER.c.gender,
    LEARNER.c.postcode,
    LEARNER.c.middle_names,
    LEARNER.c.preferred_given_name,
    LEARNER.c.previous_family_name,
    LEARNER.c.upn,
    LEARNER.c.address_line1,
    LEARNER.c.address_line2,
    LEARNER.c.town,
    HISTORY.c.family_name.label("history"),
).select_from(LEARNER.outerjoin(HISTORY, HISTORY.c.learner_id == LEARNER.c.id))
_RECORD_FIELDS = slice(3, 15)  # the PersonRecord fields of a _CANDIDATE_WITH_HISTORY row


def _identity_row(identity: Identity) -> tuple[Any, ...]:
    """The identity's values in _IDENTITY_COLUMNS order, then its gender."""
    return (*(getattr(identity, name) for name in _IDENTITY_COLUMNS), identity.gender.value)


_NEW_LEARNER_COLUMNS = (
    "id",
    "uln",
    *_IDENTITY_COLUMNS,
    "gender",
    "post14_qualification",
    "version",
    "created_by",
    "created_at",
    "updated_at",
)
_NEXT_LEARNER_IDS = text(
    "SELECT nextval(pg_get_serial_sequence('learner', 'id')) FROM generate_series(1, :count)"
)


def _identity_values(identity: Identity) -> dict[str, Any]:
    return dict(zip((*_IDENTITY_COLUMNS, "gender"), _identity_row(identity), strict=True))


def _lock_id(key: str) -> int:
    """A stable signed 64-bit id for a PostgreSQL advisory lock."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)


_TOTAL = ("*", "*")  # the name_frequency row that counts learners
_FEW = 32  # below this many values a plain IN list is as cheap


def among(connection: Connection, column: ColumnElement[Any], values: Collection[Any]) -> ColumnElement[bool]:
    """``column IN values`` with the values as one bound parameter, however many there are.

    A chunk asks for thousands of keys and ids at once; SQLAlchemy renders and binds a parameter per
    value of a plain IN list, which cost more than the query itself (9,000 keys: 83 ms against
    33 ms). SQLite reads the list from a JSON array (``json_each``), PostgreSQL from an array.
    """
    listed = list(values)
    if len(listed) < _FEW:
        return column.in_(listed)
    if connection.dialect.name == "sqlite":
        table = func.json_each(bindparam(None, json.dumps(listed))).table_valued("value")
        return column.in_(select(table.c.value))
    return column == any_(bindparam(None, listed, type_=ARRAY(column.type)))


def listed(name: str, column: ColumnElement[Any], dialect: str) -> ColumnElement[bool]:
    """``column IN :name``, one bound parameter for any number of values (bind ``list_value``).

    For statements built once (see ``prepared``): the same SQL whatever the list's length, so
    SQLAlchemy compiles it once. SQLite reads the values from a JSON array (``json_each``),
    PostgreSQL from an array (``= ANY``).
    """
    if dialect == "sqlite":
        table = func.json_each(bindparam(name)).table_valued("value")
        return column.in_(select(table.c.value))
    return column == any_(bindparam(name, type_=ARRAY(column.type)))


def list_value(connection: Connection, values: Iterable[Any]) -> Any:
    """The value to bind to a ``listed`` parameter."""
    return json.dumps(list(values)) if connection.dialect.name == "sqlite" else list(values)


S = TypeVar("S")


def prepared(build: Callable[[str], S]) -> Callable[[Connection], S]:
    """A statement built once per dialect, on first use.

    Building a Core statement and computing its cache key cost more than running it on the hot
    path (a single registration ran some fifteen: ~1.5 ms of its CPU). SQLAlchemy memoizes the
    key on the statement object, so executing the same object, with its values as bound
    parameters, skips both and finds the compiled form in the engine's cache at once.
    """
    built: dict[str, S] = {}

    def statement(connection: Connection) -> S:
        dialect = connection.dialect.name
        if dialect not in built:
            built[dialect] = build(dialect)
        return built[dialect]

    return statement


class _Frequencies:
    """Term frequencies read lazily within the transaction (cached for its life)."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._cache: dict[tuple[str, str], int] = {}
        self._total: int | None = None

    def count(self, field: str, value: str) -> int:
        key = (field, value)
        if key not in self._cache:
            found = self._connection.execute(_COUNT, {"field": field, "value": value})
            self._cache[key] = found.scalar_one_or_none() or 0
        return self._cache[key]

    def prefetch(self, terms: Iterable[tuple[str, str]]) -> None:
        """Read the counts of many (field, value) pairs in one query (a batch's worth), and the
        registry's total with them."""
        wanted = sorted(set(terms) - self._cache.keys() | ({_TOTAL} if self._total is None else set()))
        if not wanted:
            return
        c = self._connection
        fields = list_value(c, sorted({field for field, _ in wanted}))
        values = list_value(c, sorted({value for _, value in wanted}))
        rows = c.execute(_COUNTS(c), {"fields": fields, "values": values}).all()
        found = {(field, value): count for field, value, count in rows}
        for term in wanted:
            self._cache[term] = found.get(term, 0)
        if self._total is None:
            self._total = found.get(_TOTAL, 0)

    def total(self) -> int:
        if self._total is None:
            found = self._connection.execute(_COUNT, {"field": _TOTAL[0], "value": _TOTAL[1]})
            self._total = found.scalar_one_or_none() or 0
        return self._total


_COUNT = select(FREQUENCY.c.count).where(
    FREQUENCY.c.field == bindparam("field"), FREQUENCY.c.value == bindparam("value")
)
_COUNTS = prepared(
    lambda dialect: select(FREQUENCY.c.field, FREQUENCY.c.value, FREQUENCY.c.count).where(
        listed("fields", FREQUENCY.c.field, dialect), listed("values", FREQUENCY.c.value, dialect)
    )
)


class SqlTransaction:
    """One transaction on one connection; implements ``domain.ports.LearnerTransaction``."""

    def __init__(self, connection: Connection) -> None:
        self._c = connection
        self._frequencies = _Frequencies(connection)
        self._chain: int | None = None  # the access-log chain this transaction appends to, once it has

    @property
    def frequencies(self) -> _Frequencies:
        return self._frequencies

    # -- reads -----------------------------------------------------------------------------

    def _upsert(self, table: Any) -> Any:
        """INSERT for ``table`` in this connection's dialect, with its ON CONFLICT clause."""
        return (sqlite_insert if self._c.dialect.name == "sqlite" else postgresql_insert)(table)

    def _learners(self, where: Any) -> list[Learner]:
        """Learners in id order with their previous family names (newest first), in one query: a
        row per previous name, or one row with none."""
        return self._learners_from(_LEARNER_WITH_HISTORY.where(where).order_by(*_HISTORY_ORDER))

    def _learners_from(self, stmt: Any, params: Mapping[str, Any] | None = None) -> list[Learner]:
        """``_learners`` for a statement built already (ordered by ``_HISTORY_ORDER``)."""
        return [_learner(tuple(first)[:-1], previous) for first, previous in self._with_history(stmt, params)]

    def _with_history(
        self, stmt: Any, params: Mapping[str, Any] | None = None
    ) -> Iterator[tuple[Any, tuple[str, ...]]]:
        """(first row, previous family names newest first) per learner, in id order, from a select of
        learner outer-joined to its name history, ordered by ``_HISTORY_ORDER``, whose last column
        is the history's name."""
        for _, grouped in itertools.groupby(self._c.execute(stmt, params).all(), key=itemgetter(0)):
            rows = list(grouped)
            if len(rows) == 1:  # one previous family name or none: nearly every learner
                name = rows[0][-1]
                yield rows[0], () if name is None else (name,)
            else:
                yield rows[0], tuple(row[-1] for row in rows if row[-1] is not None)

    def candidates_by_key(self, keys: Iterable[str]) -> dict[str, list[MatchCandidate]]:
        """The stored records under each of ``keys`` as the matcher reads them, in one query (the keys
        are selective); a merged learner's record answers for its master."""
        key_list = sorted(set(keys))
        if not key_list:
            return {}
        c = self._c
        pairs: Sequence[Any]  # (key, learner id)
        if len(key_list) < _FEW:
            # One registration's keys: keys, learners and name history in one round trip.
            rows = c.execute(_KEYED_CANDIDATES(c), {"keys": list_value(c, key_list)}).all()
            pairs, found = _keyed_candidates(rows)
        else:
            # A chunk's keys alone first (a covering-index probe per key); joining learner here lets
            # SQLite's planner pick a scan of learner for long key lists.
            pairs = c.execute(_KEY_PAIRS(c), {"keys": list_value(c, key_list)}).all()
            if not pairs:
                return {}
            ids = list_value(c, sorted({learner_id for _, learner_id in pairs}))
            found = list(self._with_history(_CANDIDATES(c), {"ids": ids}))
        masters = self._masters({first[2] for first, _ in found} - {None})  # (id, ULN, master, ...)
        candidates: dict[int, MatchCandidate] = {}
        for first, history in found:
            learner_id, uln, master_id = first[0], first[1], first[2]
            answer_id, answer_uln = masters[master_id] if master_id is not None else (learner_id, uln)
            record = stored_record(first[_RECORD_FIELDS], history)
            candidates[learner_id] = MatchCandidate(answer_id, answer_uln, record, learner_id)
        by_key: dict[str, list[MatchCandidate]] = {}
        for key, learner_id in pairs:
            if learner_id in candidates:
                by_key.setdefault(key, []).append(candidates[learner_id])
        return by_key

    def _masters(self, ids: Collection[int]) -> dict[int, tuple[int, str]]:
        """learner id -> (id, ULN) of the unmerged learner it stands for: itself, or the end of its
        chain of master links (merges refuse a merged master, so a chain is one link unless the
        master was merged later)."""
        answer: dict[int, tuple[int, str]] = {}
        pending = {i: i for i in ids}  # learner asked about -> where its chain has reached
        for _ in range(MAX_LINKS):
            if not pending:
                break
            ids = list_value(self._c, sorted(set(pending.values())))
            reached = {row.id: row for row in self._c.execute(_CHAIN_LINKS(self._c), {"ids": ids}).all()}
            for asked, at in list(pending.items()):
                row = reached[at]
                answer[asked] = (row.id, row.uln)  # the last learner reached, should the guard end it
                if row.master_id is None:
                    del pending[asked]
                else:
                    pending[asked] = row.master_id
        return answer

    def mis_links(self, principal: Principal, mis_identifiers: Iterable[str]) -> dict[str, MisLink]:
        wanted = sorted(set(mis_identifiers))
        if not wanted:
            return {}
        params = {"org": principal.org_id, "mis": list_value(self._c, wanted)}
        return {
            row.mis_identifier: MisLink(row.learner_id, row.details_hash)
            for row in self._c.execute(_MIS_LINKS(self._c), params).all()
        }

    def ulns_taken(self, ulns: Iterable[str]) -> set[str]:
        wanted = sorted(set(ulns))
        if not wanted:
            return set()
        return set(self._c.execute(_ULNS_TAKEN(self._c), {"ulns": list_value(self._c, wanted)}).scalars())

    def learner_by_uln(self, uln: str) -> Learner | None:
        found = self._learners_from(_LEARNER_BY_ULN, {"uln": uln})
        return found[0] if found else None

    def learner_by_id(self, learner_id: int) -> Learner | None:
        found = self._learners_from(_LEARNER_BY_ID, {"id": learner_id})
        return found[0] if found else None

    def learners_by_ids(self, learner_ids: Sequence[int]) -> list[Learner]:
        if not learner_ids:
            return []
        found = self._learners_from(_LEARNERS_BY_IDS(self._c), {"ids": list_value(self._c, learner_ids)})
        by_id = {learner.id: learner for learner in found}
        return [by_id[i] for i in learner_ids if i in by_id]

    def learners_after(self, after_id: int, limit: int) -> list[Learner]:
        ids = select(LEARNER.c.id).where(LEARNER.c.id > after_id).order_by(LEARNER.c.id).limit(limit)
        return self._learners(LEARNER.c.id.in_(ids.scalar_subquery()))  # in id order, as _learners gives

    def replace_blocking_keys(self, keys: Mapping[int, frozenset[str]]) -> None:
        if not keys:
            return
        self._c.execute(delete(KEYS).where(among(self._c, KEYS.c.learner_id, keys)))
        insert_key_rows(self._c, sorted((k, i) for i, learner_keys in keys.items() for k in learner_keys))

    def replace_term_counts(self, counts: Mapping[tuple[str, str], int]) -> None:
        self._c.execute(delete(FREQUENCY))
        rows = [{"field": f, "value": v, "count": n} for (f, v), n in sorted(counts.items()) if n]
        if rows:
            self._c.execute(insert(FREQUENCY), rows)

    def stored_request(self, principal: Principal, request_id: str) -> StoredRequest | None:
        row = self._c.execute(_STORED_REQUEST, {"org": principal.org_id, "request_id": request_id}).first()
        return None if row is None else StoredRequest(row.outcome, row.learner_id)

    # -- writes ----------------------------------------------------------------------------

    def store_request(
        self, principal: Principal, request_id: str, outcome: str, learner_id: int | None
    ) -> None:
        insert_rows(
            self._c,
            REQUESTS,
            ("organisation_id", "request_id", "outcome", "learner_id", "created_at"),
            [(principal.org_id, request_id, outcome, learner_id, datetime.now().astimezone())],
        )

    def insert_learners(
        self, principal: Principal, new: Sequence[tuple[str, NewLearner]], now: datetime
    ) -> list[Learner]:
        """Insert many learners (ULN, details) in a few statements; raises UlnTaken on a ULN clash."""
        if not new:
            return []
        ids = self._new_learner_ids(len(new))
        rows = [
            (
                learner_id,
                uln,
                *_identity_row(learner.identity),
                learner.post14_qualification,
                1,
                principal.org_id,
                now,
                now,
            )
            for learner_id, (uln, learner) in zip(ids, new, strict=True)
        ]
        try:
            insert_rows(self._c, LEARNER, _NEW_LEARNER_COLUMNS, rows)
        except IntegrityError as exc:
            if _is_uln_clash(exc):
                raise UlnTaken("a drawn ULN was taken meanwhile") from exc
            raise
        # In key order: consecutive inserts land on neighbouring pages of the (large) key index.
        insert_key_rows(
            self._c, sorted((k, i) for i, (_, n) in zip(ids, new, strict=True) for k in n.blocking_keys)
        )
        terms: dict[tuple[str, str], int] = {}
        for _, learner in new:
            for term in {**learner.frequency_terms, "*": "*"}.items():
                terms[term] = terms.get(term, 0) + 1
        self._add_counts(terms)
        return [
            Learner(id=i, uln=uln, identity=n.identity, version=1)
            for i, (uln, n) in zip(ids, new, strict=True)
        ]

    def _new_learner_ids(self, count: int) -> list[int]:
        """Ids for ``count`` new learners, taken before the insert so the rows can go in one
        executemany (which returns no ids). SQLite: after the largest, as SQLite itself would
        number them (writers are serialised: BEGIN IMMEDIATE); PostgreSQL: from the id sequence,
        which concurrent transactions share."""
        if is_sqlite(self._c.engine):
            largest = self._c.execute(_LARGEST_ID).scalar_one() or 0
            return list(range(largest + 1, largest + 1 + count))
        drawn = self._c.execute(_NEXT_LEARNER_IDS, {"count": count}).scalars().all()
        return list(drawn)

    def _add_counts(self, terms: Mapping[tuple[str, str], int]) -> None:
        """Add to many term counts in one upsert (INSERT ... ON CONFLICT DO UPDATE).

        An upsert, not update-then-insert: two transactions may meet a new name at once, and on
        PostgreSQL (where only the blocking keys are locked) both inserting it would collide.
        """
        if not terms:
            return
        self._c.execute(
            _ADD_COUNTS(self._c),
            [{"field": f, "value": v, "count": d} for (f, v), d in sorted(terms.items())],
        )

    def link_mis_many(self, principal: Principal, links: Mapping[str, MisLink]) -> None:
        """Set (organisation, MIS identifier) -> learner and details for many identifiers, in one upsert."""
        if not links:
            return
        now = datetime.now().astimezone()
        insert_rows(
            self._c,
            MIS,
            ("organisation_id", "mis_identifier", "learner_id", "details_hash", "updated_at"),
            [(principal.org_id, m, link.learner_id, link.details, now) for m, link in sorted(links.items())],
            upsert_on=("organisation_id", "mis_identifier"),
        )

    def record_decisions(
        self, principal: Principal, decisions: Sequence[tuple[int | None, str, str]], now: datetime
    ) -> None:
        """(learner id, outcome, explanation) for many registrations."""
        insert_rows(
            self._c,
            DECISIONS,
            ("organisation_id", "learner_id", "outcome", "explanation", "created_at"),
            [(principal.org_id, learner_id, outcome, text, now) for learner_id, outcome, text in decisions],
        )

    def update_learner(
        self,
        learner: Learner,
        identity: Identity,
        blocking_keys: frozenset[str],
        frequency_terms: Mapping[str, str],
        old_frequency_terms: Mapping[str, str],
        now: datetime,
    ) -> Learner:
        self._c.execute(
            update(LEARNER)
            .where(LEARNER.c.id == learner.id)
            .values(**_identity_values(identity), version=learner.version + 1, updated_at=now)
        )
        history = learner.previous_family_names
        if identity.family_name != learner.identity.family_name:
            self._c.execute(
                insert(HISTORY).values(
                    learner_id=learner.id, family_name=learner.identity.family_name, replaced_at=now
                )
            )
            history = (learner.identity.family_name, *history)
        self._c.execute(delete(KEYS).where(KEYS.c.learner_id == learner.id))
        self._add_keys(learner.id, blocking_keys)
        delta: dict[tuple[str, str], int] = {}
        for term in old_frequency_terms.items():
            delta[term] = delta.get(term, 0) - 1
        for term in frequency_terms.items():
            delta[term] = delta.get(term, 0) + 1
        self._add_counts({term: d for term, d in delta.items() if d})
        return Learner(learner.id, learner.uln, identity, learner.version + 1, history, learner.master_id)

    def _add_keys(self, learner_id: int, keys: Iterable[str]) -> None:
        insert_key_rows(self._c, [(key, learner_id) for key in sorted(set(keys))])

    def log_access(self, principal: Principal, records: Sequence[AccessRecord], now: datetime) -> None:
        """Append to the hash-chained access log (storage/audit.py); learners reading their own data
        are logged with no organisation."""
        organisation_id = None if principal.learner_id is not None else principal.org_id
        self._chain = audit.append(
            self._c,
            [
                audit.NewEntry(
                    r.learner_id, organisation_id, principal.kind.value, r.rpc, ",".join(r.fields), now
                )
                for r in records
            ],
            held=self._chain,
        )


_HISTORY_ORDER = (LEARNER.c.id, HISTORY.c.replaced_at.desc(), HISTORY.c.id.desc())
_LEARNER_BY_ULN = _LEARNER_WITH_HISTORY.where(LEARNER.c.uln == bindparam("uln")).order_by(*_HISTORY_ORDER)
_LEARNER_BY_ID = _LEARNER_WITH_HISTORY.where(LEARNER.c.id == bindparam("id")).order_by(*_HISTORY_ORDER)


def learners_where(where: Callable[[str], ColumnElement[bool]]) -> Callable[[Connection], Any]:
    """A prepared select of learners with their name history, for ``SqlTransaction._learners_from``,
    filtered by ``where(dialect)``."""
    return prepared(lambda dialect: _LEARNER_WITH_HISTORY.where(where(dialect)).order_by(*_HISTORY_ORDER))


_LEARNERS_BY_IDS = learners_where(lambda dialect: listed("ids", LEARNER.c.id, dialect))
_KEY_PAIRS = prepared(
    lambda dialect: select(KEYS.c.key, KEYS.c.learner_id).where(listed("keys", KEYS.c.key, dialect))
)
_CANDIDATES = prepared(
    lambda dialect: _CANDIDATE_WITH_HISTORY.where(listed("ids", LEARNER.c.id, dialect)).order_by(
        *_HISTORY_ORDER
    )
)
# A few keys' candidates with the keys they stand under: a row per (key, learner, previous name).
# The keys as one bound list (``listed``), not an expanding IN: SQLAlchemy rewrote the statement's
# SQL for every call's number of keys (~14 us of a registration's ~110 us fetch at 1M learners).
_KEYED_CANDIDATES = prepared(
    lambda dialect: (
        select(*_CANDIDATE_WITH_HISTORY.selected_columns, HISTORY.c.id.label("history_id"), KEYS.c.key)
        .select_from(
            KEYS.join(LEARNER, LEARNER.c.id == KEYS.c.learner_id).outerjoin(
                HISTORY, HISTORY.c.learner_id == LEARNER.c.id
            )
        )
        .where(listed("keys", KEYS.c.key, dialect))
        .order_by(*_HISTORY_ORDER)
    )
)


def _keyed_candidates(rows: Sequence[Any]) -> tuple[list[tuple[str, int]], list[tuple[Any, tuple[str, ...]]]]:
    """(key, learner id) pairs, and (first row, previous family names newest first) per learner in id
    order, from ``_KEYED_CANDIDATES``' rows (each previous name repeats once per key). By position
    (id first; name, its id and the key last): a Row's attribute access cost more than this loop."""
    pairs: dict[tuple[str, int], None] = {}
    firsts: dict[int, Any] = {}
    names: dict[int, dict[int, str]] = {}  # learner -> history id -> name, newest first
    for row in rows:
        learner_id = row[0]
        pairs[row[-1], learner_id] = None
        if learner_id not in firsts:
            firsts[learner_id] = row
        if (history_id := row[-2]) is not None:
            names.setdefault(learner_id, {}).setdefault(history_id, row[-3])
    found = [(first, tuple(names[i].values()) if i in names else ()) for i, first in firsts.items()]
    return list(pairs), found


_CHAIN_LINKS = prepared(
    lambda dialect: select(LEARNER.c.id, LEARNER.c.uln, LEARNER.c.master_id).where(
        listed("ids", LEARNER.c.id, dialect)
    )
)
_MIS_LINKS = prepared(
    lambda dialect: select(MIS.c.mis_identifier, MIS.c.learner_id, MIS.c.details_hash).where(
        MIS.c.organisation_id == bindparam("org"), listed("mis", MIS.c.mis_identifier, dialect)
    )
)
_ULNS_TAKEN = prepared(lambda dialect: select(LEARNER.c.uln).where(listed("ulns", LEARNER.c.uln, dialect)))
_STORED_REQUEST = select(REQUESTS.c.outcome, REQUESTS.c.learner_id).where(
    REQUESTS.c.organisation_id == bindparam("org"), REQUESTS.c.request_id == bindparam("request_id")
)
_LARGEST_ID = select(func.max(LEARNER.c.id))


def _add_counts_statement(dialect: str) -> Any:
    """Add to term counts: INSERT ... ON CONFLICT DO UPDATE (the same on SQLite and PostgreSQL)."""
    stmt = (sqlite_insert if dialect == "sqlite" else postgresql_insert)(FREQUENCY)
    return stmt.on_conflict_do_update(
        index_elements=[FREQUENCY.c.field, FREQUENCY.c.value],
        set_={"count": FREQUENCY.c.count + stmt.excluded.count},
    )


_ADD_COUNTS = prepared(_add_counts_statement)


def insert_key_rows(connection: Connection, rows: Sequence[tuple[str, int]]) -> None:
    """(key, learner id) rows, executemany straight to the driver: thousands of two-column rows a
    chunk need none of SQLAlchemy's per-row parameter processing."""
    insert_rows(connection, KEYS, ("key", "learner_id"), rows)


def _is_uln_clash(error: IntegrityError) -> bool:
    """The unique ULN index refused the row (SQLite: "UNIQUE constraint failed: learner.uln";
    PostgreSQL: constraint learner_uln_key). Any other integrity error is a fault, not a ULN to
    redraw: taking it for one hid a stale id sequence behind "could not draw unused ULNs"."""
    text = str(error.orig)
    return "learner.uln" in text or "learner_uln_key" in text


def _learner(row: Sequence[Any], history: tuple[str, ...]) -> Learner:
    learner_id, uln, version, master_id, *values = row
    values[_GENDER_AT] = Gender(values[_GENDER_AT])
    return Learner(learner_id, uln, Identity(*values), version, history, master_id)


T = TypeVar("T", bound=SqlTransaction)

# PostgreSQL keeps advisory locks in a shared table of about max_locks_per_transaction (64) x
# max_connections slots for the whole server: a 1,000-row chunk's ~9,000 key locks ran it out
# ("out of shared memory") as soon as two batches overlapped.
MAX_KEY_LOCKS = 64
_REGISTRY_LOCK = _lock_id("lrs:registry")
_LOCK_REGISTRY = text("SELECT pg_advisory_xact_lock(:lock)")
# One round trip: the registry's shared lock first (the CTE runs before any joined row is made, and
# so before the select list takes a key lock), then the key locks in the array's order.
_SHARE_REGISTRY_LOCK_KEYS = text(
    "WITH registry AS MATERIALIZED (SELECT pg_advisory_xact_lock_shared(:lock) AS taken) "
    "SELECT pg_advisory_xact_lock(k) FROM registry, unnest(CAST(:locks AS bigint[])) AS k"
)


def _lock_keys(connection: Connection, lock_keys: Iterable[str]) -> None:
    """Serialise this transaction against every other that shares one of ``lock_keys``.

    Two registrations of one person share at least one blocking key. A transaction with a few keys
    (one registration) takes the registry lock shared, then each key's lock, in a fixed order (no
    deadlock; one statement: unnest yields the sorted array in order); one with many (a batch
    chunk) takes the registry lock alone, exclusively, which excludes every keyed transaction.
    """
    locks = sorted({_lock_id(k) for k in lock_keys})
    if not locks:
        return
    if len(locks) > MAX_KEY_LOCKS:
        connection.execute(_LOCK_REGISTRY, {"lock": _REGISTRY_LOCK})
        return
    connection.execute(_SHARE_REGISTRY_LOCK_KEYS, {"lock": _REGISTRY_LOCK, "locks": locks}).all()


class SqlStore(Generic[T]):
    """Transactions of kind ``T`` on an engine: writers serialised on lock keys, readers not."""

    def __init__(self, engine: Engine, transaction: Callable[[Connection], T]) -> None:
        self._engine = engine
        # The same pool; its connections begin with SQLite's write lock (storage/engine.py).
        self._writer = engine.execution_options(sqlite_immediate=True)
        self._transaction = transaction

    @contextmanager
    def write(self, lock_keys: Iterable[str]) -> Iterator[T]:
        with self._writer.connect() as connection, connection.begin():
            if not is_sqlite(self._engine):
                _lock_keys(connection, lock_keys)
            yield self._transaction(connection)

    @contextmanager
    def read(self) -> Iterator[T]:
        with self._engine.connect() as connection, connection.begin():
            yield self._transaction(connection)


class SqlLearnerStore(SqlStore[SqlTransaction]):
    """Implements ``domain.ports.LearnerStore`` on a SQLAlchemy engine."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine, SqlTransaction)
