"""Request builders for service tests."""

from __future__ import annotations

from typing import Any

from lrs.v1 import learner_pb2 as pb
from lrs.v1 import registration_service_pb2 as reg_pb

# Details that share nothing with identity()'s defaults: to the matcher, another person.
SOMEONE_ELSE: dict[str, Any] = {
    "given_name": "Oliver",
    "family_name": "Pemberton",
    "gender": pb.GENDER_MALE,
    "date_of_birth": "2010-05-30",
    "postcode": "TR1 1AA",
}


def identity(**overrides: Any) -> pb.LearnerIdentity:
    values: dict[str, Any] = {
        "given_name": "Amara",
        "family_name": "Okafor",
        "date_of_birth": "2011-03-14",
        "gender": pb.GENDER_FEMALE,
        "postcode": "SW1A 1AA",
    }
    values.update(overrides)
    return pb.LearnerIdentity(**values)


def register_request(**overrides: Any) -> reg_pb.RegisterLearnerRequest:
    fields = {
        k: overrides.pop(k)
        for k in ("request_id", "mis_identifier", "post14_qualification")
        if k in overrides
    }
    return reg_pb.RegisterLearnerRequest(identity=identity(**overrides), **fields)


def register_new(api: Any, metadata: Any = None, **overrides: Any) -> pb.Learner:
    """Register a learner, confirming 'new' if the matcher only suggests candidates; the learner."""
    request = register_request(**overrides)
    metadata = metadata or api.auth()
    response = api.registration.RegisterLearner(request, metadata=metadata)
    if response.outcome == reg_pb.REGISTRATION_OUTCOME_POSSIBLE_MATCH:
        request.confirmation.confirm_new_reason = "a different learner (test set-up)"
        response = api.registration.RegisterLearner(request, metadata=metadata)
    return response.learner
