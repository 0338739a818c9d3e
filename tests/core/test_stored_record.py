"""Candidate fetches build the matcher's record from a row's values by position (``stored_record``):
it must be the record ``person_record`` builds from the same learner, and the storage select must
read PersonRecord's fields in PersonRecord's order."""

from __future__ import annotations

from dataclasses import fields

from hypothesis import given
from hypothesis import strategies as st

from lrs_server.domain.model import Identity, person_record, stored_record
from lrs_server.storage.learners import _CANDIDATE_WITH_HISTORY, _RECORD_FIELDS
from matching.types import PersonRecord
from tests.core.identities import identities as any_identity

_TEXT = st.text(max_size=6)
# PersonRecord's fields as a learner row holds them: one previous family name, given at registration.
_STORED = [
    "previous_family_name" if f.name == "previous_family_names" else f.name for f in fields(PersonRecord)
]

identities = any_identity(_TEXT)


@given(identities, st.lists(st.sampled_from(["", "Smith", "Jones", "Okafor"]), max_size=3))
def test_a_stored_row_reads_as_the_identity_does(identity: Identity, history: list[str]) -> None:
    values = [getattr(identity, name) for name in _STORED]
    values[_STORED.index("gender")] = identity.gender.value
    assert stored_record(values, tuple(history)) == person_record(identity, tuple(history))


def test_the_candidate_select_reads_the_record_fields_in_order() -> None:
    names = [column.name for column in _CANDIDATE_WITH_HISTORY.selected_columns]
    assert names[_RECORD_FIELDS] == _STORED
