"""The synthetic generator makes what it says: valid records, households that share an address, and
re-registration variations and look-alikes that really differ as their labels claim."""

from __future__ import annotations

from collections import Counter
from datetime import date
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz.distance import Levenshtein

from lrs_server.domain.model import RawIdentity
from lrs_server.domain.validation import POSTCODE_NOT_KNOWN, Violations, upn_is_valid, validate_identity
from matching.evaluate import evaluate, report
from matching.synthetic import (
    LOOKALIKE_KINDS,
    VARIATIONS,
    Registration,
    SyntheticStream,
    diminutives,
    is_permanent_upn,
    jaro_winkler,
    town_of,
)
from matching.synthetic_places import TOWNS
from matching.types import PersonRecord

_TODAY = date(2025, 1, 1)


@cache
def _stream(seed: int, n: int) -> tuple[SyntheticStream, tuple[Registration, ...]]:
    stream = SyntheticStream(seed)
    return stream, tuple(stream.registrations(n))


def _rereg(variation: str, seed: int = 2, n: int = 20_000) -> list[tuple[PersonRecord, PersonRecord]]:
    """(earlier person, re-registration) for each re-registration with ``variation`` alone."""
    stream, registrations = _stream(seed, n)
    found = [
        (stream.persons[r.person_id], r.record)
        for r in registrations
        if r.kind == "reregistration" and r.variations == (variation,)
    ]
    assert len(found) >= 20, variation
    return found


def _address(record: PersonRecord) -> tuple[str, str, str, str]:
    return record.postcode, record.address_line1, record.address_line2, record.town


def _validate(record: PersonRecord) -> list[str]:
    """The server's violations for ``record`` as a caller would send it (a missing postcode as
    ZZ99 3CZ, which is how the server holds one)."""
    raw = RawIdentity(
        given_name=record.given_name,
        family_name=record.family_name,
        date_of_birth=record.date_of_birth.isoformat(),
        gender=record.gender,
        postcode=record.postcode or POSTCODE_NOT_KNOWN,
        middle_names=record.middle_names,
        previous_family_name=record.previous_family_names[0] if record.previous_family_names else "",
        preferred_given_name=record.preferred_given_name,
        address_line1=record.address_line1,
        address_line2=record.address_line2,
        town=record.town,
        upn=record.upn,
    )
    violations = Violations()
    validate_identity(raw, _TODAY, violations)
    return [f"{v.field}: {v.description}" for v in violations.found]


@settings(max_examples=5, deadline=None)
@given(st.integers(0, 2**32))
def test_stream_is_deterministic_for_a_seed(seed: int) -> None:
    assert list(SyntheticStream(seed).registrations(800)) == list(SyntheticStream(seed).registrations(800))


@settings(max_examples=8, deadline=None)
@given(st.integers(0, 2**32))
def test_every_record_passes_the_servers_validation(seed: int) -> None:
    for registration in SyntheticStream(seed).registrations(1500):
        assert _validate(registration.record) == [], registration


def test_every_variation_and_lookalike_kind_is_made() -> None:
    _, registrations = _stream(2, 20_000)
    made = Counter(v for r in registrations for v in r.variations)
    assert set(made) == set(VARIATIONS)
    assert {r.kind for r in registrations} == {"new", "reregistration", *LOOKALIKE_KINDS}


def test_addresses_are_consistent_with_the_postcode() -> None:
    _, registrations = _stream(2, 20_000)
    new = [r.record for r in registrations if r.kind == "new"]
    assert all(
        r.town == town_of(r.postcode) and r.town in TOWNS[r.postcode[:2].rstrip("0123456789")] for r in new
    )
    assert all(r.address_line1[0].isdigit() or r.address_line1.startswith("Flat ") for r in new)
    assert 0.05 < sum("Flat" in r.address_line1 + r.address_line2 for r in new) / len(new) < 0.2
    assert 0.15 < sum(bool(r.address_line2) for r in new) / len(new) < 0.4


def test_most_children_have_a_valid_upn_some_temporary() -> None:
    _, registrations = _stream(2, 20_000)
    upns = [r.record.upn for r in registrations if r.kind == "new"]
    assert all(upn_is_valid(u) for u in upns if u)
    permanent = sum(map(is_permanent_upn, upns)) / len(upns)
    temporary = sum(bool(u) and u[-1].isalpha() for u in upns) / len(upns)
    assert 0.75 < permanent < 0.85
    assert 0.05 < temporary < 0.12


def test_no_two_people_share_a_upn() -> None:
    """Twins' consecutive UPNs too: triplets made of one child must not be given the same one."""
    _, registrations = _stream(2, 20_000)
    holders: dict[str, set[int]] = {}
    for r in registrations:
        if r.record.upn:
            holders.setdefault(r.record.upn, set()).add(r.person_id)
    assert all(len(people) == 1 for people in holders.values())


def test_lookalikes_share_the_household_address() -> None:
    stream, registrations = _stream(2, 20_000)
    lookalikes = [r for r in registrations if r.kind in LOOKALIKE_KINDS]
    assert {r.kind for r in lookalikes} == set(LOOKALIKE_KINDS)
    for r in lookalikes:
        assert r.source_person_id is not None
        source = stream.persons[r.source_person_id]
        assert _address(r.record) == _address(source), r
        assert r.record.family_name == source.family_name
        if r.kind == "parent_child":
            years = (source.date_of_birth - r.record.date_of_birth).days / 365.25
            assert 17.5 < years < 45.5
            assert (r.record.given_name, r.record.upn) == (source.given_name, "")


