"""``among``: IN with one bound parameter however many values (json_each on SQLite, ANY on PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, insert, select

from lrs_server.domain.model import OrgKind
from lrs_server.storage.learners import KEYS, LEARNER, among
from lrs_server.storage.organisations import OrganisationStore

STORED = [f"key-{n:04d}" for n in range(0, 600, 3)]  # every third key exists


@pytest.fixture
def keyed(engine: Engine) -> Engine:
    OrganisationStore(engine).add(OrgKind.SCHOOL, "100001", "S")
    with engine.begin() as c:
        c.execute(
            insert(LEARNER).values(
                id=7,
                uln="1000000043",
                given_name="Amara",
                family_name="Okafor",
                date_of_birth=date(2011, 3, 14),
                gender="female",
                postcode="SW1A 1AA",
                version=1,
                post14_qualification=False,
                created_by=1,
                created_at=datetime.now(UTC),
                updated_at=datetime.now(UTC),
            )
        )
        c.execute(insert(KEYS), [{"key": k, "learner_id": 7} for k in STORED])
    return engine


@pytest.mark.parametrize("size", [0, 1, 31, 32, 33, 600])
def test_among_finds_what_in_finds(keyed: Engine, size: int) -> None:
    wanted = {f"key-{n:04d}" for n in range(size)}
    with keyed.connect() as c:
        found = set(c.execute(select(KEYS.c.key).where(among(c, KEYS.c.key, wanted))).scalars())
        plain = set(c.execute(select(KEYS.c.key).where(KEYS.c.key.in_(wanted))).scalars())
        ids = set(
            c.execute(
                select(LEARNER.c.id).where(among(c, LEARNER.c.id, [7, *range(100, 100 + size)]))
            ).scalars()
        )
    assert found == plain == {k for k in STORED if k in wanted}
    assert ids == {7}
