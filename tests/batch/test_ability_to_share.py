"""AbilityToShare in a school's file reaches the server as the learner's sharing choice."""

from __future__ import annotations

from lrs.v1 import learner_pb2 as pb
from school_client.batch import row_request
from school_client.files import LearnerRow


def test_each_ability_to_share_value_is_sent() -> None:
    sent = {
        value: row_request(
            0, LearnerRow(line_number=2, mis_identifier="M1", ability_to_share=value)
        ).ability_to_share
        for value in ("", "not-seen", "share", "do-not-share", "garbage")
    }
    assert sent == {
        "": pb.SHARING_CHOICE_UNSPECIFIED,
        "not-seen": pb.SHARING_CHOICE_NOT_SEEN,
        "share": pb.SHARING_CHOICE_SHARE,
        "do-not-share": pb.SHARING_CHOICE_DO_NOT_SHARE,
        "garbage": pb.SHARING_CHOICE_UNSPECIFIED,
    }