def test_twin_similar_name_is_another_real_name_one_or_two_letters_away() -> None:
    stream, registrations = _stream(2, 20_000)
    twins = [r for r in registrations if r.kind == "twin_similar_name"]
    assert len(twins) >= 50
    same_sex = 0
    for r in twins:
        assert r.source_person_id is not None
        source = stream.persons[r.source_person_id]
        twin = r.record
        assert (twin.family_name, twin.date_of_birth) == (source.family_name, source.date_of_birth)
        assert _address(twin) == _address(source)
        assert twin.given_name.lower() != source.given_name.lower()
        assert 1 <= Levenshtein.distance(twin.given_name.lower(), source.given_name.lower()) <= 2
        assert is_permanent_upn(twin.upn) and is_permanent_upn(source.upn) and twin.upn != source.upn
        same_sex += twin.gender is source.gender
    assert same_sex > 0.6 * len(twins)


def test_family_name_changed_is_wholly_different_with_no_previous_name() -> None:
    for person, record in _rereg("family_name_changed"):
        assert jaro_winkler(record.family_name, person.family_name) < 0.7
        assert record.previous_family_names == ()
        assert (record.given_name, record.date_of_birth, record.gender) == (
            person.given_name,
            person.date_of_birth,
            person.gender,
        )
        assert _address(record) == _address(person)


def _digits_changed(a: date, b: date) -> int:
    return sum(x != y for x, y in zip(a.strftime("%Y%m%d"), b.strftime("%Y%m%d"), strict=True))


def test_dob_close_is_days_out_or_two_digits_changed() -> None:
    by_days = 0
    for person, record in _rereg("dob_close"):
        days = abs((record.date_of_birth - person.date_of_birth).days)
        assert 2 <= days <= 31 or _digits_changed(record.date_of_birth, person.date_of_birth) == 2
        by_days += 2 <= days <= 31
        assert (record.given_name, record.family_name) == (person.given_name, person.family_name)
    assert by_days > 0


def test_dob_wrong_is_another_date_within_twelve_years() -> None:
    for person, record in _rereg("dob_wrong"):
        days = abs((record.date_of_birth - person.date_of_birth).days)
        assert 31 < days <= 12 * 366
        assert (record.given_name, record.family_name) == (person.given_name, person.family_name)
        assert _address(record) == _address(person)


@pytest.mark.parametrize(
    ("name", "short"),
    [("Jakub", "Kuba"), ("Abigail", "Abi"), ("Sebastian", "Seb"), ("Anthony", "Ant"), ("Oluwaseun", "Seun")],
)
def test_diminutives_come_from_the_package_and_the_projects_forms(name: str, short: str) -> None:
    assert short in diminutives(name)


def test_diminutive_replaces_the_given_name_with_a_short_form() -> None:
    for person, record in _rereg("diminutive"):
        assert record.given_name in diminutives(person.given_name)
        assert record.family_name == person.family_name


def test_upn_is_carried_only_under_upn_carried() -> None:
    stream, registrations = _stream(2, 20_000)
    for r in registrations:
        if r.kind != "reregistration":
            continue
        earlier = stream.persons[r.person_id].upn
        if "upn_carried" in r.variations:
            assert is_permanent_upn(earlier) and r.record.upn == earlier
        else:
            assert not (is_permanent_upn(earlier) and r.record.upn == earlier)


def test_postcode_mistyped_changes_one_character_and_keeps_the_address_lines() -> None:
    for person, record in _rereg("postcode_mistyped"):
        assert len(record.postcode) == len(person.postcode)
        assert sum(a != b for a, b in zip(record.postcode, person.postcode, strict=True)) == 1
        assert _validate(record) == []
        assert _address(record)[1:] == _address(person)[1:]


def test_new_address_moves_postcode_street_and_usually_town_together() -> None:
    moves = _rereg("new_address")
    for person, record in moves:
        assert record.postcode != person.postcode
        assert record.address_line1 != person.address_line1
        assert record.town == town_of(record.postcode)
    assert sum(p.town != r.town for p, r in moves) > 0.6 * len(moves)


def test_address_format_writes_the_same_address_differently() -> None:
    for person, record in _rereg("address_format"):
        assert (record.address_line1, record.address_line2) != (person.address_line1, person.address_line2)
        assert (record.postcode, record.town) == (person.postcode, person.town)
        assert record.given_name == person.given_name


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2**32))
def test_any_address_can_be_rewritten_again_and_again(seed: int) -> None:
    """Two rewrites at once (the flat moved, then a typo in the street) on every kind of address."""
    stream = SyntheticStream(seed)
    for person in stream.new_people(300):
        record = person
        for _ in range(4):
            record, applied = stream.vary(record, ("address_format",))
            assert applied == ("address_format",)
            assert _validate(record) == []


def test_missing_postcode_keeps_the_address_lines() -> None:
    for person, record in _rereg("missing_postcode"):
        assert record.postcode in ("", POSTCODE_NOT_KNOWN)
        assert _address(record)[1:] == _address(person)[1:]


def test_evaluation_reports_every_variation_and_lookalike_kind() -> None:
    text = report(evaluate(SyntheticStream(seed=4).registrations(600)))
    for name in (*VARIATIONS, *LOOKALIKE_KINDS):
        assert f"  {name} " in text, name
