"""Property-based tests of the rules for free text (no control characters) and for names kept on a
learner (short enough once the matcher spells them out), in lrs_server/domain/validation.py."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from lrs_server.domain import validation as v
from lrs_server.domain.errors import Reason
from lrs_server.domain.model import Gender, Identity, RawIdentity, person_record
from lrs_server.storage.tables import NameFrequency
from matching.matcher import ProbabilisticMatcher
from matching.normalise import normalise_name

TODAY = date(2026, 11, 28)
FREE_TEXT = ("address_line1", "address_line2", "town", "county", "school_at_16", "place_of_birth", "title")
NAMES = ("given_name", "family_name", "middle_names", "previous_family_name")
VALUE_COLUMN = NameFrequency.__table__.c.value.type.length  # type: ignore[attr-defined]

# Characters that NFKD or case folding spell out as several letters, with ordinary letters.
expanding = st.sampled_from(["ﬃ", "ﬀ", "ﬄ", "ß", "æ", "Ǆ", "ŉ", "ﷺ", "ﷻ"])
name_letters = st.one_of(
    st.characters(categories=["Lu", "Ll", "Lt", "Lo"]), expanding, st.sampled_from(" -'")
)
names = st.text(name_letters, min_size=1, max_size=40)


def _identity(**fields: str) -> tuple[Identity, dict[str, Reason]]:
    values = {"given_name": "Amara", "family_name": "Okafor", "date_of_birth": "2011-03-14"}
    values.update(fields)
    found = v.Violations(prefix="identity.")
    raw = RawIdentity(gender=Gender.FEMALE, postcode="SW1A 1AA", **values)
    identity = v.validate_identity(raw, TODAY, found)
    return identity, {x.field: x.reason for x in found.found}


# -- free text ---------------------------------------------------------------------------------


@given(st.text(max_size=80))
@example("a\x00b")
@example("line one\nline two\t")
@example("bell\x07")
@example("next\x85line")
@example("del\x7f")
def test_free_text_is_refused_exactly_when_a_control_character_survives_cleaning(text: str) -> None:
    cleaned = v.clean_text(text)
    found = v.Violations()
    value = found.check("f", lambda: v.parse_text(text), None)
    if v.has_control_characters(cleaned):
        assert [(x.field, x.reason) for x in found.found] == [("f", Reason.TEXT_INVALID)]
    else:
        assert (value, found.found) == (cleaned, [])
        assert not any(unicodedata.category(ch) == "Cc" for ch in value)


@given(
    st.sampled_from(FREE_TEXT), st.text(max_size=30), st.characters(categories=["Cc"]), st.text(max_size=10)
)
def test_identity_free_text_with_a_control_character_is_refused(
    field: str, before: str, control: str, after: str
) -> None:
    text = f"x{before}{control}{after}"
    if not v.has_control_characters(v.clean_text(text)):  # white space: collapsed to a space
        return
    _, fields = _identity(**{field: text})
    assert fields == {f"identity.{field}": Reason.TEXT_INVALID}


@given(st.text(max_size=60))
@example("a\x00@b.co")
@example("a@b.co\x00")
@example("\x1ba@b.co")
def test_an_accepted_email_holds_no_control_character(email: str) -> None:
    identity, fields = _identity(email=email)
    if "identity.email" not in fields:
        assert not v.has_control_characters(identity.email)
    if v.has_control_characters(email.strip()):
        assert fields == {"identity.email": Reason.TEXT_INVALID}


# -- names, as the matcher stores them ---------------------------------------------------------


ACCENTED = "àáâãäåçèéêëìíîïñòóôõöùúûüýÿÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝŁłØøŞşŽžĞğ -'"
accented = st.text(st.sampled_from(ACCENTED), min_size=1, max_size=v.NAME_MAX).filter(
    lambda name: any(ch.isalpha() for ch in name)
)


_MATCHER = ProbabilisticMatcher()  # built once: it loads the name lists (seconds on a busy machine)


@given(st.sampled_from(NAMES), names | accented)
@example("family_name", "ﬃ" * 22)
@example("given_name", "ﷺ" * 35)
@example("family_name", "ß" * 33)
@example("family_name", "Éléonore-Françoise Ångström-Müllerö")
@example("given_name", "Æthelflæd Þórsdóttir")
def test_every_name_accepted_fits_the_frequency_column_once_normalised(field: str, name: str) -> None:
    assert v.NORMALISED_NAME_MAX == VALUE_COLUMN
    identity, fields = _identity(**{field: name})
    if all(ch in ACCENTED for ch in name):  # ordinary accented names of up to 35 characters stay valid
        assert fields == {}
    if fields:
        return
    terms = _MATCHER.frequency_terms(person_record(identity))
    assert all(len(value) <= VALUE_COLUMN for value in terms.values()), terms
    # Whichever name it is, the same rule holds for it.
    assert len(normalise_name(getattr(identity, field)).joined) <= v.NORMALISED_NAME_MAX


@pytest.mark.parametrize(("field", "name"), [("family_name", "ﬃ" * 22), ("given_name", "ﷺ" * 35)])
def test_names_that_spell_out_too_long_are_refused_as_too_long(field: str, name: str) -> None:
    assert len(v.clean_text(name)) <= v.NAME_MAX
    _, fields = _identity(**{field: name})
    assert fields == {f"identity.{field}": Reason.FIELD_TOO_LONG}
