"""Protobuf ⇄ domain value objects, in one module (servicers call nothing else to convert)."""

from __future__ import annotations

import dataclasses

from lrs.v1 import batch_service_pb2 as batch_pb
from lrs.v1 import learner_pb2 as pb
from lrs.v1 import registration_service_pb2 as reg_pb
from lrs_server.domain.errors import DomainError
from lrs_server.domain.lookup import (
    FindOutcome,
    FindResult,
    VerificationOutcome,
    VerificationResult,
    VerifiedField,
)
from lrs_server.domain.model import Gender, Identity, RawIdentity
from lrs_server.domain.record_ports import SchoolChoice
from lrs_server.domain.registration import (
    CandidateView,
    Confirmation,
    RegistrationCommand,
    RegistrationResult,
)
from lrs_server.privacy import LearnerView
from matching.types import Outcome

GENDER_FROM_PB: dict[pb.Gender.ValueType, Gender | None] = {
    pb.GENDER_UNSPECIFIED: None,
    pb.GENDER_NOT_KNOWN: Gender.NOT_KNOWN,
    pb.GENDER_MALE: Gender.MALE,
    pb.GENDER_FEMALE: Gender.FEMALE,
    pb.GENDER_NOT_SPECIFIED: Gender.NOT_SPECIFIED,
}
GENDER_TO_PB = {g: code for code, g in GENDER_FROM_PB.items() if g is not None}
OUTCOME_TO_PB = {
    Outcome.NEW: reg_pb.REGISTRATION_OUTCOME_NEW,
    Outcome.MATCHED: reg_pb.REGISTRATION_OUTCOME_MATCHED,
    Outcome.POSSIBLE_MATCH: reg_pb.REGISTRATION_OUTCOME_POSSIBLE_MATCH,
}
FIND_TO_PB = {
    FindOutcome.NO_MATCH: reg_pb.FIND_OUTCOME_NO_MATCH,
    FindOutcome.EXACT_MATCH: reg_pb.FIND_OUTCOME_EXACT_MATCH,
    FindOutcome.POSSIBLE_MATCHES: reg_pb.FIND_OUTCOME_POSSIBLE_MATCHES,
    FindOutcome.TOO_MANY_MATCHES: reg_pb.FIND_OUTCOME_TOO_MANY_MATCHES,
}
VERIFY_TO_PB = {
    VerificationOutcome.VERIFIED: reg_pb.VERIFICATION_OUTCOME_VERIFIED,
    VerificationOutcome.SIMILAR: reg_pb.VERIFICATION_OUTCOME_SIMILAR,
    VerificationOutcome.LINKED: reg_pb.VERIFICATION_OUTCOME_LINKED,
    VerificationOutcome.MISMATCH: reg_pb.VERIFICATION_OUTCOME_MISMATCH,
    VerificationOutcome.NOT_FOUND: reg_pb.VERIFICATION_OUTCOME_NOT_FOUND,
}
FIELD_TO_PB = {
    VerifiedField.GIVEN_NAME: reg_pb.VERIFICATION_FIELD_GIVEN_NAME,
    VerifiedField.FAMILY_NAME: reg_pb.VERIFICATION_FIELD_FAMILY_NAME,
    VerifiedField.DATE_OF_BIRTH: reg_pb.VERIFICATION_FIELD_DATE_OF_BIRTH,
    VerifiedField.GENDER: reg_pb.VERIFICATION_FIELD_GENDER,
}
_TEXT_FIELDS = tuple(f.name for f in dataclasses.fields(RawIdentity) if f.name != "gender")


SCHOOL_CHOICE_FROM_PB: dict[pb.SharingChoice.ValueType, SchoolChoice] = {
    pb.SHARING_CHOICE_NOT_SEEN: SchoolChoice.NOT_SEEN,
    pb.SHARING_CHOICE_SHARE: SchoolChoice.SHARE,
    pb.SHARING_CHOICE_DO_NOT_SHARE: SchoolChoice.DO_NOT_SHARE,
}


def school_choice(value: pb.SharingChoice.ValueType) -> SchoolChoice | None:
    """AbilityToShare as the school recorded it (None when not given)."""
    return SCHOOL_CHOICE_FROM_PB.get(value)


def gender_from_pb(value: pb.Gender.ValueType) -> Gender | None:
    return GENDER_FROM_PB.get(value)


