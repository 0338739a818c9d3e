from __future__ import annotations

import datetime as dt
import inspect
from pathlib import Path

import pytest

from school_client.files.ctf import accepted_ctf_versions, open_ctf, read_ctf_achievements, read_ctf_learners
from school_client.files.rows import FileFormatError

from .conftest import TODAY


def test_header_and_pupils(data: Path) -> None:
    ctf = open_ctf(data / "ctf_sample_26.xml", today=TODAY)
    assert ctf.header is not None
    assert (ctf.header.ctf_version, ctf.header.source_lea, ctf.header.source_estab) == ("26.0", "801", "2000")
    assert ctf.header.source_school_name == "Example Synthetic Academy"
    assert ctf.header.source_academic_year == "2025"
    pupils = list(ctf.pupils())
    assert len(pupils) == 10
    first = pupils[0].learner
    assert (first.line_number, first.mis_identifier, first.upn) == (24, "T801200011001", "T801200011001")
    assert (first.given_name, first.family_name, first.date_of_birth) == ("Amira", "Testwell", "2011-03-14")
    assert first.address_line1 == "Flat 1 3 Synthetic Street"
    assert (first.address_line2, first.town, first.county, first.postcode) == (
        "Sampleside",
        "Testchester",
        "Exampleshire",
        "ZZ91 1AB",
    )
    assert first.email == "amira.testwell@example.invalid"
    assert pupils[1].learner.uln == "1000002127"


def test_sex_and_gender_elements(data: Path) -> None:
    learners = list(read_ctf_learners(data / "ctf_sample_26.xml", today=TODAY))
    by_name = {r.given_name: r for r in learners}
    assert by_name["Amira"].gender == "female"  # <Sex>F</Sex>
    assert by_name["Chloe"].gender == "female"  # <Gender>F</Gender> (older files)
    assert by_name["Femi"].gender == "male"  # <Gender>M</Gender>
    assert by_name["Jakub"].gender == "not-known"  # U
    assert by_name["Gráinne"].family_name == "Ó Synthetic"


def test_other_names_and_address_lines(data: Path) -> None:
    by_name = {r.given_name: r for r in read_ctf_learners(data / "ctf_sample_26.xml", today=TODAY)}
    chloe, dev, femi = by_name["Chloe"], by_name["Dev"], by_name["Femi"]
    assert chloe.previous_family_name == "Oldname"
    assert chloe.notes == "Preferred surname: Jones"
    assert chloe.email == ""  # a contact's email is not the pupil's
    assert (dev.preferred_given_name, dev.middle_names) == ("Devi", "Arun Kumar")
    assert (femi.address_line1, femi.address_line2, femi.town, femi.county) == (
        "Flat 2, 10 Imaginary Court",
        "Nowhere Lane",
        "Testchester",
        "Exampleshire",
    )


def test_key_stage_results(data: Path) -> None:
    results = list(read_ctf_achievements(data / "ctf_sample_26.xml", today=TODAY))
    assert len(results) == 10 * 3 + 3
    ks4 = [r for r in results if r.stage == "KS4"]
    assert {r.given_name for r in ks4} == {"Amira", "Benedict", "Elin"}
    benedict = next(r for r in ks4 if r.given_name == "Benedict")
    assert (benedict.uln, benedict.qualification_type, benedict.subject, benedict.grade) == (
        "1000002127",
        "KS4",
        "MAT",
        "7",
    )
    assert (benedict.year, benedict.method, benedict.component) == ("2026", "EX", "GCSE")
    assert (benedict.result_status, benedict.result_qualifier, benedict.locale) == ("P", "GN", "ENG")
    assert benedict.mis_identifier == "G801200011002"
    first = results[0]
    assert (first.line_number, first.stage, first.component, first.grade) == (46, "KS2", "RD", "105")


def test_skipped_sections_are_reported(data: Path) -> None:
    ctf = open_ctf(data / "ctf_sample_26.xml", today=TODAY)
    for _ in ctf.pupils():
        pass
    assert ctf.skipped == {"Pupil/Attendance": 2, "Pupil/Contacts": 1, "CTfile/SchoolHistory": 1}


def test_streaming_generator(data: Path) -> None:
    assert inspect.isgenerator(open_ctf(data / "ctf_sample_26.xml", today=TODAY).pupils())


def test_truncated_file_names_the_line(data: Path) -> None:
    ctf = open_ctf(data / "bad_ctf_truncated.xml", today=TODAY)  # the header is complete
    with pytest.raises(FileFormatError) as err:
        list(ctf.pupils())
    assert err.value.line == 216
    assert "truncated" in str(err.value)


def test_version_outside_window(data: Path) -> None:
    with pytest.raises(FileFormatError) as err:
        open_ctf(data / "bad_ctf_version.xml", today=TODAY)
    assert err.value.line == 5
    assert "'22.0'" in str(err.value) and "27.0 or 26.0 or 25.0" in str(err.value)


def test_version_rule() -> None:
    assert accepted_ctf_versions(TODAY) == ("27.0", "26.0", "25.0")
    assert accepted_ctf_versions(dt.date(2026, 8, 31)) == ("26.0", "25.0", "24.0")
    assert accepted_ctf_versions(dt.date(2026, 9, 1)) == ("27.0", "26.0", "25.0")


@pytest.mark.parametrize(
    ("xml", "line", "fragment"),
    [
        ("<?xml version='1.0'?>\n<Other/>", 2, "not <CTfile>"),
        ("<CTfile>\n<CTFpupilData>", 2, "before a complete <Header>"),
        ("<CTfile>\n<Header><CTFversion>26</CTFversion></Header>\n</CTfile>\n<x/>", 4, "ill-formed XML"),
        ("<CTfile>\n</CTfile>", None, "no CTF <Header>"),
        ("<CTfile><Header>\n<CTFversion></CTFversion></Header></CTfile>", 2, "CTFversion '' is not accepted"),
        ("<CTfile><Header>\n<CTFversion>26.0</CTFversion>\n<Source", 3, "truncated"),
        ("<CTfile><Header><CTFversion>26.0</CTFversion></Header>\n<a>\xe9</a>", 2, "ill-formed XML"),
    ],
)
def test_file_format_errors(tmp_path: Path, xml: str, line: int | None, fragment: str) -> None:
    path = tmp_path / "f.xml"
    path.write_bytes(xml.encode("cp1252"))
    with pytest.raises(FileFormatError) as err:
        list(open_ctf(path, today=TODAY).pupils())
    assert err.value.line == line
    assert fragment in str(err.value)


def test_version_without_decimal_and_namespace_prefix(tmp_path: Path) -> None:
    path = tmp_path / "f.xml"
    path.write_text(
        "<c:CTfile xmlns:c='urn:x'><c:Header><c:CTFversion>27</c:CTFversion><c:Extra/></c:Header>"
        "<c:CTFpupilData><c:Pupil><c:UPN>X</c:UPN><c:ULN>9276308686</c:ULN></c:Pupil><c:Note/></c:CTFpupilData>"
        "</c:CTfile>",
        encoding="utf-8",
    )
    ctf = open_ctf(path, today=TODAY)
    assert ctf.header is not None and ctf.header.ctf_version == "27.0"
    (learner,) = list(ctf.learners())
    assert (learner.upn, learner.uln) == ("X", "9276308686")
    assert ctf.skipped == {"Header/Extra": 1, "CTFpupilData/Note": 1}
