"""Rows decided in one transaction see each other: a later row may match or nearly match an earlier one."""

from __future__ import annotations

from sqlalchemy import Engine, text

from lrs_server.domain.clock import Clock
from lrs_server.domain.errors import DomainError
from lrs_server.domain.model import Gender, OrgKind, RawIdentity
from lrs_server.domain.registration import RegistrationCommand, RegistrationService
from lrs_server.domain.review import ReviewHooks
from lrs_server.privacy import Disclosure
from lrs_server.storage.organisations import OrganisationStore
from lrs_server.storage.records import SqlRecordStore
from matching import default_matcher
from matching.types import Outcome
from tests.conftest import TODAY

RPC = "lrs.v1.BatchRegistrationService/BatchRegisterLearners"
PUPIL = RawIdentity("Sophie", "Evans", "2011-03-14", Gender.FEMALE, "M4 7RH")


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
