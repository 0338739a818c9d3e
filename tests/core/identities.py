"""A hypothesis strategy for any Identity, its text fields short and unchecked (shared by the tests
of the forms an identity is stored and read in)."""

from __future__ import annotations

from dataclasses import fields

from hypothesis import strategies as st

from lrs_server.domain.model import Identity
from matching.types import Gender


def identities(text: st.SearchStrategy[str]) -> st.SearchStrategy[Identity]:
    """Identities whose text fields are drawn from ``text``."""
    return st.builds(
        Identity,
        given_name=text,
        family_name=text,
        date_of_birth=st.dates(),
        gender=st.sampled_from(list(Gender)),
        postcode=text,
        **{
            f.name: text
            for f in fields(Identity)
            if f.name not in {"given_name", "family_name", "date_of_birth", "gender", "postcode"}
        },
    )
