from __future__ import annotations

from pathlib import Path

import pytest

from school_client.files.achievements import read_achievements
from school_client.files.detect import detect_format, open_learner_file
from school_client.files.lookup import read_lookups
from school_client.files.rows import WRONG_FIELD_COUNT, AchievementRow, FileFormatError, LookupRow, RowProblem

from .conftest import TODAY


def test_achievements_sample(data: Path) -> None:
    rows = list(read_achievements(data / "achievements_sample.csv"))
    assert len(rows) == 5
    first, second, third, fourth, short = rows
    assert isinstance(first, AchievementRow) and first.line_number == 2
    assert (first.uln, first.qualification_type, first.grade, first.award_date) == (
        "9276308686",
        "GCSE",
        "7",
        "2026-08-20",
    )
    assert first.awarding_organisation == "Example Awarding Body"
    assert isinstance(second, AchievementRow) and second.award_date == "2026-08-20"
    assert isinstance(third, AchievementRow) and (third.award_date, third.status) == (
        "2026-09-01",
        "provisional",
    )
    assert isinstance(fourth, AchievementRow) and fourth.subject == "Design, Technology"
    assert short == RowProblem(6, "1000102504", WRONG_FIELD_COUNT, "line 6: expected 11 fields, found 8")


def test_achievements_without_optional_column(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text(
        "ULN,GivenName,FamilyName,QualificationType,QualificationRef,Subject,Level,Grade,AwardDate,Status\n"
        "1000000043,A,B,GCSE,R,Maths,2,5,2026-08-20,final\n",
        encoding="utf-8",
    )
    (row,) = list(read_achievements(path))
    assert isinstance(row, AchievementRow) and row.awarding_organisation == ""


def test_lookup_sample(data: Path) -> None:
    rows = list(read_lookups(data / "lookup_sample.csv"))
    assert [r.line_number for r in rows] == [2, 3, 4, 5, 7]
    find, verify, words, _, short = rows
    assert isinstance(find, LookupRow)
    assert (find.reference, find.uln, find.date_of_birth, find.gender, find.postcode) == (
        "APP-0001",
        "",
        "2012-08-30",
        "female",
        "M25 7XS",
    )
    assert isinstance(verify, LookupRow) and (verify.uln, verify.gender) == ("9276308686", "female")
    assert isinstance(words, LookupRow) and (words.date_of_birth, words.gender) == ("2010-11-02", "male")
    assert isinstance(short, RowProblem) and short.mis_identifier == "APP-0005"


@pytest.mark.parametrize("reader", [read_achievements, read_lookups])
def test_wrong_header_is_rejected_before_reading(data: Path, reader: object) -> None:
    with pytest.raises(FileFormatError) as err:
        reader(data / "lrb_with_file_header.csv")  # type: ignore[operator]
    assert err.value.line == 1


def test_encoding_error_in_lookup(tmp_path: Path) -> None:
    path = tmp_path / "l.csv"
    path.write_bytes(
        b"Reference,ULN,GivenName,FamilyName,DateOfBirth,Gender,LastKnownPostCode\nR1,,Ren\xe9e,X,,,\n"
    )
    with pytest.raises(FileFormatError) as err:  # found when the header is read or while streaming
        list(read_lookups(path))
    assert err.value.line == 2


def test_detect_format(data: Path, tmp_path: Path) -> None:
    assert detect_format(data / "ctf_sample_26.xml") == "ctf"
    assert detect_format(data / "lrb_with_file_header.csv") == "lrb"
    utf16 = tmp_path / "u16.xml"
    utf16.write_text("\n  <?xml version='1.0' encoding='UTF-16'?><CTfile/>", encoding="utf-16")
    assert detect_format(utf16) == "ctf"


def test_open_learner_file_either_format(data: Path) -> None:
    lrb = open_learner_file(data / "lrb_with_file_header.csv")
    assert lrb.kind == "lrb" and lrb.lrb_info is not None and lrb.record_count == 20
    assert sum(1 for _ in lrb.rows) == 20
    ctf = open_learner_file(data / "ctf_sample_26.xml", today=TODAY)
    assert ctf.kind == "ctf" and ctf.ctf_header is not None and ctf.record_count is None
    assert sum(1 for _ in ctf.rows) == 10
    assert ctf.skipped["Pupil/Attendance"] == 2
    with pytest.raises(FileFormatError):
        open_learner_file(data / "bad_ctf_version.xml", today=TODAY)
