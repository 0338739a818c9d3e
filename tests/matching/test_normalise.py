from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.address import address_of
from matching.fold import _fold_once
from matching.normalise import exchange_names, fold, normalise_name, normalise_record
from matching.postcode import parse_postcode

from .conftest import person


def test_apostrophe_and_spacing_variants_are_one_name() -> None:
    assert {normalise_name(n).joined for n in ("O'Neill", "ONeill", "O Neill", "o’neill", "O-NEILL")} == {
        "oneill"
    }


def test_double_barrelled_keeps_parts_and_joins() -> None:
    name = normalise_name("Smith-Jones")
    assert name.tokens == ("smith", "jones")
    assert name.joined == normalise_name("Smith Jones").joined == "smithjones"


def test_diacritics_and_special_letters_are_stripped() -> None:
    assert normalise_name("Wójcik").joined == "wojcik"
    assert normalise_name("Łukasz").joined == "lukasz"
    assert normalise_name("Zoë").joined == "zoe"
    assert normalise_name("Ștefan").joined == "stefan"
    assert normalise_name("Søren").joined == "soren"


def test_titles_are_removed_but_a_title_alone_is_kept() -> None:
    assert normalise_name("Dr. Aisha").joined == "aisha"
    assert normalise_name("Miss Jane").joined == "jane"
    assert normalise_name("Mr Mrs Smith").joined == "smith"
    assert normalise_name("Miss").joined == "miss"


def test_multiple_given_names_are_tokens() -> None:
    assert normalise_name("  Mary   Anne ").tokens == ("mary", "anne")


@given(st.text())
def test_fold_is_idempotent_and_never_crashes(text: str) -> None:
    once = fold(text)
    assert fold(once) == once
    assert normalise_name(normalise_name(text).joined).joined == normalise_name(text).joined


@given(st.text(alphabet=st.characters(categories=("Lu", "Ll")), min_size=1))
def test_case_is_irrelevant(text: str) -> None:
    assert fold(text.upper()) == fold(text.lower()) == fold(text)


@given(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1),
    st.sampled_from(["\u0301", "\u0308", "\u0327"]),
)
def test_diacritics_are_irrelevant(text: str, mark: str) -> None:
    accented = unicodedata.normalize("NFC", "".join(ch + mark for ch in text))
    assert fold(accented) == text


@given(st.lists(st.text(alphabet="abcdefghij", min_size=1), min_size=1, max_size=4), st.sampled_from("-' .,"))
def test_punctuation_is_irrelevant_to_the_joined_form(parts: list[str], separator: str) -> None:
    assert normalise_name(separator.join(parts)).joined == "".join(parts)


@given(st.text())
def test_postcode_parses_or_is_rejected_cleanly(text: str) -> None:
    parsed = parse_postcode(text)
    if parsed is not None:
        assert parsed.unit.startswith(parsed.sector) and parsed.sector.startswith(parsed.district)
        assert parsed.district.startswith(parsed.area)
        assert parse_postcode(parsed.unit) == parsed


def test_postcode_levels() -> None:
    parsed = parse_postcode("sw1a1aa")
    assert parsed is not None
    assert (parsed.area, parsed.district, parsed.sector, parsed.unit) == ("SW", "SW1A", "SW1A 1", "SW1A 1AA")
    assert parse_postcode("M1 1AE") is not None
    assert parse_postcode("B33 8TH") is not None


def test_unknown_and_malformed_postcodes_are_no_evidence() -> None:
    for text in ("ZZ99 3CZ", "zz993cz", "", "not a postcode", "SW1A", "12345"):
        assert parse_postcode(text) is None


def test_exchanging_names_twice_gives_the_record_back() -> None:
    record = normalise_record(person(given="Mary-Anne", family="Smith Jones", middle_names="Kate"))
    exchanged = exchange_names(record)
    assert (exchanged.given, exchanged.family) == (record.family, record.given)
    assert exchanged.first_given == "smith"
    assert exchanged.other_given == record.other_given and exchanged.dob == record.dob
    assert exchange_names(exchanged) == record


@settings(max_examples=500)
@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_the_ascii_fast_path_folds_as_the_general_rule(text: str) -> None:
    assert fold(text) == _fold_once(text)


@pytest.mark.parametrize(
    ("line1", "line2", "house"),
    [
        ("Flat 10, 1 Grange Lane", "", "1"),
        ("10 Grange Lane", "", "10"),
        ("Flat 3", "12 Mill Road", "12"),
        ("12 Mill Rd", "flat 3", "12"),
        ("Apartment 5 The Maltings, 3 Mill Road", "", "3"),
        ("12a High St", "", "12a"),
        ("Rose Cottage", "Mill Lane", ""),
        ("Mill Road", "", ""),
    ],
)
def test_the_house_number_is_the_one_before_the_street(line1: str, line2: str, house: str) -> None:
    assert address_of(line1, line2, "Leeds").house == house


@given(st.text(max_size=40), st.text(max_size=40))
def test_a_house_number_is_one_of_the_address_numbers(line1: str, line2: str) -> None:
    address = address_of(line1, line2, "")
    assert address.house == "" or address.house in address.numbers
    assert address.house == "" or address.street


def test_the_street_on_line_2_is_kept_when_line_1_names_one() -> None:
    named_house = address_of("Rose Cottage", "Mill Ln", "Leeds")
    assert (named_house.street, named_house.other_street) == ("rose cottage", "mill lane")
    # Line 1 with no street words: line 2 is the street, and there is no other.
    flat = address_of("Flat 3", "12 Mill Road", "Leeds")
    assert (flat.street, flat.other_street, flat.house) == ("mill road", "", "12")
    assert address_of("12 Mill Road", "", "Leeds").other_street == ""
