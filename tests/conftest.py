"""Shared fixtures: a real database (SQLite always, PostgreSQL when LRS_TEST_POSTGRES_URL is set)
and a real gRPC server on a free port."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from lrs_server.storage import migrate
from lrs_server.storage.engine import make_engine

POSTGRES_URL = os.environ.get("LRS_TEST_POSTGRES_URL", "")
TODAY = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
BACKENDS = ["sqlite", *(["postgresql"] if POSTGRES_URL else [])]


def _postgres_scratch() -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    admin_url = make_url(POSTGRES_URL)
    name = f"lrs_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'lrs.sqlite3'}"
    else:
        yield from _postgres_scratch()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()
