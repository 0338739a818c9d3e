"""bench.single_calls, tiny: every kind of call answered as the benchmark expects, through a real
server on a scratch register, with its CPU read and a batch file registered in the same run."""

from __future__ import annotations

import pytest

from bench import single_calls
from tests.conftest import POSTGRES_URL

BATCH_ROWS = 300
EXPECTED = {
    "Health.Check": {"SERVING"},
    "VerifyLearner": {"VERIFIED"},
    "FindLearnerByUln": {"FOUND"},
    "FindLearnerByDemographics": {"EXACT_MATCH"},
    "GetLearnerRecord": {"FOUND"},
    "RegisterLearner (known)": {"MATCHED"},
    "RegisterLearner (new)": {"NEW", "POSSIBLE_MATCH"},
}


@pytest.mark.parametrize("postgres", ["", *([POSTGRES_URL] if POSTGRES_URL else [])])
def test_a_tiny_run_measures_every_kind_of_call(postgres: str) -> None:
    # The kernel counts a process's CPU in 10 ms ticks: 30 rows (~10 ms) read 0 now and then, so
    # the batch is large enough to take several ticks on any machine here.
    report = single_calls.run(
        learners=200, calls=6, batch_rows=BATCH_ROWS, rounds=2, warmup=2, postgres=postgres
    )
    assert report["database"] == ("postgresql" if postgres else "sqlite")
    assert set(report["kinds"]) == set(EXPECTED)
    for name, kind in report["kinds"].items():
        outcomes = kind["outcomes"]
        assert sum(outcomes.values()) == 12, (name, outcomes)
        assert set(outcomes) <= EXPECTED[name], (name, outcomes)
        assert len(kind["server_cpu_ms_rounds"]) == 2
        assert kind["server_cpu_ms"] >= 0 and kind["wall_ms"] > 0
    assert report["kinds"]["RegisterLearner (new)"]["outcomes"].get("NEW", 0) >= 10
    assert sum(report["batch_outcomes"].values()) == BATCH_ROWS
    assert report["batch_server_cpu_ms_per_row"] > 0
