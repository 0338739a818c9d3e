"""AbilityToShare in a school's file reaches the server as the learner's sharing choice; a value the
client does not understand stops that row (never a silent "no choice")."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from lrs.v1 import learner_pb2 as pb
from school_client.batch import ABILITY_TO_SHARE_INVALID, register_file, row_request, sharing_problem
from school_client.connection import Client
from school_client.files import LearnerRow
from school_client.files.generate import generate_learners
from school_client.messages import SHARING_CHOICES
from tests.batch.conftest import learner_count, read_results
from tests.batch.test_idempotent import school, write_file  # noqa: F401  (the school fixture)
from tests.service.conftest import Api


def test_each_ability_to_share_value_is_sent() -> None:
    sent = {
        value: row_request(
            0, LearnerRow(line_number=2, mis_identifier="M1", ability_to_share=value)
        ).ability_to_share
        for value in ("", "not-seen", "share", "do-not-share")
    }
    assert sent == {
        "": pb.SHARING_CHOICE_UNSPECIFIED,
        "not-seen": pb.SHARING_CHOICE_NOT_SEEN,
        "share": pb.SHARING_CHOICE_SHARE,
        "do-not-share": pb.SHARING_CHOICE_DO_NOT_SHARE,
    }


@given(st.text(max_size=12).map(str.strip))
def test_only_understood_values_pass(value: str) -> None:
    problem = sharing_problem(LearnerRow(line_number=7, mis_identifier="M7", ability_to_share=value))
    if value == "" or value in SHARING_CHOICES:
        assert problem is None
    else:
        assert problem is not None
        assert (problem.line_number, problem.mis_identifier, problem.reason) == (
            7,
            "M7",
            ABILITY_TO_SHARE_INVALID,
        )
        assert repr(value) in problem.message


def test_a_row_with_an_unknown_ability_to_share_is_reported_and_not_registered(
    api: Api,
    school: Client,  # noqa: F811
    tmp_path: Path,
) -> None:
    rows = list(generate_learners(3, seed=5))
    rows[1] = dataclasses.replace(rows[1], ability_to_share="Do not shar")  # a typo in the spreadsheet
    source = write_file(tmp_path / "in.csv", rows)
    results = tmp_path / "results.csv"
    register_file(school, source, results, show_progress=False)
    got = read_results(results)
    assert [r["Outcome"] for r in got] == ["NEW", "REJECTED", "NEW"]
    assert got[1]["MISIdentifier"] == rows[1].mis_identifier
    assert got[1]["Reason"] == ABILITY_TO_SHARE_INVALID and got[1]["ULN"] == ""
    assert learner_count(api.engine) == 2
