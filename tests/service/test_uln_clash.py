"""Only a clash on the ULN index means "draw another ULN"; any other integrity error is a fault."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from lrs_server.domain.model import Gender, Identity, OrgKind, Principal
from lrs_server.domain.ports import NewLearner, UlnTaken
from lrs_server.storage.engine import is_sqlite
from lrs_server.storage.learners import SqlLearnerStore
from lrs_server.storage.organisations import OrganisationStore

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def _new(given: str) -> NewLearner:
    identity = Identity(given, "Okafor", date(2011, 3, 14), Gender.FEMALE, "SW1A 1AA")
    return NewLearner(identity, False, frozenset({f"key-{given}"}), {})


@pytest.fixture
def school(engine: Engine) -> Principal:
    organisations = OrganisationStore(engine)
    principal = organisations.principal_for_token(organisations.add(OrgKind.SCHOOL, "100001", "S").token)
    assert principal is not None
    return principal


def test_a_uln_held_already_is_uln_taken(engine: Engine, school: Principal) -> None:
    store = SqlLearnerStore(engine)
    with store.write(()) as tx:
        tx.insert_learners(school, [("1000000043", _new("Amara"))], NOW)
    with pytest.raises(UlnTaken), store.write(()) as tx:
        tx.insert_learners(school, [("1000000043", _new("Bola"))], NOW)


def test_another_integrity_error_is_not_taken_for_a_uln_clash(engine: Engine, school: Principal) -> None:
    if is_sqlite(engine):
        pytest.skip("a PostgreSQL id sequence left behind its table (as a bulk load can leave it)")
    store = SqlLearnerStore(engine)
    with store.write(()) as tx:
        tx.insert_learners(school, [("1000000043", _new("Amara"))], NOW)
    with engine.begin() as c:
        c.execute(text("SELECT setval(pg_get_serial_sequence('learner', 'id'), 1, false)"))
    with pytest.raises(IntegrityError) as raised, store.write(()) as tx:
        tx.insert_learners(school, [("1000000051", _new("Bola"))], NOW)
    assert not isinstance(raised.value, UlnTaken)
