"""Property-based test of the page-token rule (lrs_server/domain/learner_access.py): ASCII digits
naming a row id the 32-bit id columns can hold; anything else refused."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from lrs_server.domain import validation as v
from lrs_server.domain.errors import Reason, ValidationError
from lrs_server.domain.learner_access import page_after
from lrs_server.storage.tables import AccessLogEntry, ReviewItemRecord

tokens = st.one_of(
    st.text(max_size=25),
    st.integers(min_value=-(2**64), max_value=2**64).map(str),
    st.integers(min_value=1, max_value=2**31 - 1).map(str),  # every token the service can give
)


@given(tokens)
@example("²")
@example("٣")
@example("９")
@example("9" * 10)
@example("9" * 18)
@example(str(2**31))
@example(str(2**31 - 1))
@example("0")
@example("-1")
@example(" 12")
def test_a_page_token_is_ascii_digits_naming_a_possible_row(token: str) -> None:
    # Ids are integer columns: 32-bit on PostgreSQL.
    for column in (ReviewItemRecord.__table__.c.id, AccessLogEntry.__table__.c.id):  # type: ignore[attr-defined]
        assert type(column.type).__name__ == "Integer"
    assert v.ROW_ID_MAX == 2**31 - 1
    ascii_digits = token.isascii() and token.isdigit()
    expected = int(token) if ascii_digits and int(token) <= v.ROW_ID_MAX else None
    if not token:
        assert page_after(token) is None
    elif expected is None:
        with pytest.raises(ValidationError) as caught:
            page_after(token)
        assert [(x.field, x.reason) for x in caught.value.violations] == [
            ("page_token", Reason.PAGE_TOKEN_INVALID)
        ]
    else:
        assert page_after(token) == expected
