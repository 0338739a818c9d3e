"""Property-based tests of request validation (lrs_server/domain/validation.py)."""

from __future__ import annotations

import unicodedata
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from lrs_server.domain import validation as v
from lrs_server.domain.errors import Reason, ValidationError
from lrs_server.domain.model import Gender, RawIdentity

TODAY = date(2026, 11, 28)
UPN_ALPHABET = "ABCDEFGHJKLMNPQRTUVWXYZ"


def outcome(parse: Any) -> tuple[Any, list[v.FieldViolation]]:
    """Run a parser the way validation does: a bad value becomes a violation, anything else escapes."""
    found = v.Violations()
    value = found.check("f", parse, None)
    return value, found.found


def reasons(found: list[v.FieldViolation]) -> set[Reason]:
    return {f.reason for f in found}


# -- names -------------------------------------------------------------------------------------

letters = st.characters(categories=["Lu", "Ll", "Lt", "Lo"])
marks = st.characters(categories=["Mn", "Mc"])
name_parts = st.lists(st.tuples(letters, st.lists(marks, max_size=2)), min_size=1, max_size=8)


def _word(parts: list[tuple[str, list[str]]]) -> str:
    return "".join(base + "".join(m) for base, m in parts)


words = name_parts.map(_word)


@given(st.lists(words, min_size=1, max_size=3), st.sampled_from([" ", "  ", "\t", "-", "'", "’"]))
def test_letters_of_any_script_with_combining_marks_are_accepted(parts: list[str], joiner: str) -> None:
    raw = joiner.join(parts)
    expected = " ".join(unicodedata.normalize("NFC", raw).split())
    assume(0 < len(expected) <= v.NAME_MAX)
    value, found = outcome(lambda: v.parse_name(raw, required=True))
    assert found == []
    assert value == expected


@given(words, st.text(" \t\n\u00a0\u2003", max_size=4), st.text(" \t\n\u00a0", max_size=4))
def test_names_are_trimmed_and_collapsed(word: str, before: str, after: str) -> None:
    assume(len(unicodedata.normalize("NFC", word)) <= 15)
    value, found = outcome(lambda: v.parse_name(f"{before}{word}{after}  {word}{before}", required=True))
    assert found == []
    nfc = unicodedata.normalize("NFC", word)
    assert value == f"{nfc} {nfc}"


def test_name_length_limit_is_35_characters() -> None:
    assert outcome(lambda: v.parse_name("A" * 35, required=True)) == ("A" * 35, [])
    _, found = outcome(lambda: v.parse_name("A" * 36, required=True))
    assert reasons(found) == {Reason.FIELD_TOO_LONG}
    # Decomposed accents count once they are composed (NFC): 35 letters, 70 code points.
    assert outcome(lambda: v.parse_name("e\u0301" * 35, required=True))[1] == []


@given(st.text(st.characters(categories=["Lu", "Ll"]), min_size=36, max_size=200))
def test_too_long_names_are_rejected(name: str) -> None:
    assume(len(" ".join(unicodedata.normalize("NFC", name).split())) > v.NAME_MAX)
    _, found = outcome(lambda: v.parse_name(name, required=True))
    assert reasons(found) <= {Reason.FIELD_TOO_LONG, Reason.NAME_INVALID}
    assert found


@given(
    words,
    st.characters(categories=["Nd", "No", "Nl", "Sm", "Sc", "So", "Cc", "Cf", "Co", "Pd", "Ps", "Pe", "Po"]),
)
def test_digits_symbols_and_control_characters_are_rejected(word: str, bad: str) -> None:
    assume(bad not in " -'’.")
    assume(not bad.isspace())
    assume(len(unicodedata.normalize("NFC", word)) < 30)
    _, found = outcome(lambda: v.parse_name(f"{word}{bad}", required=True))
    assert reasons(found) == {Reason.NAME_INVALID}


@pytest.mark.parametrize("name", ["Smith3", "O'Brien!", "Ann\x00", "Zoë\u200f", "---", "...", "Ⅻ", "\u0301"])
def test_examples_of_invalid_names(name: str) -> None:
    _, found = outcome(lambda: v.parse_name(name, required=True))
    assert reasons(found) == {Reason.NAME_INVALID}


