"""school_client.achievements: rows to requests, and a results file submitted, resumed and checked
against an in-process server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import grpc
import pytest

from lrs.v1 import record_service_pb2 as rec_pb
from lrs_server.domain.model import OrgKind
from school_client import achievements
from school_client.batch import ResultsMismatch
from school_client.connection import Client, ConnectionSettings
from school_client.files import AchievementRow
from tests.records.conftest import records
from tests.service.conftest import Api
from tests.service.factories import register_new

SAMPLE = Path(__file__).parent.parent / "data" / "achievements_sample.csv"


@pytest.mark.parametrize(
    ("written", "kind"),
    [
        ("GCSE", rec_pb.ACHIEVEMENT_KIND_GCSE),
        ("gcse", rec_pb.ACHIEVEMENT_KIND_GCSE),
        ("A Level", rec_pb.ACHIEVEMENT_KIND_A_LEVEL),
        ("GCE A-level", rec_pb.ACHIEVEMENT_KIND_A_LEVEL),
        ("AS", rec_pb.ACHIEVEMENT_KIND_AS_LEVEL),
        ("BTEC", rec_pb.ACHIEVEMENT_KIND_VOCATIONAL),
        ("T Level", rec_pb.ACHIEVEMENT_KIND_VOCATIONAL),
        ("KS2", rec_pb.ACHIEVEMENT_KIND_KEY_STAGE_2),
        ("Key Stage 4", rec_pb.ACHIEVEMENT_KIND_KEY_STAGE_4),
        ("Functional Skills", rec_pb.ACHIEVEMENT_KIND_OTHER),
        ("", rec_pb.ACHIEVEMENT_KIND_UNSPECIFIED),  # the server rejects the row, naming the field
    ],
)
def test_qualification_types(written: str, kind: int) -> None:
    assert achievements.kind_of(written) == kind


def test_statuses() -> None:
    assert achievements.status_of(" Final ") == rec_pb.ACHIEVEMENT_STATUS_FINAL
    assert achievements.status_of("provisional") == rec_pb.ACHIEVEMENT_STATUS_PROVISIONAL
    assert achievements.status_of("F") == rec_pb.ACHIEVEMENT_STATUS_FINAL  # CTF ResultStatus
    assert achievements.status_of("maybe") == rec_pb.ACHIEVEMENT_STATUS_UNSPECIFIED


def test_a_ctf_result_has_its_own_natural_key() -> None:
    row = AchievementRow(
        line_number=9,
        uln="1000000043",
        qualification_type="KS2",
        stage="KS2",
        year="2022",
        subject="MAT",
        method="TT",
        component="MAT",
        result_qualifier="SS",
        result_status="F",
        grade="105",
    )
    a = achievements.achievement_of(row)
    assert (a.kind, a.qualification_ref, a.subject, a.component, a.grade, a.status) == (
        rec_pb.ACHIEVEMENT_KIND_KEY_STAGE_2,
        "CTF/KS2/2022",
        "MAT",
        "TT/MAT/SS",
        "105",
        rec_pb.ACHIEVEMENT_STATUS_FINAL,
    )


@pytest.fixture
def school(api: Api) -> Iterator[Client]:
    settings = ConnectionSettings(f"127.0.0.1:{api.server.port}", api.tokens[OrgKind.SCHOOL])
    with Client(settings) as client:
        yield client


def _sample_for(uln: str, path: Path) -> Path:
    text = SAMPLE.read_text(encoding="utf-8")
    for old in ("9276308686,Olivia,Westland", "1000000043,Testy,McTestface"):
        text = text.replace(old, f"{uln},Amara,Okafor")
    path.write_text(text, encoding="utf-8")
    return path


def test_resume_carries_on_from_an_interrupted_results_file(api: Api, school: Client, tmp_path: Path) -> None:
    uln = register_new(api).uln
    source = _sample_for(uln, tmp_path / "r.csv")
    out = tmp_path / "out.csv"
    whole = achievements.submit_file(school, source, out)
    assert dict(whole.outcomes) == {"CREATED": 3, "REJECTED": 2}
    complete = out.read_bytes()
    # A run that died after two rows (and half of a third).
    lines = complete.split(b"\r\n")
    out.write_bytes(b"\r\n".join(lines[:3]) + b"\r\n" + lines[3][:10])
    resumed = achievements.submit_file(school, source, out, resume=True)
    assert (resumed.resumed_from, resumed.rows) == (2, 5)
    assert dict(resumed.outcomes) == {"UNCHANGED": 1, "REJECTED": 2}
    assert out.read_bytes().replace(b"UNCHANGED", b"CREATED") == complete
    held = records(api).GetLearnerRecord(
        rec_pb.GetLearnerRecordRequest(uln=uln, given_name="Amara", family_name="Okafor"), metadata=api.auth()
    )
    assert len(held.achievements) == 3


def test_resume_refuses_a_results_file_of_another_input(api: Api, school: Client, tmp_path: Path) -> None:
    uln = register_new(api).uln
    out = tmp_path / "out.csv"
    achievements.submit_file(school, _sample_for(uln, tmp_path / "a.csv"), out)
    with pytest.raises(ResultsMismatch):
        achievements.submit_file(school, _sample_for("1000102504", tmp_path / "b.csv"), out, resume=True)
    # Its own input resumes after its last row: nothing is left to send.
    again = achievements.submit_file(school, _sample_for(uln, tmp_path / "a.csv"), out, resume=True)
    assert again.resumed_from == 5 and not again.outcomes


class _Dropped(grpc.RpcError):  # type: ignore[misc]  # grpc ships no type information
    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.UNAVAILABLE


class _FlakyRecords:
    """A SubmitAchievements stand-in whose first stream drops after answering two rows."""

    def __init__(self) -> None:
        self.streams: list[list[int]] = []

    def SubmitAchievements(
        self, requests: Iterator[rec_pb.SubmitAchievementsRequest], **_: object
    ) -> Iterator[rec_pb.SubmitAchievementsResponse]:
        seen: list[int] = []
        self.streams.append(seen)
        for request in requests:
            seen.append(request.row_number)
            if len(self.streams) == 1 and len(seen) == 3:
                raise _Dropped()
            yield rec_pb.SubmitAchievementsResponse(
                row_number=request.row_number, outcome=rec_pb.SUBMIT_OUTCOME_CREATED
            )


def test_a_dropped_stream_is_reopened_at_the_first_unanswered_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("school_client.streaming.time.sleep", lambda _: None)
    flaky = _FlakyRecords()
    client: Any = SimpleNamespace(records=flaky, metadata=())
    source = _sample_for("1000000043", tmp_path / "r.csv")
    out = tmp_path / "out.csv"
    summary = achievements.submit_file(client, source, out)
    # Rows 0-1 answered, then the link dropped; row 4 is short and never sent.
    assert flaky.streams == [[0, 1, 2], [2, 3]]
    assert dict(summary.outcomes) == {"CREATED": 4, "REJECTED": 1} and summary.rows == 5
    lines = out.read_text(encoding="utf-8").splitlines()
    assert [line.split(",")[0] for line in lines] == ["Line", "2", "3", "4", "5", "6"]
