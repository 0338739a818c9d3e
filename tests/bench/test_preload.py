"""bench.preload on both backends, and one after the other in one process (it keeps per-dialect
state in module globals, set before its workers fork)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from bench.preload import preload
from lrs_server.storage.engine import make_engine
from lrs_server.storage.learners import FREQUENCY, LEARNER


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
