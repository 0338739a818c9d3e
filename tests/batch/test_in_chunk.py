"""Rows decided in one transaction see each other: a later row may match or nearly match an earlier one."""

from __future__ import annotations

import dataclasses

from sqlalchemy import Engine, event, text

from lrs_server.domain.clock import Clock
from lrs_server.domain.errors import DomainError, Reason
from lrs_server.domain.model import Gender, OrgKind, Principal, RawIdentity
from lrs_server.domain.registration import RegistrationCommand, RegistrationService
from lrs_server.domain.review import ReviewHooks
from lrs_server.privacy import Disclosure
from lrs_server.storage.organisations import OrganisationStore
from lrs_server.storage.records import SqlRecordStore
from matching import ProbabilisticMatcher, default_matcher
from matching.types import Outcome
from tests.conftest import TODAY

RPC = "lrs.v1.BatchRegistrationService/BatchRegisterLearners"
PUPIL = RawIdentity("Sophie", "Evans", "2011-03-14", Gender.FEMALE, "M4 7RH")
STRANGER = RawIdentity("Oliver", "Pemberton", "2010-05-30", Gender.MALE, "TR1 1AA")


def test_a_near_duplicate_in_the_same_chunk_is_a_possible_match_with_a_real_uln(engine: Engine) -> None:
    issued = OrganisationStore(engine).add(OrgKind.SCHOOL, "100001", "School")
    principal = OrganisationStore(engine).principal_for_token(issued.token)
    assert principal is not None
    service = RegistrationService(
        SqlRecordStore(engine), default_matcher(), Clock(fixed=TODAY), Disclosure(), ReviewHooks()
    )
    near = RawIdentity("Soph", "Evans", "2011-03-14", Gender.FEMALE, "SW1A 1AA")
    first, second = service.register_many(
        principal,
        [
            RegistrationCommand(PUPIL, mis_identifier="MIS-1"),
            RegistrationCommand(near, mis_identifier="MIS-2"),
        ],
        RPC,
    )
    assert not isinstance(first, DomainError) and not isinstance(second, DomainError)
    assert first.outcome is Outcome.NEW and first.learner is not None
    assert second.outcome is Outcome.POSSIBLE_MATCH
    assert [c.learner.uln for c in second.candidates] == [first.learner.uln]
    with engine.connect() as c:
        logged = c.execute(text("SELECT learner_id FROM access_log")).scalars().all()
        queued = c.execute(text("SELECT candidate_ids FROM review_item")).scalars().all()
        (learner_id,) = c.execute(text("SELECT id FROM learner")).scalars().all()
    assert set(logged) == {learner_id}
    assert queued == [str(learner_id)] or str(learner_id) in queued[0]


def _service_and_school(
    engine: Engine, ref: str = "100001", matcher: ProbabilisticMatcher | None = None
) -> tuple[RegistrationService, Principal]:
    issued = OrganisationStore(engine).add(OrgKind.SCHOOL, ref, f"School {ref}")
    principal = OrganisationStore(engine).principal_for_token(issued.token)
    assert principal is not None
    service = RegistrationService(
        SqlRecordStore(engine), matcher or default_matcher(), Clock(fixed=TODAY), Disclosure(), ReviewHooks()
    )
    return service, principal


def _links(engine: Engine) -> list[tuple[str, int]]:
    with engine.connect() as c:
        return [tuple(r) for r in c.execute(text("SELECT mis_identifier, learner_id FROM mis_link"))]


def test_one_mis_identifier_for_two_people_in_one_chunk_refuses_the_second(engine: Engine) -> None:
    """The same identifier twice in one chunk (padded or not) is held to the same rule as across
    chunks: a second person under it gets no one's ULN, and the link stays with the first."""
    service, school = _service_and_school(engine)
    first, second = service.register_many(
        school,
        [
            RegistrationCommand(PUPIL, mis_identifier="MIS-1"),
            RegistrationCommand(STRANGER, mis_identifier=" MIS-1 "),
        ],
        RPC,
    )
    assert not isinstance(first, DomainError) and first.outcome is Outcome.NEW and first.learner
    assert isinstance(second, DomainError) and second.reason is Reason.MIS_IDENTIFIER_CONFLICT
    assert [mis for mis, _ in _links(engine)] == ["MIS-1"]
    ((_, learner_id),) = _links(engine)
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM learner")).scalar_one() == 1
        assert c.execute(text("SELECT uln FROM learner WHERE id = :i"), {"i": learner_id}).scalar_one() == (
            first.learner.uln
        )


def test_a_pupil_matched_earlier_in_the_chunk_keeps_its_identifier(engine: Engine) -> None:
    """Row 1 matches a learner another school registered; row 2, another person under the same
    identifier, must neither be registered under it nor move the link."""
    other, other_school = _service_and_school(engine, "200002")
    (existing,) = other.register_many(other_school, [RegistrationCommand(PUPIL)], RPC)
    assert not isinstance(existing, DomainError) and existing.learner is not None
    service, school = _service_and_school(engine)
    first, second = service.register_many(
        school,
        [
            RegistrationCommand(PUPIL, mis_identifier="MIS-1"),
            RegistrationCommand(STRANGER, mis_identifier="MIS-1"),
        ],
        RPC,
    )
    assert not isinstance(first, DomainError) and first.outcome is Outcome.MATCHED
    assert isinstance(second, DomainError) and second.reason is Reason.MIS_IDENTIFIER_CONFLICT
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM learner")).scalar_one() == 1
        linked_uln = c.execute(
            text("SELECT l.uln FROM mis_link m JOIN learner l ON l.id = m.learner_id")
        ).scalar_one()
    assert linked_uln == existing.learner.uln


def test_changed_rows_of_known_pupils_read_their_name_counts_in_one_query(engine: Engine) -> None:
    """Weighing a changed row against its learner needs name counts; a chunk of such rows reads
    them with one query, not one or more per row (the batch's hot path)."""
    # Term-frequency weights from the first learner on (by default they wait for 1,000), so that
    # weighing a row reads counts as it does in a real register.
    tf_at_once = ProbabilisticMatcher(dataclasses.replace(default_matcher().config, tf_min_total=1))
    service, school = _service_and_school(engine, matcher=tf_at_once)
    names = ["Amara", "Bilal", "Chen", "Dmitri", "Esi", "Farah", "Gwen", "Hiro", "Ines", "Jomo"]
    pupils = [
        RawIdentity(name, f"{name}son", f"2010-{i + 1:02d}-1{i}", Gender.FEMALE, "M4 7RH")
        for i, name in enumerate(names)
    ]
    first = service.register_many(
        school, [RegistrationCommand(p, mis_identifier=f"M{i}") for i, p in enumerate(pupils)], RPC
    )
    assert all(not isinstance(r, DomainError) and r.outcome is Outcome.NEW for r in first)
    moved = [dataclasses.replace(p, postcode="LS1 4AP") for p in pupils]
    counted: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        if "name_frequency" in statement and statement.lstrip().upper().startswith("SELECT"):
            counted.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        again = service.register_many(
            school, [RegistrationCommand(p, mis_identifier=f"M{i}") for i, p in enumerate(moved)], RPC
        )
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert all(not isinstance(r, DomainError) and r.outcome is Outcome.MATCHED and r.updated for r in again)
    assert len(counted) <= 1, counted
