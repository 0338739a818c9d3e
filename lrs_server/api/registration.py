"""lrs.v1.LearnerRegistrationService."""

from __future__ import annotations

import grpc

from lrs.v1 import registration_service_pb2 as pb
from lrs.v1 import registration_service_pb2_grpc as pb_grpc
from lrs_server import convert
from lrs_server.domain.lookup import LookupService, VerificationQuery
from lrs_server.domain.registration import RegistrationService
from lrs_server.domain.updates import UpdateCommand, UpdateService
from lrs_server.interceptor import current_principal

_SERVICE = "lrs.v1.LearnerRegistrationService"


class LearnerRegistrationServicer(pb_grpc.LearnerRegistrationServiceServicer):
    def __init__(
        self, registration: RegistrationService, lookup: LookupService, updates: UpdateService
    ) -> None:
        self._registration = registration
        self._lookup = lookup
        self._updates = updates

    def RegisterLearner(
        self, request: pb.RegisterLearnerRequest, context: grpc.ServicerContext
    ) -> pb.RegisterLearnerResponse:
        result = self._registration.register(
            current_principal(), convert.registration_command(request), f"{_SERVICE}/RegisterLearner"
        )
        return convert.registration_to_pb(result)

    def FindLearnerByUln(
        self, request: pb.FindLearnerByUlnRequest, context: grpc.ServicerContext
    ) -> pb.FindLearnerByUlnResponse:
        found = self._lookup.find_by_uln(
            current_principal(),
            request.uln,
            request.given_name,
            request.family_name,
            f"{_SERVICE}/FindLearnerByUln",
        )
        return pb.FindLearnerByUlnResponse(
            learner=convert.learner_to_pb(found.learner), master_substituted=found.master_substituted
        )

    def FindLearnerByDemographics(
        self, request: pb.FindLearnerByDemographicsRequest, context: grpc.ServicerContext
    ) -> pb.FindLearnerByDemographicsResponse:
        result = self._lookup.find_by_demographics(
            current_principal(),
            convert.raw_identity(request.identity),
            f"{_SERVICE}/FindLearnerByDemographics",
        )
        return convert.find_to_pb(result)

    def VerifyLearner(
        self, request: pb.VerifyLearnerRequest, context: grpc.ServicerContext
    ) -> pb.VerifyLearnerResponse:
        query = VerificationQuery(
            uln=request.uln,
            given_name=request.given_name,
            family_name=request.family_name,
            date_of_birth=request.date_of_birth,
            gender=convert.gender_from_pb(request.gender),
        )
        result = self._lookup.verify(current_principal(), query, f"{_SERVICE}/VerifyLearner")
        return convert.verification_to_pb(result)

    def UpdateLearner(
        self, request: pb.UpdateLearnerRequest, context: grpc.ServicerContext
    ) -> pb.UpdateLearnerResponse:
        command = UpdateCommand(request.uln, convert.raw_identity(request.identity), request.etag)
        view = self._updates.update(current_principal(), command, f"{_SERVICE}/UpdateLearner")
        return pb.UpdateLearnerResponse(learner=convert.learner_to_pb(view))
