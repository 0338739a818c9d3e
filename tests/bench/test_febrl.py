"""bench.febrl: the AU -> UK postcode mapping, the category rules, the converter (read back with the
real LRB reader) and one run through a real server and the real ``lrs-school`` CLI."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench import febrl
from lrs_server.domain.validation import parse_postcode as server_postcode
from matching.postcode import Postcode, parse_postcode
from school_client.files import LearnerRow, open_lrb
from tests.conftest import POSTGRES_URL

AU_POSTCODES = st.text(alphabet="0123456789", min_size=4, max_size=4)


def components(uk: str) -> tuple[str, str, str, str]:
    """(area letters, district number, sector digit, unit letters) of a well-formed UK postcode."""
    parsed = parse_postcode(uk)
    assert isinstance(parsed, Postcode), uk
    return parsed.area, parsed.district[len(parsed.area) :], parsed.sector[-1], parsed.unit[-2:]


@given(AU_POSTCODES)
def test_postcode_mapping_is_deterministic_and_always_a_uk_shape(au: str) -> None:
    uk = febrl.uk_postcode(au)
    assert uk == febrl.uk_postcode(au)
    assert parse_postcode(uk) is not None  # well formed, and not the not-known code
    assert server_postcode(uk) == uk  # the server takes it as it is


@given(AU_POSTCODES, st.integers(0, 3), st.integers(1, 9))
def test_one_digit_changed_changes_one_component(au: str, position: int, step: int) -> None:
    digit = str((int(au[position]) + step) % 10)
    typo = au[:position] + digit + au[position + 1 :]
    before, after = components(febrl.uk_postcode(au)), components(febrl.uk_postcode(typo))
    assert [i for i in range(4) if before[i] != after[i]] == [position]


@given(st.text(max_size=6).filter(lambda t: not (len(t.strip()) == 4 and t.strip().isdecimal())))
def test_a_malformed_postcode_is_not_known(text: str) -> None:
    uk = febrl.uk_postcode(text)
    assert uk == "ZZ99 3CZ"
    assert server_postcode(uk) == uk


def test_postcode_examples() -> None:
    assert febrl.uk_postcode("2600") == "CF7 0AA"
    assert febrl.uk_postcode("4011") == "EH1 1BD"
    assert febrl.uk_postcode("") == febrl.uk_postcode("26a0") == febrl.uk_postcode("260") == "ZZ99 3CZ"


PERSON = febrl.TruthRow("a", "1", "rec-1-org", "william", "green", date(1990, 5, 17), "CF8 5AA", "x")


@pytest.mark.parametrize(
    ("changes", "category"),
    [
        ({}, febrl.SIMILAR),
        ({"given_name": "wiliam", "family_name": "grene"}, febrl.SIMILAR),
        ({"given_name": "William", "family_name": "GREEN"}, febrl.SIMILAR),  # case folded
        ({"date_of_birth": date(1990, 6, 10)}, febrl.SIMILAR),  # 24 days
        ({"date_of_birth": date(1990, 7, 18)}, febrl.SIMILAR),  # two digits of 19900517 -> 19900718
        ({"date_of_birth": date(1909, 5, 17)}, febrl.DATE_GENERATION),  # a transposed year, 81 years
        ({"date_of_birth": date(1999, 5, 17)}, febrl.SIMILAR),  # two digits within 12 years
        ({"date_of_birth": date(1985, 5, 5), "given_name": "amelia"}, febrl.NAME_AND_DATE),
        ({"given_name": "amelia"}, febrl.GIVEN_DIFFERENT),  # the twin pattern
        ({"family_name": "schepers"}, febrl.FAMILY_DIFFERENT),
        ({"family_name": "schepers", "date_of_birth": date(1960, 1, 1)}, febrl.NAME_AND_DATE),
        ({"date_of_birth": date(1986, 11, 2)}, febrl.DATE_DIFFERENT),
        ({"date_of_birth": date(2002, 5, 17)}, febrl.DATE_DIFFERENT),  # exactly 12 years
        ({"date_of_birth": date(2002, 5, 18)}, febrl.DATE_GENERATION),  # a day over 12 years
        ({"date_of_birth": date(1953, 10, 13)}, febrl.DATE_GENERATION),
        ({"given_name": "green", "family_name": "william"}, febrl.NAMES_SWAPPED),
        ({"given_name": "grene", "family_name": "wiliam"}, febrl.NAMES_SWAPPED),
        ({"given_name": "rosie", "family_name": "reid"}, febrl.BOTH_NAMES),
    ],
)
def test_categorise(changes: dict[str, object], category: str) -> None:
    row = replace(PERSON, mis_identifier="b", **changes)  # type: ignore[arg-type]
    assert febrl.categorise(row, PERSON) == category
    assert febrl.categorise(PERSON, row) == category  # symmetric


@pytest.mark.parametrize(
    ("born", "category"),
    [
        (date(1997, 5, 17), febrl.SIMILAR),  # 19970517 / 20000517: four digits, but the year off by 3
        (date(2003, 5, 17), febrl.SIMILAR),
        (date(1996, 5, 17), febrl.DATE_DIFFERENT),  # year off by 4
        (date(1997, 5, 18), febrl.DATE_DIFFERENT),  # off by 3 years and a day
    ],
)
def test_year_off_by_up_to_three_with_the_same_day_and_month_is_close(born: date, category: str) -> None:
    earlier = replace(PERSON, date_of_birth=date(2000, 5, 17))
    assert febrl.categorise(replace(earlier, date_of_birth=born), earlier) == category


def test_day_and_month_swapped_is_close_and_a_missing_name_is_similar() -> None:
    swapped = replace(PERSON, date_of_birth=date(1990, 11, 3))
    assert febrl.categorise(swapped, replace(PERSON, date_of_birth=date(1990, 3, 11))) == febrl.SIMILAR
    assert febrl.names_similar("", "william") and febrl.names_similar("william", " ")
    assert not febrl.names_similar("al", "jo")


def test_a_school_never_sends_rows_without_a_birth_date_or_a_name() -> None:
    good = {"given_name": "kayla", "surname": "harrington", "date_of_birth": "19150612", "postcode": "3465"}
    assert isinstance(febrl.learner_row("rec-10-dup-0", good), LearnerRow)
    assert febrl.learner_row("r", {**good, "date_of_birth": ""}) == "no date of birth"
    assert (
        febrl.learner_row("r", {**good, "date_of_birth": "19150231"}) == "date of birth not a calendar date"
    )
    assert febrl.learner_row("r", {**good, "given_name": " "}) == "no given name"
    assert febrl.learner_row("r", {**good, "surname": ""}) == "no family name"


def test_long_fields_are_cut_as_an_mis_export_cuts_them() -> None:
    values = {
        "given_name": "a" * 40,
        "surname": "b" * 36,
        "street_number": "12",
        "address_1": "c" * 60,
        "address_2": "",
        "date_of_birth": "19990101",
        "postcode": "2600",
    }
    row = febrl.learner_row("rec-1-org", values)
    assert isinstance(row, LearnerRow)
    assert (len(row.given_name), len(row.family_name), len(row.address_line1)) == (35, 35, 50)
    assert row.address_line1.startswith("12 ccc")
    assert (row.gender, row.date_of_birth, row.postcode) == ("not-known", "1999-01-01", "CF7 0AA")


def test_street_number_or_street_may_be_missing() -> None:
    values = {"given_name": "a", "surname": "b", "date_of_birth": "19990101", "postcode": "2600"}
    only_street = febrl.learner_row("r", {**values, "address_1": "giblin street"})
    only_number = febrl.learner_row("r", {**values, "street_number": "69"})
    assert isinstance(only_street, LearnerRow) and isinstance(only_number, LearnerRow)
    assert (only_street.address_line1, only_number.address_line1) == ("giblin street", "69")


def test_converted_slice_reads_cleanly_with_the_real_lrb_reader(tmp_path: Path) -> None:
    files = febrl.convert(1, tmp_path, limit=80)
    assert files.source_rows == 80
    assert files.rows_written + sum(files.left_out.values()) == 80
    lrb = open_lrb(files.lrb)
    assert lrb.info.has_file_header and lrb.info.record_count == files.rows_written
    rows = list(lrb)
    assert all(isinstance(r, LearnerRow) for r in rows)
    truth = febrl.load_truth(files)
    assert [t.mis_identifier for t in truth] == [r.mis_identifier for r in rows if isinstance(r, LearnerRow)]
    assert all(t.person == febrl.person_of(t.rec_id) for t in truth)
    for row in rows:
        assert isinstance(row, LearnerRow)
        assert row.gender == "not-known" and row.ability_to_share == "share"
        assert server_postcode(row.postcode) == row.postcode
        assert row.given_name and row.family_name and date.fromisoformat(row.date_of_birth)


def test_person_of() -> None:
    assert febrl.person_of("rec-12-dup-3") == febrl.person_of("rec-12-org") == "12"
    with pytest.raises(ValueError):
        febrl.person_of("rec-12")


def _truth(mis: str, person: str, **changes: object) -> febrl.TruthRow:
    return replace(PERSON, mis_identifier=mis, person=person, rec_id=mis, **changes)  # type: ignore[arg-type]


def test_metrics_on_hand_made_results() -> None:
    truth = [
        _truth("a1", "a"),
        _truth("a2", "a"),  # MATCHED: right
        _truth("a3", "a", given_name="amelia"),  # NEW: a second ULN
        _truth("b1", "b", family_name="jones"),
        _truth("b2", "b", family_name="jones"),  # POSSIBLE_MATCH with b's ULN: caught
        _truth("c1", "c", family_name="smith"),  # MATCHED into b: a first row merged
        _truth("c2", "c", family_name="smith"),  # MATCHED into a: wrong
    ]
    results = {
        "a1": febrl.RowResult("NEW", "U1"),
        "a2": febrl.RowResult("MATCHED", "U1"),
        "a3": febrl.RowResult("NEW", "U2"),
        "b1": febrl.RowResult("NEW", "U3"),
        "b2": febrl.RowResult("POSSIBLE_MATCH", "", ("U9", "U3")),
        "c1": febrl.RowResult("MATCHED", "U3"),
        "c2": febrl.RowResult("MATCHED", "U1"),
    }
    m = febrl.metrics(truth, results, examples=5)
    assert m.outcomes == {"NEW": 3, "MATCHED": 3, "POSSIBLE_MATCH": 1, "REJECTED": 0}
    assert m.review_rate == pytest.approx(1 / 7)
    # ULN rows: U1 {a1, a2, c2}, U2 {a3}, U3 {b1, c1}: predicted pairs 3 + 1, right 1 (a1-a2).
    assert m.precision == pytest.approx(1 / 4)
    # True pairs among ULN rows: a 3, c 1 -> 1 of 4.
    assert m.recall == pytest.approx(1 / 4)
    assert m.recall_reviews_missed == pytest.approx(1 / 5)  # b1-b2 counted too
    assert m.recall_resolved == pytest.approx(2 / 5)  # b2 resolved to U3
    assert m.first_rows_merged == 1
    # c2 held U3 (through c1), so MATCHED to U1 is wrong.
    assert (m.repeat.rows, m.repeat.matched, m.repeat.reviewed, m.repeat.new, m.repeat.wrong) == (
        4,
        1,
        1,
        1,
        1,
    )
    by_name = {o.name: o for o in m.categories}
    assert by_name[febrl.GIVEN_DIFFERENT].new == 1
    assert [(e.row.mis_identifier, e.outcome) for e in m.examples] == [("a3", "new"), ("c2", "wrong")]
    assert m.examples[1].merged_into is not None and m.examples[1].merged_into.mis_identifier == "a1"
    assert m.as_dict()["repeat"]["caught_share"] == 0.5


def test_end_to_end_through_a_real_server_and_the_real_cli(tmp_path: Path) -> None:
    files = febrl.convert(1, tmp_path, limit=60)
    results = febrl.run_batch(files.lrb)
    truth = febrl.load_truth(files)
    assert set(results) == {t.mis_identifier for t in truth}
    m = febrl.metrics(truth, results)
    assert m.rows == files.rows_written
    assert sum(m.outcomes.values()) == m.rows
    assert m.outcomes["REJECTED"] == 0, m.refused
    assert m.outcomes["NEW"] > 0 and m.outcomes["MATCHED"] > 0
    assert all(r.uln for r in results.values() if r.outcome in ("NEW", "MATCHED"))
    assert 0.0 <= m.precision <= 1.0 and 0.0 <= m.recall_resolved <= 1.0
    report = febrl.format_report(files, m, 1.0, "sqlite")
    assert "names similar, date close" in report


@pytest.mark.skipif(not POSTGRES_URL, reason="LRS_TEST_POSTGRES_URL not set")
def test_end_to_end_on_a_scratch_postgresql_database(tmp_path: Path) -> None:
    files = febrl.convert(1, tmp_path, limit=30)
    results = febrl.run_batch(files.lrb, POSTGRES_URL)
    assert len(results) == files.rows_written
    assert all(r.outcome in ("NEW", "MATCHED", "POSSIBLE_MATCH") for r in results.values())


def test_the_held_out_sets_convert_with_several_records_a_person(tmp_path: Path) -> None:
    for dataset in (2, 3):
        files = febrl.convert(dataset, tmp_path / str(dataset), limit=300)
        truth = febrl.load_truth(files)
        records = Counter(t.person for t in truth)
        assert files.source_rows == 300 and max(records.values()) >= 2
    with pytest.raises(ValueError):
        next(febrl.febrl_records(5))
