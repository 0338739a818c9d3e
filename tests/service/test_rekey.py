"""``lrs-server rekey``: every learner's stored blocking keys and the term counts recomputed, in pages,
repeatably."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, delete, insert, select

from lrs_server import app
from lrs_server.domain.model import Gender, Identity, OrgKind, Principal, learner_record
from lrs_server.domain.ports import NewLearner
from lrs_server.domain.rekey import rekey_all
from lrs_server.storage.learners import FREQUENCY, KEYS, SqlLearnerStore
from lrs_server.storage.organisations import OrganisationStore
from matching import default_matcher

NOW = datetime(2026, 11, 1, tzinfo=UTC)
PEOPLE = [
    ("Amara", "Okafor", "SW1A 1AA", "London"),
    ("Bilal", "Shah", "M4 7RH", "Manchester"),
    ("Chloe", "Davies", "CF10 1AA", "Cardiff"),
    ("Dylan", "Evans", "LS1 4AP", "Leeds"),
    ("Ewa", "Wójcik", "B1 1AA", "Birmingham"),
]


def _stored_keys(engine: Engine) -> dict[int, set[str]]:
    stored: dict[int, set[str]] = {}
    with engine.connect() as c:
        for key, learner_id in c.execute(select(KEYS.c.key, KEYS.c.learner_id)):
            stored.setdefault(learner_id, set()).add(key)
    return stored


@pytest.fixture
def registry(engine: Engine) -> dict[int, frozenset[str]]:
    """Five learners whose stored keys are out of date (an old key set): id -> the keys they should have."""
    issued = OrganisationStore(engine).add(OrgKind.SCHOOL, "100001", "School")
    principal = OrganisationStore(engine).principal_for_token(issued.token)
    assert isinstance(principal, Principal)
    matcher = default_matcher()
    store = SqlLearnerStore(engine)
    with store.write(()) as tx:
        new = []
        for n, (given, family, postcode, town) in enumerate(PEOPLE):
            born = datetime(2010, 1, 1 + n).date()
            identity = Identity(given, family, born, Gender.FEMALE, postcode, town=town)
            new.append((f"10000000{n:02d}", NewLearner(identity, False, frozenset({f"old-{n}"}), {})))
        learners = tx.insert_learners(principal, new, NOW)
    with engine.begin() as c:  # and one learner with no keys at all
        c.execute(delete(KEYS).where(KEYS.c.learner_id == learners[0].id))
        c.execute(insert(KEYS).values(key="old-shared", learner_id=learners[1].id))
    return {lr.id: matcher.blocking_keys(learner_record(lr)) for lr in learners}


def test_rekey_replaces_every_learners_keys_page_by_page(
    engine: Engine, registry: dict[int, frozenset[str]]
) -> None:
    pages: list[int] = []
    assert rekey_all(SqlLearnerStore(engine), default_matcher(), page=2, progress=pages.append) == 5
    assert pages == [2, 4, 5]
    assert _stored_keys(engine) == {i: set(keys) for i, keys in registry.items()}
    # Run again (after an interruption, say): the same keys, nothing doubled.
    assert rekey_all(SqlLearnerStore(engine), default_matcher(), page=3) == 5
    assert _stored_keys(engine) == {i: set(keys) for i, keys in registry.items()}


def test_rekey_command(
    engine: Engine, db_url: str, registry: dict[int, frozenset[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert app.main(["rekey", "--db", db_url]) == 0
    assert "re-keyed 5 learners" in capsys.readouterr().out
    assert _stored_keys(engine) == {i: set(keys) for i, keys in registry.items()}


def _stored_counts(engine: Engine) -> dict[tuple[str, str], int]:
    with engine.connect() as c:
        rows = c.execute(select(FREQUENCY.c.field, FREQUENCY.c.value, FREQUENCY.c.count)).all()
    return {(field, value): count for field, value, count in rows}


def test_rekey_recounts_the_terms_and_a_pass_stopped_part_way_leaves_the_old_counts(
    engine: Engine, registry: dict[int, frozenset[str]]
) -> None:
    """The five learners were stored without their term counts (as under a matcher that counted
    fewer terms): the pass counts each learner's names, district and town once, total included."""
    matcher = default_matcher()
    store = SqlLearnerStore(engine)
    with store.read() as tx:
        learners = tx.learners_after(0, 10)
    expected = Counter(t for lr in learners for t in matcher.frequency_terms(learner_record(lr)).items())
    expected[("*", "*")] = 5
    assert {field for field, _ in expected} >= {"given_name", "family_name", "postcode_district", "town"}
    before = _stored_counts(engine)
    assert before == {("*", "*"): 5}

    def stop(done: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        rekey_all(store, matcher, page=2, progress=stop)
    assert _stored_counts(engine) == before
    rekey_all(store, matcher, page=2)
    assert _stored_counts(engine) == expected
    rekey_all(store, matcher, page=3)  # again: the same counts, nothing doubled
    assert _stored_counts(engine) == expected
