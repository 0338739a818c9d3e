"""Planner statistics: gathered where PostgreSQL needs them (after a bulk change) and the operator
warned when nothing will gather them. Without them PostgreSQL scans the whole key table per chunk."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import Engine, text

from lrs_server import app
from lrs_server.storage.engine import is_sqlite, refresh_statistics, statistics_warning
from tests.service.test_rekey import registry  # noqa: F401  (fixture: five learners with old keys)


def _has_key_statistics(engine: Engine) -> bool:
    if is_sqlite(engine):
        query = "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'"
    else:
        query = "SELECT count(*) FROM pg_stats WHERE tablename = 'learner_blocking_key' AND attname = 'key'"
    with engine.connect() as c:
        return bool(c.execute(text(query)).scalar())


@pytest.mark.usefixtures("registry")
def test_refresh_statistics_gathers_postgres_statistics_and_leaves_sqlite_as_measured(engine: Engine) -> None:
    assert not _has_key_statistics(engine)
    refresh_statistics(engine)
    assert _has_key_statistics(engine) is (not is_sqlite(engine))


@pytest.mark.usefixtures("registry")
def test_rekey_command_leaves_the_replaced_keys_analysed(engine: Engine, db_url: str) -> None:
    assert app.main(["rekey", "--db", db_url]) == 0
    assert _has_key_statistics(engine) is (not is_sqlite(engine))


def test_the_operator_is_warned_when_postgres_autovacuum_is_off(
    engine: Engine, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    if is_sqlite(engine):
        off = False
    else:
        with engine.connect() as c:
            off = c.execute(text("SHOW autovacuum")).scalar_one() == "off"
    with caplog.at_level(logging.WARNING, logger="lrs_server"):
        assert app.main(["audit", "verify", "--db", db_url]) == 0
    warned = [r.getMessage() for r in caplog.records if "autovacuum is off" in r.getMessage()]
    assert bool(warned) is off
    assert (statistics_warning(engine) is not None) is off
