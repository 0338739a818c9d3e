from __future__ import annotations

import inspect
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from school_client.files.lrb import ALL_COLUMNS, LEARNER_COLUMNS, open_lrb
from school_client.files.lrb import KEPT_COLUMNS as KEPT
from school_client.files.rows import BAD_QUOTING, WRONG_FIELD_COUNT, FileFormatError, LearnerRow, RowProblem


def write(tmp_path: Path, text: str, name: str = "f.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def header_row(count: int, *cells: str) -> str:
    row = ["2A", "LRB_1_1.CSV", "10000001", str(count)] + [""] * len(LEARNER_COLUMNS)
    for i, value in enumerate(cells):
        row[4 + i] = value
    return ",".join(row)


def learner_row(*cells: str, with_header: bool = True) -> str:
    row = ([""] * 4 if with_header else []) + [""] * len(LEARNER_COLUMNS)
    offset = 4 if with_header else 0
    for i, value in enumerate(cells):
        row[offset + i] = value
    return ",".join(row)


HEAD = ",".join(ALL_COLUMNS)


def test_sample_with_file_header(data: Path) -> None:
    lrb = open_lrb(data / "lrb_with_file_header.csv")
    assert lrb.info.has_file_header
    assert (lrb.info.file_version, lrb.info.ukprn, lrb.info.declared_count, lrb.info.record_count) == (
        "2A",
        "10000001",
        20,
        20,
    )
    assert lrb.info.file_name == "LRB_10000001_281120260930.CSV"
    rows = list(lrb)
    assert len(rows) == 20
    problems = [r for r in rows if isinstance(r, RowProblem)]
    assert problems == [
        RowProblem(16, "MIS00000014", WRONG_FIELD_COUNT, "line 16: expected 30 fields, found 29")
    ]
    learners = {r.mis_identifier: r for r in rows if isinstance(r, LearnerRow)}
    assert learners["MIS00000001"].line_number == 2
    assert learners["MIS00000003"].date_of_birth == "2011-04-26"  # written 26/04/2011
    assert learners["MIS00000010"].date_of_birth == "2011-02-16"  # written 16/2/2011
    zoe = learners["MIS00000004"]
    assert (zoe.given_name, zoe.family_name, zoe.middle_names) == ("Zoë", "O'Neill-Testperson", "Anne, Marie")
    assert zoe.notes == 'Said "call me Zo"\nsecond line of note'
    assert learners["MIS00000005"].line_number == 7  # the note above spans two physical lines
    assert learners["MIS00000006"].uln == "9276308686"
    assert learners["MIS00000008"].gender == "not-specified"
    assert learners["MIS00000008"].ability_to_share == "not-seen"
    assert learners["MIS00000001"].gender == "female"
    assert learners["MIS00000001"].ability_to_share == "share"


def test_sample_without_file_header_and_loose_headings(data: Path) -> None:
    lrb = open_lrb(data / "lrb_without_file_header.csv")
    assert not lrb.info.has_file_header
    assert lrb.info.declared_count is None
    assert lrb.info.record_count == 10
    rows = list(lrb)
    assert all(isinstance(r, LearnerRow) for r in rows)
    assert [r.line_number for r in rows][:3] == [2, 3, 4]
    assert isinstance(rows[0], LearnerRow) and rows[0].given_name == "Poppy"


def test_iteration_is_a_generator(data: Path) -> None:
    assert inspect.isgenerator(iter(open_lrb(data / "lrb_with_file_header.csv")))


@pytest.mark.parametrize(
    ("name", "line", "fragment"),
    [
        ("bad_lrb_header.csv", 1, "missing columns: DateOfBirth, Nationality; unexpected columns: dob"),
        ("bad_lrb_record_count.csv", 2, "LearnerRecordCount says 20 but the file has 19"),
        ("bad_lrb_not_utf8.csv", 7, "not valid UTF-8"),
    ],
)
def test_bad_sample_files(data: Path, name: str, line: int, fragment: str) -> None:
    with pytest.raises(FileFormatError) as err:
        open_lrb(data / name)
    assert err.value.line == line
    assert fragment in str(err.value)
    assert str(err.value).startswith(f"line {line}: ")


def test_cp1252_only_when_asked(data: Path) -> None:
    rows = list(open_lrb(data / "bad_lrb_not_utf8.csv", encoding="cp1252"))
    assert any(isinstance(r, LearnerRow) and r.given_name == "Renée" for r in rows)


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("", 1, "empty"),
        ("\r\n" + HEAD + "\r\n", 1, "not a LRB 2A header"),
        ("ULN,FileVersion\r\n", 1, "missing columns"),
        ("GivenName,FamilyName,DateOfBirth,Gender\r\n", 1, "missing columns"),
        ("GivenName,FamilyName,DateOfBirth,Gender,LastKnownPostCode,givenname\r\n", 1, "not a LRB 2A header"),
        ("FileVersion,GivenName,FamilyName,DateOfBirth,Gender,LastKnownPostCode\r\n", 1, "come together"),
        (HEAD + "\r\n", 2, "no learner records"),
        (HEAD + "\r\n" + header_row(1).replace("2A", "1A", 1) + "\r\n", 2, "FileVersion is '1A'"),
        (HEAD + "\r\n" + header_row(1).replace(",1,", ",one,", 1) + "\r\n", 2, "not a whole number"),
        (HEAD + "\r\n" + "2A,x,1,1\r\n", 2, "carries the file header and cannot be read"),
        (HEAD + "\r\n" + header_row(2, "", "A1") + "\r\n" + learner_row("", '"A2'), 3, "never closed"),
        (HEAD + "\r\n" + header_row(3, "", "A1") + "\r\n" + learner_row("", "A2") + "\r\n", 2, "says 3"),
    ],
)
def test_file_format_errors(tmp_path: Path, text: str, line: int, fragment: str) -> None:
    with pytest.raises(FileFormatError) as err:
        open_lrb(write(tmp_path, text))
    assert err.value.line == line
    assert fragment in str(err.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileFormatError) as err:
        open_lrb(tmp_path / "nope.csv")
    assert err.value.line is None