@pytest.mark.parametrize(
    "name", ["Zoë-Anne", "O’Néill Ó Sé", "Nguyễn", "Ωμέγα", "محمد", "李", "J. R.", "Şükrü"]
)
def test_examples_of_valid_names(name: str) -> None:
    assert outcome(lambda: v.parse_name(name, required=True)) == (name, [])


def test_blank_names() -> None:
    assert reasons(outcome(lambda: v.parse_name("  \t ", required=True))[1]) == {Reason.FIELD_REQUIRED}
    assert outcome(lambda: v.parse_name("  ", required=False)) == ("", [])


@given(st.text(max_size=300))
@example("\ud800")
@example("a\x00b")
def test_name_parsing_never_raises_anything_but_a_violation(text: str) -> None:
    for required in (True, False):
        value, found = outcome(lambda r=required: v.parse_name(text, required=r))
        if not found:
            assert isinstance(value, str) and len(value) <= v.NAME_MAX


# -- postcodes ---------------------------------------------------------------------------------

UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
A, D = st.sampled_from(UPPER), st.sampled_from("0123456789")


@st.composite
def postcodes(draw: st.DrawFn) -> tuple[str, str]:
    shape = draw(st.sampled_from(["A9", "A99", "AA9", "AA99", "A9A", "AA9A"]))
    outward = "".join(draw(A) if c == "A" else draw(D) for c in shape)
    inward = draw(D) + draw(A) + draw(A)
    return outward, inward


@st.composite
def spaced(draw: st.DrawFn, text: str) -> str:
    out = []
    for ch in text:
        out.append(draw(st.text(" \t", max_size=2)))
        out.append(ch.lower() if draw(st.booleans()) else ch)
    out.append(draw(st.text(" ", max_size=2)))
    return "".join(out)


@given(postcodes(), st.data())
def test_valid_postcodes_normalise_in_any_case_and_spacing(
    parts: tuple[str, str], data: st.DataObject
) -> None:
    outward, inward = parts
    written = data.draw(spaced(outward + inward))
    assert outcome(lambda: v.parse_postcode(written)) == (f"{outward} {inward}", [])


@pytest.mark.parametrize(
    ("written", "canonical"),
    [("zz99 3cz", "ZZ99 3CZ"), ("ZZ993CZ", "ZZ99 3CZ"), ("sw1a1aa", "SW1A 1AA"), (" m1 1ae ", "M1 1AE")],
)
def test_postcode_examples(written: str, canonical: str) -> None:
    assert outcome(lambda: v.parse_postcode(written)) == (canonical, [])


@pytest.mark.parametrize(
    "bad", ["NOT A POSTCODE", "12345", "SW1A", "1AA", "SW1A 1A", "1SW 1AA", "SW1A 1AAA", "GIR 1AA"]
)
def test_malformed_postcodes_are_rejected(bad: str) -> None:
    assert reasons(outcome(lambda: v.parse_postcode(bad))[1]) == {Reason.POSTCODE_INVALID}


@given(st.text(max_size=40))
def test_postcode_parsing_never_raises_and_only_yields_canonical_form(text: str) -> None:
    value, found = outcome(lambda: v.parse_postcode(text))
    if found:
        assert reasons(found) <= {Reason.POSTCODE_INVALID, Reason.FIELD_REQUIRED}
    else:
        assert v._POSTCODE.match(value.replace(" ", "")) is not None
        assert len(value) <= 9 and value.isascii() and value == value.upper()


# -- dates -------------------------------------------------------------------------------------


@given(st.dates(min_value=v.EARLIEST_BIRTH, max_value=TODAY))
def test_iso_dates_in_range_are_accepted(born: date) -> None:
    assert outcome(lambda: v.parse_date_of_birth(born.isoformat(), TODAY)) == (born, [])


@given(st.dates(max_value=v.EARLIEST_BIRTH - timedelta(days=1)).filter(lambda d: d.year >= 1000))
def test_dates_before_1900_are_rejected(born: date) -> None:
    _, found = outcome(lambda: v.parse_date_of_birth(born.isoformat(), TODAY))
    assert reasons(found) == {Reason.DATE_OF_BIRTH_INVALID}


@given(st.dates(min_value=TODAY + timedelta(days=1)))
def test_future_dates_are_rejected(born: date) -> None:
    _, found = outcome(lambda: v.parse_date_of_birth(born.isoformat(), TODAY))
    assert reasons(found) == {Reason.DATE_OF_BIRTH_INVALID}


