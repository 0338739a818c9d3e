"""The identity fingerprint is stored with every MIS link: its text must never change, or every
school's next file would look changed (and be weighed again) after an upgrade."""

from __future__ import annotations

import hashlib
from dataclasses import fields, replace
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from lrs_server.domain.model import Identity, identity_fingerprint
from matching.types import Gender
from tests.core.identities import identities as any_identity

_TEXT = st.text(max_size=12)


def _reference(identity: Identity) -> str:
    """The format as first stored: every field in declaration order, dates ISO, genders by value."""
    text = "\x1f".join(
        value.isoformat() if isinstance(value, date) else value.value if isinstance(value, Gender) else value
        for value in (getattr(identity, f.name) for f in fields(Identity))
    )
    return hashlib.sha256(text.encode()).hexdigest()


identities = any_identity(_TEXT)


@given(identities)
def test_fingerprint_keeps_the_stored_format(identity: Identity) -> None:
    assert identity_fingerprint(identity) == _reference(identity)


def test_a_known_fingerprint_is_unchanged() -> None:
    identity = Identity("Amy", "Smith", date(2009, 4, 1), Gender.FEMALE, "SW1A 1AA", town="London")
    assert identity_fingerprint(identity) == _reference(identity)
    assert identity_fingerprint(replace(identity, town="Leeds")) != identity_fingerprint(identity)
