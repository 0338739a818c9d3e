from __future__ import annotations

import datetime as dt
import inspect
import re
import tracemalloc
from pathlib import Path

import pytest

from school_client.files.generate import generate_learners, main
from school_client.files.lrb import open_lrb
from school_client.files.rows import LearnerRow

POSTCODE = re.compile(r"[A-Z]{1,2}\d{1,2} \d[A-Z]{2}")


def test_generated_learners_are_plausible_and_distinct() -> None:
    rows = list(generate_learners(20_000, seed=3))
    assert len({r.mis_identifier for r in rows}) == 20_000
    assert len({(r.given_name, r.family_name, r.date_of_birth) for r in rows}) == 20_000
    for row in rows:
        assert dt.date(2010, 9, 1) <= dt.date.fromisoformat(row.date_of_birth) <= dt.date(2012, 8, 31)
        assert POSTCODE.fullmatch(row.postcode)
        assert row.gender in ("male", "female")
    assert [r.mis_identifier for r in generate_learners(5, seed=3)] == [r.mis_identifier for r in rows[:5]]
    assert list(generate_learners(5, seed=3)) == rows[:5]
    assert list(generate_learners(5, seed=4)) != rows[:5]


@pytest.mark.slow
def test_reading_a_large_file_keeps_memory_flat(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    main(["--rows", "200000", "--out", str(path), "--seed", "1"])
    tracemalloc.start()
    try:
        lrb = open_lrb(path)
        rows = iter(lrb)
        assert inspect.isgenerator(rows)
        count = sum(1 for row in rows if isinstance(row, LearnerRow))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == lrb.info.record_count == 200_000
    assert peak < 3 * 1024 * 1024, f"peak {peak} bytes"


@pytest.mark.slow
def test_reading_a_large_ctf_keeps_memory_flat(tmp_path: Path) -> None:
    from school_client.files.ctf import open_ctf

    from .conftest import TODAY

    path = tmp_path / "big.xml"
    pupil = (
        "<Pupil><UPN>U{0}</UPN><Surname>S{0}</Surname><Forename>F</Forename><DOB>2011-01-01</DOB><Sex>M</Sex>"
        "<StageAssessments><KeyStage><Stage>KS2</Stage><StageAssessment><Subject>MAT</Subject>"
        "<Result>100</Result></StageAssessment></KeyStage></StageAssessments></Pupil>\n"
    )
    with path.open("w", encoding="utf-8") as out:
        out.write("<CTfile><Header><CTFversion>26.0</CTFversion></Header><CTFpupilData>\n")
        for i in range(30_000):
            out.write(pupil.format(i))
        out.write("</CTFpupilData></CTfile>\n")
    tracemalloc.start()
    try:
        ctf = open_ctf(path, today=TODAY)
        count = sum(len(p.achievements) for p in ctf.pupils())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 30_000
    assert peak < 3 * 1024 * 1024, f"peak {peak} bytes"