def test_blank_rows_trailing_cells_and_row_problems(tmp_path: Path) -> None:
    text = "\r\n".join(
        [
            HEAD,
            header_row(4, "", "A1", "", "Ann"),
            ",,,,,,,,,",  # blank row from a spreadsheet: skipped, not counted
            learner_row("", "A2", "", "Bob") + ",,,",  # trailing empty cells: accepted
            learner_row("", "A3", "", "Cy") + ",extra",  # a real extra value: a problem
            learner_row("", '"A4"x', "", "Di"),  # bad quoting: a problem, the rest goes on
            "",
        ]
    )
    rows = list(open_lrb(write(tmp_path, text)))
    assert [type(r).__name__ for r in rows] == ["LearnerRow", "LearnerRow", "RowProblem", "RowProblem"]
    assert isinstance(rows[1], LearnerRow) and rows[1].line_number == 4
    assert rows[2] == RowProblem(5, "A3", WRONG_FIELD_COUNT, "line 5: expected 30 fields, found 31")
    assert isinstance(rows[3], RowProblem) and (rows[3].line_number, rows[3].reason) == (6, BAD_QUOTING)


def test_bom_crlf_and_case_insensitive_headings(tmp_path: Path) -> None:
    head = ",".join(c.upper() if i % 2 else f" {c} " for i, c in enumerate(ALL_COLUMNS))
    path = write(tmp_path, "\ufeff" + head + "\r\n" + header_row(1, "", "A1", "", " Ann ") + "\r\n")
    (row,) = list(open_lrb(path))
    assert isinstance(row, LearnerRow) and (row.mis_identifier, row.given_name) == ("A1", "Ann")


# -- columns left out, reordered or added (files that passed through a spreadsheet) ------------------

REQUIRED = ("GivenName", "FamilyName", "DateOfBirth", "Gender", "LastKnownPostCode")


