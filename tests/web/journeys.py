"""Set-up through lrs-server's own API, as a school and a college would do it, for the browser tests."""

from __future__ import annotations

from dataclasses import dataclass

from lrs.v1 import admin_service_pb2 as admin_pb
from lrs.v1 import learner_service_pb2 as self_pb
from lrs.v1 import record_service_pb2 as rec_pb
from lrs.v1 import registration_service_pb2 as reg_pb
from lrs_server.domain.model import OrgKind
from tests.records.conftest import admin, record, result_row, selfservice, submit
from tests.service.conftest import Api
from tests.service.factories import register_new, register_request

BORN = ("14", "3", "2011")  # the factories' Amara Okafor


@dataclass(frozen=True)
class Learner:
    uln: str
    code: str


def school_registers_with_result(api: Api) -> Learner:
    """A school registers Amara Okafor, submits her GCSE Mathematics grade 7 and gives her a code."""
    uln = register_new(api).uln
    (outcome,) = submit(api, api.auth(), result_row(uln, awarding_organisation="AQA"))
    assert outcome.outcome == rec_pb.SUBMIT_OUTCOME_CREATED
    return Learner(uln, new_code(api, uln))


def new_code(api: Api, uln: str) -> str:
    request = self_pb.IssueActivationCodeRequest(uln=uln)
    return str(selfservice(api).IssueActivationCode(request, metadata=api.auth()).code)


def college_reads(api: Api, uln: str) -> rec_pb.GetLearnerRecordResponse:
    return record(api, api.auth(OrgKind.POST16), uln)


NEAR = {"family_name": "Okafur", "postcode": "M1 1AE"}  # a possible match for Amara Okafor
POSTCODE_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


def queue_possible_matches(api: Api, count: int, school_ref: str = "REVIEW-SCHOOL") -> str:
    """Amara Okafor registered, then ``count`` near copies from one school, each left for review; her ULN."""
    first = register_new(api).uln
    school = api.add_school(school_ref)
    for n in range(count):
        postcode = f"M{1 + n // len(POSTCODE_LETTERS)} 1A{POSTCODE_LETTERS[n % len(POSTCODE_LETTERS)]}"
        request = register_request(mis_identifier=f"{school_ref}-{n}", **{**NEAR, "postcode": postcode})
        asked = api.registration.RegisterLearner(request, metadata=school)
        assert asked.outcome == reg_pb.REGISTRATION_OUTCOME_POSSIBLE_MATCH
    return first


def merge(api: Api, master: str, linked: str) -> None:
    request = admin_pb.MergeLearnersRequest(master_uln=master, linked_uln=linked, reason="same pupil")
    admin(api).MergeLearners(request, metadata=api.auth(OrgKind.ADMIN))
