"""bench.preload on both backends, and one after the other in one process (it keeps per-dialect
state in module globals, set before its workers fork)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from bench.preload import preload
from lrs_server.domain.model import learner_record
from lrs_server.storage.engine import make_engine
from lrs_server.storage.learners import FREQUENCY, KEYS, LEARNER, SqlLearnerStore
from matching import default_matcher


def test_a_preload_after_one_on_sqlite_loads_the_learners(db_url: str, tmp_path: Path) -> None:
    first = make_engine(f"sqlite:///{tmp_path / 'first.sqlite3'}")
    preload(first, 4, seed=1, workers=1)
    first.dispose()
    engine = make_engine(db_url)
    try:
        preload(engine, 6, seed=2, workers=1)
        with engine.connect() as connection:
            assert connection.execute(select(func.count()).select_from(LEARNER)).scalar_one() == 6
            total = select(FREQUENCY.c.count).where(FREQUENCY.c.field == "*", FREQUENCY.c.value == "*")
            assert connection.execute(total).scalar_one() == 6
    finally:
        engine.dispose()


def test_every_learner_gets_the_keys_the_server_computes_and_no_staging_file_is_left(
    db_url: str, tmp_path: Path
) -> None:
    engine = make_engine(db_url)
    try:
        preload(engine, 5, seed=3, workers=1)
        matcher = default_matcher()
        with SqlLearnerStore(engine).read() as tx:
            learners = tx.learners_by_ids(range(1, 6))
        with engine.connect() as connection:
            stored = connection.execute(select(KEYS.c.learner_id, KEYS.c.key)).all()
        by_learner: dict[int, set[str]] = {}
        for learner_id, key in stored:
            by_learner.setdefault(learner_id, set()).add(key)
        assert len(learners) == 5
        for learner in learners:
            assert by_learner[learner.id] == set(matcher.blocking_keys(learner_record(learner)))
    finally:
        engine.dispose()
    assert list(tmp_path.glob("*staging*")) == []
