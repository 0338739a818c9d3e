"""PostgreSQL write locks: a registration locks its blocking keys; a batch chunk locks the registry.

(SQLite serialises every writer with BEGIN IMMEDIATE; these tests are for PostgreSQL.)
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import Engine, text

from lrs_server.storage.engine import is_sqlite
from lrs_server.storage.learners import MAX_KEY_LOCKS, SqlLearnerStore, SqlTransaction

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
    registering, chunk_started = threading.Event(), threading.Event()

    def registration() -> None:
        with store.write(["only-this-key"]):
            registering.set()
            time.sleep(0.5)
            order.append("registration done")

    def chunk() -> None:
        registering.wait(timeout=10)
        chunk_started.set()
        with store.write([f"other-{k}" for k in range(MAX_KEY_LOCKS + 1)]):
            order.append("chunk in")
            time.sleep(0.5)
        order.append("chunk done")

    def late_registration() -> None:
        chunk_started.wait(timeout=10)
        time.sleep(0.7)  # the chunk holds the registry by now
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