@given(
    st.dates(min_value=v.EARLIEST_BIRTH, max_value=TODAY),
    st.sampled_from(["%d/%m/%Y", "%Y%m%d", "%d-%m-%Y", "%Y/%m/%d", "%d %B %Y"]),
)
def test_other_date_formats_are_rejected(born: date, fmt: str) -> None:
    _, found = outcome(lambda: v.parse_date_of_birth(born.strftime(fmt), TODAY))
    assert reasons(found) == {Reason.DATE_OF_BIRTH_INVALID}


@pytest.mark.parametrize(
    "bad",
    [
        "2011-02-30",
        "2011-02-29",
        "2011-13-01",
        "2011-00-10",
        "2011-04-31",
        "2011-03-14T00:00",
        "２０１１-03-14",
    ],
)
def test_impossible_or_malformed_dates_are_rejected(bad: str) -> None:
    _, found = outcome(lambda: v.parse_date_of_birth(bad, TODAY))
    assert reasons(found) == {Reason.DATE_OF_BIRTH_INVALID}


def test_date_boundaries() -> None:
    assert outcome(lambda: v.parse_date_of_birth("1900-01-01", TODAY))[1] == []
    assert outcome(lambda: v.parse_date_of_birth("2026-11-28", TODAY))[1] == []
    assert outcome(lambda: v.parse_date_of_birth("2008-02-29", TODAY)) == (date(2008, 2, 29), [])
    assert reasons(outcome(lambda: v.parse_date_of_birth("", TODAY))[1]) == {Reason.FIELD_REQUIRED}


@given(st.text(max_size=30))
def test_date_parsing_never_raises(text: str) -> None:
    value, found = outcome(lambda: v.parse_date_of_birth(text, TODAY))
    if not found:
        assert v.EARLIEST_BIRTH <= value <= TODAY


# -- UPN ---------------------------------------------------------------------------------------


def upn_with_check_letter(body: str) -> str:
    last = int(body[-1]) if body[-1].isdigit() else UPN_ALPHABET.index(body[-1])
    total = sum(pos * int(ch) for pos, ch in enumerate(body[:-1], start=2)) + 13 * last
    return UPN_ALPHABET[total % 23] + body


@pytest.mark.parametrize("upn", ["H801200001001", "G80120000101A", "B801200005001"])
def test_documented_valid_upns(upn: str) -> None:
    assert v.upn_is_valid(upn)
    assert upn_with_check_letter(upn[1:]) == upn


@pytest.mark.parametrize(
    "upn",
    [
        "Z801200001001",
        "H80120000100",
        "H8012000010011",
        "h801200001001",
        "I801200001001",
        "H80120000100I",
        "Ｈ801200001001",
    ],
)
def test_invalid_upns(upn: str) -> None:
    assert not v.upn_is_valid(upn)


def test_upn_is_upper_cased_before_checking() -> None:
    assert outcome(lambda: v.parse_upn(" h801200001001 ")) == ("H801200001001", [])
    assert reasons(outcome(lambda: v.parse_upn("Z801200001001"))[1]) == {Reason.UPN_INVALID}
    assert outcome(lambda: v.parse_upn("")) == ("", [])


upn_bodies = st.tuples(
    st.text("0123456789", min_size=11, max_size=11), st.sampled_from(list("0123456789") + list(UPN_ALPHABET))
).map("".join)


@given(upn_bodies)
def test_computed_check_letter_is_valid(body: str) -> None:
    assert v.upn_is_valid(upn_with_check_letter(body))


@given(upn_bodies, st.sampled_from(UPN_ALPHABET))
def test_changing_the_check_letter_invalidates(body: str, letter: str) -> None:
    upn = upn_with_check_letter(body)
    assume(letter != upn[0])
    assert not v.upn_is_valid(letter + body)


