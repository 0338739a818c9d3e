"""A merged duplicate's details still describe its learner: registering or finding someone by them
answers with the master's ULN, never a new one and never the linked ULN."""

from __future__ import annotations

from lrs.v1 import admin_service_pb2 as admin_pb
from lrs.v1 import batch_service_pb2 as batch_pb
from lrs.v1 import registration_service_pb2 as reg_pb
from lrs_server.domain.model import OrgKind
from tests.records.conftest import admin
from tests.service.conftest import Api
from tests.service.factories import identity, register_new, register_request

# The duplicate: registered by another school with a nickname, the birth date's day and month
# swapped and an old address, so that on its own details it does not look like the master.
DUPLICATE = {"given_name": "Amy", "date_of_birth": "2011-04-13", "postcode": "M1 1AE"}


def _merged(api: Api) -> tuple[str, str]:
    master = register_new(api).uln
    linked = register_new(api, **DUPLICATE).uln
    assert linked != master
    admin(api).MergeLearners(
        admin_pb.MergeLearnersRequest(master_uln=master, linked_uln=linked, reason="duplicate"),
        metadata=api.auth(OrgKind.ADMIN),
    )
    return master, linked


def test_registering_with_a_merged_duplicates_details_gives_the_masters_uln(api: Api) -> None:
    master, _ = _merged(api)
    school = api.add_school("MERGE-2")
    response = api.registration.RegisterLearner(register_request(**DUPLICATE), metadata=school)
    assert response.outcome == reg_pb.REGISTRATION_OUTCOME_MATCHED
    assert response.learner.uln == master


def test_a_batch_row_with_a_merged_duplicates_details_gets_the_masters_uln(api: Api) -> None:
    master, _ = _merged(api)
    rows = [batch_pb.BatchRow(row_number=1, mis_identifier="P-1", identity=identity(**DUPLICATE))]
    (response,) = api.batch.BatchRegisterLearners(
        iter([batch_pb.BatchRegisterLearnersRequest(rows=rows)]), metadata=api.add_school("MERGE-3")
    )
    (result,) = response.results
    assert (result.outcome, result.uln) == (reg_pb.REGISTRATION_OUTCOME_MATCHED, master)


def test_finding_by_a_merged_duplicates_details_gives_the_master(api: Api) -> None:
    master, _ = _merged(api)
    response = api.registration.FindLearnerByDemographics(
        reg_pb.FindLearnerByDemographicsRequest(identity=identity(**DUPLICATE)),
        metadata=api.auth(OrgKind.POST16),
    )
    assert response.outcome == reg_pb.FIND_OUTCOME_EXACT_MATCH
    assert [c.learner.uln for c in response.candidates] == [master]


def test_a_resent_row_whose_pupil_was_merged_gets_the_masters_uln(api: Api) -> None:
    """The school registered the duplicate under its MIS identifier; after the merge, sending the
    row again answers with the master, and the identifier now names the master."""
    school = api.add_school("MERGE-4")
    master = register_new(api).uln

    def send() -> batch_pb.BatchRowResult:
        rows = [batch_pb.BatchRow(row_number=1, mis_identifier="P-9", identity=identity(**DUPLICATE))]
        request = batch_pb.BatchRegisterLearnersRequest(rows=rows)
        (response,) = api.batch.BatchRegisterLearners(iter([request]), metadata=school)
        (result,) = response.results
        return result

    first = send()
    assert first.outcome == reg_pb.REGISTRATION_OUTCOME_NEW  # on its own details, another learner
    linked = first.uln
    admin(api).MergeLearners(
        admin_pb.MergeLearnersRequest(master_uln=master, linked_uln=linked, reason="duplicate"),
        metadata=api.auth(OrgKind.ADMIN),
    )
    again = send()
    assert (again.outcome, again.uln) == (reg_pb.REGISTRATION_OUTCOME_MATCHED, master)
    assert send().uln == master


def test_retrying_a_registration_after_its_learner_was_merged_answers_with_the_master(api: Api) -> None:
    """The retry of the request that created the duplicate gets the master's ULN, never the linked one
    (which, once merged, is shown to nobody)."""
    master = register_new(api).uln
    school = api.add_school("RETRY-1")
    request = register_request(request_id="req-dup", **DUPLICATE)
    request.confirmation.confirm_new_reason = "a different learner (test set-up)"
    first = api.registration.RegisterLearner(request, metadata=school)
    linked = first.learner.uln
    assert linked != master
    admin(api).MergeLearners(
        admin_pb.MergeLearnersRequest(master_uln=master, linked_uln=linked, reason="duplicate"),
        metadata=api.auth(OrgKind.ADMIN),
    )
    retry = api.registration.RegisterLearner(request, metadata=school)
    assert retry.learner.uln == master
