"""Set-up through lrs-server's own API, as a school and a college would do it, for the browser tests."""

from __future__ import annotations

from dataclasses import dataclass

from lrs.v1 import learner_service_pb2 as self_pb
from lrs.v1 import record_service_pb2 as rec_pb
from lrs_server.domain.model import OrgKind
from tests.records.conftest import record, result_row, selfservice, submit
from tests.service.conftest import Api
from tests.service.factories import register_new

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