def test_the_columns_in_another_order_read_the_same(tmp_path: Path) -> None:
    cells = dict(
        zip(LEARNER_COLUMNS, learner_row("", "A1", "", "Ann", with_header=False).split(","), strict=True)
    )
    cells.update(FamilyName="Lee", DateOfBirth="03/04/2009", Gender="F", LastKnownPostCode="SW1A 1AA")
    order = list(reversed(LEARNER_COLUMNS))
    path = write(tmp_path, ",".join(order) + "\r\n" + ",".join(cells[c] for c in order) + "\r\n")
    lrb = open_lrb(path)
    (row,) = list(lrb)
    assert isinstance(row, LearnerRow)
    assert (row.mis_identifier, row.given_name, row.family_name) == ("A1", "Ann", "Lee")
    assert (row.date_of_birth, row.gender, row.postcode) == ("2009-04-03", "female", "SW1A 1AA")
    assert lrb.info.absent_columns == () and lrb.info.ignored_columns == ()


def test_only_the_required_columns_and_some_of_its_own(tmp_path: Path) -> None:
    head = "Pupil ID,LastKnownPostCode,Gender,DateOfBirth,FamilyName,GivenName,MISIdentifier,Year group"
    path = write(tmp_path, head + "\r\n" + "77,ls1 4ap,M,2009-4-3,Okafor,Chidi,A7,11\r\n")
    lrb = open_lrb(path)
    (row,) = list(lrb)
    assert isinstance(row, LearnerRow)
    assert (row.given_name, row.family_name, row.date_of_birth) == ("Chidi", "Okafor", "2009-04-03")
    assert (row.gender, row.postcode, row.mis_identifier) == ("male", "ls1 4ap", "A7")
    assert (row.uln, row.address_line1, row.middle_names) == ("", "", "")
    assert lrb.info.ignored_columns == ("Pupil ID", "Year group")
    assert "ULN" in lrb.info.absent_columns and "GivenName" not in lrb.info.absent_columns
    assert not set(lrb.info.absent_columns) & {"FileVersion", "LearnerRecordCount"}
    assert not lrb.info.has_file_header


def test_a_row_of_the_wrong_width_without_a_key_column(tmp_path: Path) -> None:
    path = write(tmp_path, ",".join(REQUIRED) + "\r\nAnn,Lee,2009-04-03,F\r\n")
    (row,) = list(open_lrb(path))
    assert isinstance(row, RowProblem) and (row.mis_identifier, row.reason) == ("", WRONG_FIELD_COUNT)


@given(
    st.permutations(LEARNER_COLUMNS),
    st.sets(st.sampled_from([c for c in LEARNER_COLUMNS if c not in REQUIRED])),
    st.lists(st.sampled_from(["Pupil ID", "Year group", "Tutor", ""]), max_size=3, unique=True),
)
@settings(max_examples=60, deadline=None)
def test_any_order_any_optional_columns_left_out(
    tmp_path_factory: pytest.TempPathFactory, order: list[str], left_out: set[str], own: list[str]
) -> None:
    """Whatever the order, whichever optional columns are missing and whatever columns of its own the
    file adds, every column present reads as in the full file and every column left out as ''."""
    values = {c: f"v{i}" for i, c in enumerate(LEARNER_COLUMNS)}
    values.update(DateOfBirth="2009-04-03", Gender="F", DateOfAddressCapture="2024-09-01", AbilityToShare="")
    full_dir = tmp_path_factory.mktemp("full")
    full = write(full_dir, ",".join(LEARNER_COLUMNS) + "\r\n" + ",".join(values[c] for c in LEARNER_COLUMNS))
    (expected,) = list(open_lrb(full))
    columns = [c for c in order if c not in left_out]
    for position, name in enumerate(own):  # the file's own columns, somewhere among the others
        columns.insert(position * 3 % (len(columns) + 1), name)
    cells = [values.get(c, "x") for c in columns]
    path = write(tmp_path_factory.mktemp("loose"), ",".join(columns) + "\r\n" + ",".join(cells) + "\r\n")
    lrb = open_lrb(path)
    (got,) = list(lrb)
    assert isinstance(got, LearnerRow) and isinstance(expected, LearnerRow)
    kept = {f: c for c, f, _ in KEPT}
    for field_name, column in kept.items():
        want = getattr(expected, field_name) if column not in left_out else ""
        assert getattr(got, field_name) == want, (field_name, column)
    assert set(lrb.info.absent_columns) == left_out
    assert list(lrb.info.ignored_columns) == [n for n in columns if n in own]
