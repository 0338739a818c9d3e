"""Building requests from command-line values and turning responses into plain dicts (JSON output)."""

from __future__ import annotations

from typing import Any

from google.protobuf.json_format import MessageToDict

from lrs.v1 import learner_pb2 as pb
from lrs.v1 import registration_service_pb2 as reg_pb

GENDERS = {
    "not-known": pb.GENDER_NOT_KNOWN,
    "male": pb.GENDER_MALE,
    "female": pb.GENDER_FEMALE,
    "not-specified": pb.GENDER_NOT_SPECIFIED,
}

# AbilityToShare as the school recorded it on the learner's behalf (LRB column, normalised by files/).
SHARING_CHOICES = {
    "not-seen": pb.SHARING_CHOICE_NOT_SEEN,
    "share": pb.SHARING_CHOICE_SHARE,
    "do-not-share": pb.SHARING_CHOICE_DO_NOT_SHARE,
}


def sharing_choice(value: str) -> pb.SharingChoice.ValueType:
    """The SharingChoice for a normalised AbilityToShare value ('' or unknown: not stated)."""
    return SHARING_CHOICES.get(value, pb.SHARING_CHOICE_UNSPECIFIED)


def enum_name(enum_type: Any, value: int) -> str:
    """``REGISTRATION_OUTCOME_NEW`` -> ``NEW`` (the prefix is the enum's name in UPPER_SNAKE)."""
    name: str = enum_type.Name(value)
    prefix = "".join(f"_{c}" if c.isupper() else c for c in enum_type.DESCRIPTOR.name).lstrip("_").upper()
    return name.removeprefix(f"{prefix}_")


def identity(
    *,
    given_name: str = "",
    family_name: str = "",
    date_of_birth: str = "",
    gender: str = "",
    postcode: str = "",
    **others: str,
) -> pb.LearnerIdentity:
    message = pb.LearnerIdentity(
        given_name=given_name,
        family_name=family_name,
        date_of_birth=date_of_birth,
        gender=GENDERS.get(gender, pb.GENDER_UNSPECIFIED),
        postcode=postcode,
    )
    for name, value in others.items():
        if value:
            setattr(message, name, value)
    return message


def learner_dict(learner: pb.Learner) -> dict[str, Any]:
    out: dict[str, Any] = {"uln": learner.uln}
    out.update(MessageToDict(learner.identity, preserving_proto_field_name=True))
    if "gender" in out:
        out["gender"] = enum_name(pb.Gender, learner.identity.gender).lower().replace("_", "-")
    if learner.previous_family_names:
        out["previous_family_names"] = list(learner.previous_family_names)
    return out


def candidate_dict(candidate: pb.MatchCandidate) -> dict[str, Any]:
    return {
        **learner_dict(candidate.learner),
        "match_weight": round(candidate.match_weight, 3),
        "match_probability": round(candidate.match_probability, 6),
        "comparisons": [
            {"field": c.field, "level": c.level, "weight": round(c.weight, 3)} for c in candidate.comparisons
        ],
    }


def registration_dict(response: reg_pb.RegisterLearnerResponse) -> dict[str, Any]:
    return {
        "outcome": enum_name(reg_pb.RegistrationOutcome, response.outcome),
        "uln": response.learner.uln if response.HasField("learner") else None,
        "candidates": [candidate_dict(c) for c in response.candidates],
    }


def find_dict(response: reg_pb.FindLearnerByDemographicsResponse) -> dict[str, Any]:
    return {
        "outcome": enum_name(reg_pb.FindOutcome, response.outcome),
        "candidates": [candidate_dict(c) for c in response.candidates],
    }


def find_by_uln_dict(response: reg_pb.FindLearnerByUlnResponse) -> dict[str, Any]:
    return {
        "outcome": "EXACT_MATCH",
        "master_substituted": response.master_substituted,
        "candidates": [learner_dict(response.learner)],
    }


def verification_dict(response: reg_pb.VerifyLearnerResponse) -> dict[str, Any]:
    return {
        "outcome": enum_name(reg_pb.VerificationOutcome, response.outcome),
        "uln": response.uln,
        "mismatched_fields": [
            enum_name(reg_pb.VerificationField, f).lower() for f in response.mismatched_fields
        ],
    }