# -- age ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("born", "day", "age"),
    [
        (date(2012, 11, 28), date(2026, 11, 28), 14),
        (date(2012, 11, 29), date(2026, 11, 28), 13),
        (date(2012, 11, 27), date(2026, 11, 28), 14),
        (date(2008, 2, 29), date(2026, 2, 28), 17),  # a leapling turns 18 on 1 March in a common year
        (date(2008, 2, 29), date(2026, 3, 1), 18),
        (date(2008, 2, 29), date(2028, 2, 28), 19),
        (date(2008, 2, 29), date(2028, 2, 29), 20),
        (date(2012, 1, 1), date(2026, 12, 31), 14),
        (date(2012, 12, 31), date(2026, 1, 1), 13),
        (date(2026, 11, 28), date(2026, 11, 28), 0),
    ],
)
def test_age_on(born: date, day: date, age: int) -> None:
    assert v.age_on(born, day) == age


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 1, 1)), st.integers(0, 100))
def test_age_on_birthday_is_whole_years(born: date, years: int) -> None:
    try:
        birthday = born.replace(year=born.year + years)
    except ValueError:  # 29 February in a common year
        birthday = date(born.year + years, 3, 1)
    assert v.age_on(born, birthday) == years
    assert v.age_on(born, birthday - timedelta(days=1)) == years - 1


# -- the whole identity ------------------------------------------------------------------------

texts = st.text(max_size=60)


@given(
    st.fixed_dictionaries(
        {
            f: texts
            for f in (
                "given_name",
                "family_name",
                "date_of_birth",
                "postcode",
                "middle_names",
                "previous_family_name",
                "email",
                "upn",
                "town",
                "title",
            )
        }
    ),
    st.sampled_from([None, *Gender]),
)
def test_validate_identity_only_ever_raises_validation_error(
    fields: dict[str, str], gender: Gender | None
) -> None:
    found = v.Violations(prefix="identity.")
    identity = v.validate_identity(RawIdentity(gender=gender, **fields), TODAY, found)
    try:
        found.raise_if_any()
    except ValidationError as error:
        assert error.violations
        assert all(x.field.startswith("identity.") for x in error.violations)
        assert error.reason == error.violations[0].reason
    else:
        assert 0 < len(identity.given_name) <= v.NAME_MAX
        assert gender is not None


def test_every_bad_field_is_reported_at_once() -> None:
    found = v.Violations(prefix="identity.")
    v.validate_identity(
        RawIdentity(given_name="1", family_name="", date_of_birth="x", postcode="?"), TODAY, found
    )
    assert {f.field: f.reason for f in found.found} == {
        "identity.given_name": Reason.NAME_INVALID,
        "identity.family_name": Reason.FIELD_REQUIRED,
        "identity.date_of_birth": Reason.DATE_OF_BIRTH_INVALID,
        "identity.gender": Reason.FIELD_REQUIRED,
        "identity.postcode": Reason.POSTCODE_INVALID,
    }


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", Reason.FIELD_REQUIRED),
        ("12345", Reason.ULN_FORMAT_INVALID),
        ("１２３４５６７８９０", Reason.ULN_FORMAT_INVALID),
        ("1748529631", Reason.ULN_CHECKSUM_INVALID),
        ("9999999999", Reason.ULN_CHECKSUM_INVALID),
    ],
)
def test_validate_uln_reasons(value: str, reason: Reason) -> None:
    with pytest.raises(ValidationError) as caught:
        v.validate_uln(value)
    assert [(x.field, x.reason) for x in caught.value.violations] == [("uln", reason)]
    assert v.validate_uln(" 9276308686 ") == "9276308686"


def _name_by_categories(name: str) -> bool:
    """The name rule read off Unicode categories, character by character (the general path)."""
    allowed = all(unicodedata.category(ch)[0] in "LM" or ch in " -'’." for ch in name)
    return allowed and any(unicodedata.category(ch)[0] == "L" for ch in name)


@given(st.text(st.characters(max_codepoint=0x7F), max_size=40) | st.text(max_size=40))
@example("---")
@example(".A")
@example("-A-")
@example("'t Hooft")
@example("A")
@example("J. R.")
@example("Smith3")
def test_the_ascii_shortcut_accepts_exactly_the_names_the_general_rule_does(name: str) -> None:
    assert v._is_name(name) == _name_by_categories(name)


@given(st.text(max_size=40) | st.text(st.characters(max_codepoint=0xA0), max_size=40))
def test_control_characters_are_those_of_category_cc(text: str) -> None:
    assert v.has_control_characters(text) == any(unicodedata.category(ch) == "Cc" for ch in text)
