"""PostgreSQL write locks: a registration locks its blocking keys; a batch chunk locks the registry.

(SQLite serialises every writer with BEGIN IMMEDIATE; these tests are for PostgreSQL.)
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, text

from lrs_server.domain.clock import Clock
from lrs_server.domain.model import Gender, Identity, OrgKind, person_record
from lrs_server.domain.record_ports import NewReviewItem
from lrs_server.domain.review import ReviewService
from lrs_server.privacy import Disclosure
from lrs_server.storage.engine import is_sqlite
from lrs_server.storage.learners import MAX_KEY_LOCKS, SqlLearnerStore, SqlTransaction
from lrs_server.storage.organisations import OrganisationStore
from lrs_server.storage.records import SqlRecordStore
from matching import default_matcher

_HELD = text(
    "SELECT mode, count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() GROUP BY mode"
)


@pytest.fixture
def store(engine: Engine) -> SqlLearnerStore:
    if is_sqlite(engine):
        pytest.skip("PostgreSQL advisory locks")
    return SqlLearnerStore(engine)


def _held(tx: SqlTransaction) -> dict[str, int]:
    return {mode: count for mode, count in tx._c.execute(_HELD)}


def test_a_registration_locks_its_keys_and_shares_the_registry(store: SqlLearnerStore) -> None:
    with store.write([f"k{n}" for n in range(9)]) as tx:
        assert _held(tx) == {"ExclusiveLock": 9, "ShareLock": 1}


def test_a_chunk_locks_the_registry_alone_however_many_keys(store: SqlLearnerStore) -> None:
    with store.write([f"k{n}" for n in range(9_000)]) as tx:
        assert _held(tx) == {"ExclusiveLock": 1}


def test_three_chunks_at_once_do_not_run_out_of_lock_slots(store: SqlLearnerStore) -> None:
    """Before: 9,000 key locks a chunk, and overlapping chunks failed with 'out of shared memory'."""
    errors: list[BaseException] = []

    def chunk(n: int) -> None:
        try:
            with store.write([f"c{n}-{k}" for k in range(9_000)]):
                time.sleep(0.1)
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=chunk, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors


def test_a_chunk_waits_for_a_registration_and_a_registration_for_a_chunk(store: SqlLearnerStore) -> None:
    order: list[str] = []
    registering, chunk_asking, chunk_in = threading.Event(), threading.Event(), threading.Event()

    def registration() -> None:
        with store.write(["only-this-key"]):
            registering.set()
            chunk_asking.wait(timeout=10)
            time.sleep(0.3)  # the chunk is asking for the registry meanwhile
            order.append("registration done")

    def chunk() -> None:
        registering.wait(timeout=10)
        chunk_asking.set()
        with store.write([f"other-{k}" for k in range(MAX_KEY_LOCKS + 1)]):
            order.append("chunk in")
            chunk_in.set()
            time.sleep(0.3)
            order.append("chunk done")

    def late_registration() -> None:
        chunk_in.wait(timeout=10)
        with store.write(["unrelated-key"]):
            order.append("late registration in")

    threads = [threading.Thread(target=f) for f in (registration, chunk, late_registration)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # The chunk shares no key with either registration, yet it waited for the first and the second
    # waited for it.
    assert order == ["registration done", "chunk in", "chunk done", "late registration in"]


def test_issuing_a_uln_from_the_review_queue_waits_for_a_registration_of_that_person(engine: Engine) -> None:
    """Resolving a review item as a new learner is a registration: it takes the person's key locks."""
    if is_sqlite(engine):
        pytest.skip("PostgreSQL advisory locks")
    organisations = OrganisationStore(engine)
    school = organisations.principal_for_token(organisations.add(OrgKind.SCHOOL, "100001", "S").token)
    admin = organisations.principal_for_token(organisations.add(OrgKind.ADMIN, "ADMIN001", "A").token)
    assert school is not None and admin is not None
    identity = Identity("Amara", "Okafor", date(2011, 3, 14), Gender.FEMALE, "SW1A 1AA")
    store = SqlRecordStore(engine)
    with store.write(()) as tx:
        tx.add_review_items(school.org_id, [NewReviewItem("MIS-1", False, identity, ())], datetime.now(UTC))
        (item,) = tx.open_review_items(0, 10)
    matcher = default_matcher()
    review = ReviewService(store, matcher, Clock(), Disclosure())
    order: list[str] = []
    registering = threading.Event()

    def registration() -> None:
        with store.write(matcher.blocking_keys(person_record(identity))):
            registering.set()
            time.sleep(0.5)
            order.append("registration done")

    def resolve() -> None:
        registering.wait(timeout=10)
        review.resolve(admin, item.id, "", "a different person")
        order.append("review resolved")

    threads = [threading.Thread(target=f) for f in (registration, resolve)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert order == ["registration done", "review resolved"]