def raw_identity(message: pb.LearnerIdentity) -> RawIdentity:
    values = {name: getattr(message, name) for name in _TEXT_FIELDS}
    return RawIdentity(gender=gender_from_pb(message.gender), **values)


def identity_to_pb(identity: Identity) -> pb.LearnerIdentity:
    values = {name: getattr(identity, name) for name in _TEXT_FIELDS if name != "date_of_birth"}
    return pb.LearnerIdentity(
        date_of_birth=identity.date_of_birth.isoformat(),
        gender=GENDER_TO_PB[identity.gender],
        **values,
    )


def learner_to_pb(view: LearnerView) -> pb.Learner:
    return pb.Learner(
        uln=view.uln,
        identity=identity_to_pb(view.identity),
        previous_family_names=view.previous_family_names,
        etag=view.etag,
    )


def candidate_to_pb(candidate: CandidateView) -> pb.MatchCandidate:
    return pb.MatchCandidate(
        learner=learner_to_pb(candidate.learner),
        match_weight=candidate.score.match_weight,
        match_probability=candidate.score.probability,
        comparisons=[
            pb.FieldComparison(field=c.field, level=c.level, weight=c.weight)
            for c in candidate.score.comparisons
        ],
    )


def registration_command(request: reg_pb.RegisterLearnerRequest) -> RegistrationCommand:
    decision = request.confirmation.WhichOneof("decision") if request.HasField("confirmation") else None
    confirmation = {
        None: Confirmation.NONE,
        "confirm_uln": Confirmation.EXISTING,
        "confirm_new_reason": Confirmation.NEW,
    }[decision]
    return RegistrationCommand(
        identity=raw_identity(request.identity),
        request_id=request.request_id,
        mis_identifier=request.mis_identifier,
        post14_qualification=request.post14_qualification,
        confirmation=confirmation,
        confirm_uln=request.confirmation.confirm_uln,
        confirm_new_reason=request.confirmation.confirm_new_reason,
        ability_to_share=school_choice(request.ability_to_share),
    )


def batch_command(request: batch_pb.BatchRow) -> RegistrationCommand:
    return RegistrationCommand(
        identity=raw_identity(request.identity),
        mis_identifier=request.mis_identifier,
        post14_qualification=request.post14_qualification,
        known_uln=request.uln,
        ability_to_share=school_choice(request.ability_to_share),
    )


def registration_to_pb(result: RegistrationResult) -> reg_pb.RegisterLearnerResponse:
    response = reg_pb.RegisterLearnerResponse(
        outcome=OUTCOME_TO_PB[result.outcome],
        candidates=[candidate_to_pb(c) for c in result.candidates],
    )
    if result.learner is not None:
        response.learner.CopyFrom(learner_to_pb(result.learner))
    return response


def batch_result_to_pb(request: batch_pb.BatchRow, result: RegistrationResult) -> batch_pb.BatchRowResult:
    return batch_pb.BatchRowResult(
        row_number=request.row_number,
        mis_identifier=request.mis_identifier,
        outcome=OUTCOME_TO_PB[result.outcome],
        uln=result.learner.uln if result.learner else "",
        candidate_ulns=[c.learner.uln for c in result.candidates],
        updated=result.updated,
    )


def batch_rejection_to_pb(request: batch_pb.BatchRow, error: DomainError) -> batch_pb.BatchRowResult:
    return batch_pb.BatchRowResult(
        row_number=request.row_number,
        mis_identifier=request.mis_identifier,
        rejection_reason=str(error.reason),
        rejection_message=error.message,
        rejected_fields=[v.field for v in error.violations],
    )


def find_to_pb(result: FindResult) -> reg_pb.FindLearnerByDemographicsResponse:
    return reg_pb.FindLearnerByDemographicsResponse(
        outcome=FIND_TO_PB[result.outcome], candidates=[candidate_to_pb(c) for c in result.candidates]
    )


def verification_to_pb(result: VerificationResult) -> reg_pb.VerifyLearnerResponse:
    return reg_pb.VerifyLearnerResponse(
        outcome=VERIFY_TO_PB[result.outcome],
        uln=result.uln,
        mismatched_fields=[FIELD_TO_PB[f] for f in result.mismatched],
    )
