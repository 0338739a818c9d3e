"""bench.replicas: its checks catch what they claim to (against a real register), and one tiny run
with its faults (a scratch PostgreSQL cluster restarted, a replica SIGKILLed) keeps every invariant."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from bench import replicas
from bench.preload import preload
from bench.replicas import Batch, Options, Person, Tally
from bench.scratch_postgres import server_binaries
from lrs_server.storage.learners import LEARNER


def _people(engine: Engine, db_url: str) -> list[Person]:
    preload(engine, 3, seed=5)
    known, first_new = replicas._known(db_url, 3, seed=5)
    assert first_new == 4 and len(known) == 3
    return known


def _no_batch(tmp_path: Path) -> Batch:
    return Batch("", "", tmp_path, rows_per_file=10, seed=1)  # sent no file


def test_the_checks_pass_a_consistent_run(engine: Engine, db_url: str, tmp_path: Path) -> None:
    a, b, _ = _people(engine, db_url)
    tally = Tally()
    tally.registrations += [
        ("RegisterLearner known", f"K{a.uln}", a, "MATCHED", a.uln),
        ("RegisterLearner known", f"K{b.uln}", b, "POSSIBLE_MATCH", ""),
    ]
    tally.attempts.update({("VerifyLearner", "OK"): 3, ("VerifyLearner", "UNAVAILABLE"): 2})
    checks = replicas.check(db_url, 4, tally, _no_batch(tmp_path))
    assert checks.ok, checks


def test_the_checks_catch_two_ulns_a_wrong_learner_a_lost_write_and_internal(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    a, b, c = _people(engine, db_url)
    as_new = Person(c.given_name, c.family_name, c.date_of_birth, c.gender, c.postcode)
    tally = Tally()
    tally.registrations += [
        ("RegisterLearner known", f"K{a.uln}", a, "MATCHED", b.uln),  # another learner's ULN
        ("RegisterLearner new", "N0-0", as_new, "NEW", c.uln),
        ("RegisterLearner new", "N0-0", as_new, "MATCHED", "9999999999"),  # a second, unknown ULN
    ]
    tally.attempts[("GetLearnerRecord", "INTERNAL")] += 1
    checks = replicas.check(db_url, 1, tally, _no_batch(tmp_path))
    assert checks.failures() == {
        "people_with_two_ulns": 1,
        "ulns_of_two_people": 1,
        "lost_acknowledged_writes": 1,
        "internal": 1,
    }


def test_the_checks_catch_a_person_held_twice_and_a_uln_given_to_two_people(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    a, b, _ = _people(engine, db_url)
    with engine.begin() as connection:  # b registered again as a new learner: one person, two rows
        row = connection.execute(select(LEARNER).where(LEARNER.c.uln == b.uln)).mappings().one()
        connection.execute(LEARNER.insert().values({**row, "id": 10, "uln": "9999999996"}))
    b_new = Person(b.given_name, b.family_name, b.date_of_birth, b.gender, b.postcode)
    a_new = Person(a.given_name, a.family_name, a.date_of_birth, a.gender, a.postcode)
    tally = Tally()
    tally.registrations += [
        ("RegisterLearner new", "N0-0", b_new, "NEW", "9999999996"),
        ("RegisterLearner new", "N1-0", a_new, "MATCHED", "9999999996"),  # b's ULN answered for a
    ]
    checks = replicas.check(db_url, 1, tally, _no_batch(tmp_path))
    assert len(checks.two_ulns) == 1 and "2 learners" in checks.two_ulns[0]
    assert len(checks.shared_ulns) == 2  # a's answer is b's learner, and one ULN for N0-0 and N1-0
    assert not checks.lost and not checks.internal


def test_back_after_is_the_first_full_second_after_postgres_returns() -> None:
    tally = Tally()
    # 10 calls a second for 5 s, nothing for 2 s (PostgreSQL down), then 5 a second, then 10 again.
    ends = [s + i / 10 for s in range(5) for i in range(10)]
    ends += [7 + i / 5 for i in range(5)] + [8 + i / 10 for i in range(1, 21)]
    tally.done += [("VerifyLearner", at, 0.01) for at in ends]
    assert replicas.per_second(tally, 0.0, 10.0)[:8] == [10, 10, 10, 10, 10, 0, 0, 5]
    back = replicas.back_after(tally, 0.0, 5.0, 7.0, 10.0)
    assert back == pytest.approx(0.7, abs=0.05)  # (7.7 s, 8.7 s] holds 8 calls: 80 % of 10 a second
    assert replicas.back_after(tally, 0.0, 5.0, 9.5, 10.0) is None  # no whole second left after it


@pytest.mark.skipif(server_binaries() is None, reason="no PostgreSQL server binaries (initdb)")
def test_a_tiny_run_with_faults_keeps_every_invariant() -> None:
    options = Options(
        replicas=2,
        workers=1,
        clients=6,
        client_processes=2,
        seconds=14,
        raw_seconds=1,
        learners=300,
        batch_rows=60,
        faults=True,
    )
    report = replicas.run(options)
    assert report["checks"] == {
        "people_with_two_ulns": 0,
        "ulns_of_two_people": 0,
        "lost_acknowledged_writes": 0,
        "internal": 0,
    }
    assert report["ok"]
    assert set(replicas.MIX) <= set(report["calls"])
    assert all(report["calls"][name]["calls"] > 0 for name in replicas.MIX)
    assert report["raw_grpc_unary"]["per_second"] > 0
    batch = report["batch"]
    assert batch["files"] >= 1 and batch["rows_answered_with_uln"] >= batch["files"] * 50  # 60 a file
    faults = report["faults"]
    assert faults["replica_killed"] < faults["replica_back"] <= faults["postgres_restarting"]
    assert faults["postgres_restarting"] < faults["postgres_back"] < options.seconds
    assert not report["gave_up"], report["gave_up"]  # every call got through, retried
    assert len(report["per_second"]) == int(options.seconds)
