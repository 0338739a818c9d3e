"""bench.blind_set: a small run through a real server and the real ``lrs-school`` CLI scores every
category, and what it scores follows from the files it wrote."""

from __future__ import annotations

import json

import pytest

from bench import blind_set


def test_a_small_run_scores_every_category_through_the_real_path(capsys: pytest.CaptureFixture[str]) -> None:
    blind_set.main(["run", "--people", "300", "--seed", "3", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert report["rows_a"] == 300 and report["rows_b"] > 0
    assert sum(report["outcomes"]["A"].values()) == report["rows_a"]
    assert sum(report["outcomes"]["B"].values()) == report["rows_b"]
    # An exact copy of a registered pupil, sent by another school, finds the pupil's ULN.
    exact = report["reregistered"]["exact copy"]
    assert exact["rows"] > 0 and exact.get("matched", 0) == exact["rows"]
    # A parent with the pupil's name at the pupil's address is a new learner.
    parent = report["never_held"]["B new: parent, same name and address"]
    assert parent["rows"] > 0 and parent.get("new", 0) == parent["rows"]
    # A blank postcode is the server's FIELD_REQUIRED, each row reported and the rest registered.
    assert (
        report["outcomes"]["B"]["REJECTED"] == report["reregistered"]["postcode blank, same address"]["rows"]
    )
    assert report["false_merges"] == []
