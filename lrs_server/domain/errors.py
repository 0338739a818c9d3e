"""Domain errors. Each carries a stable reason code; one interceptor maps them to gRPC statuses."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass


class ErrorKind(enum.Enum):
    """What kind of failure, independent of the transport (the interceptor picks the status code)."""

    INVALID = "invalid"
    NOT_FOUND = "not_found"
    ALREADY_EXISTS = "already_exists"
    CONFLICT = "conflict"
    FAILED_PRECONDITION = "failed_precondition"
    UNAUTHENTICATED = "unauthenticated"
    PERMISSION_DENIED = "permission_denied"
    RESOURCE_EXHAUSTED = "resource_exhausted"
    UNAVAILABLE = "unavailable"


class Reason(enum.StrEnum):
    """Stable machine-readable reason codes (sent as google.rpc.ErrorInfo.reason)."""

    FIELD_REQUIRED = "FIELD_REQUIRED"
    FIELD_TOO_LONG = "FIELD_TOO_LONG"
    NAME_INVALID = "NAME_INVALID"
    POSTCODE_INVALID = "POSTCODE_INVALID"
    DATE_OF_BIRTH_INVALID = "DATE_OF_BIRTH_INVALID"
    GENDER_INVALID = "GENDER_INVALID"
    EMAIL_INVALID = "EMAIL_INVALID"
    UPN_INVALID = "UPN_INVALID"
    ULN_FORMAT_INVALID = "ULN_FORMAT_INVALID"
    ULN_CHECKSUM_INVALID = "ULN_CHECKSUM_INVALID"
    UNDER_MINIMUM_AGE = "UNDER_MINIMUM_AGE"
    REQUEST_ID_INVALID = "REQUEST_ID_INVALID"
    REQUEST_ID_REUSED = "REQUEST_ID_REUSED"
    MIS_IDENTIFIER_INVALID = "MIS_IDENTIFIER_INVALID"
    MIS_IDENTIFIER_CONFLICT = "MIS_IDENTIFIER_CONFLICT"
    CONFIRMATION_INVALID = "CONFIRMATION_INVALID"
    LEARNER_NOT_FOUND = "LEARNER_NOT_FOUND"
    LEARNER_NOT_VERIFIED = "LEARNER_NOT_VERIFIED"
    VERSION_CONFLICT = "VERSION_CONFLICT"
    DUPLICATE_LEARNER = "DUPLICATE_LEARNER"
    BATCH_TOO_LARGE = "BATCH_TOO_LARGE"
    TOKEN_MISSING = "TOKEN_MISSING"
    TOKEN_INVALID = "TOKEN_INVALID"
    CALLER_NOT_PERMITTED = "CALLER_NOT_PERMITTED"
    ACHIEVEMENT_KIND_INVALID = "ACHIEVEMENT_KIND_INVALID"
    ACHIEVEMENT_STATUS_INVALID = "ACHIEVEMENT_STATUS_INVALID"
    AWARD_DATE_INVALID = "AWARD_DATE_INVALID"
    SHARING_KIND_INVALID = "SHARING_KIND_INVALID"
    GRANT_EXPIRY_INVALID = "GRANT_EXPIRY_INVALID"
    ORGANISATION_KIND_INVALID = "ORGANISATION_KIND_INVALID"
    ORGANISATION_NOT_FOUND = "ORGANISATION_NOT_FOUND"
    NOT_OWN_RECORD = "NOT_OWN_RECORD"
    ACTIVATION_FAILED = "ACTIVATION_FAILED"
    ACTIVATION_LOCKED = "ACTIVATION_LOCKED"
    ACTIVATION_CODE_INVALID = "ACTIVATION_CODE_INVALID"
    PAGE_TOKEN_INVALID = "PAGE_TOKEN_INVALID"
    PAGE_SIZE_INVALID = "PAGE_SIZE_INVALID"
    REASON_REQUIRED = "REASON_REQUIRED"
    MERGE_INVALID = "MERGE_INVALID"
    NOT_MERGED = "NOT_MERGED"
    REVIEW_ITEM_NOT_FOUND = "REVIEW_ITEM_NOT_FOUND"
    REVIEW_ITEM_RESOLVED = "REVIEW_ITEM_RESOLVED"
    REQUEST_MALFORMED = "REQUEST_MALFORMED"
    TEXT_INVALID = "TEXT_INVALID"
    SERVER_BUSY = "SERVER_BUSY"
    RATE_LIMITED = "RATE_LIMITED"
    DATABASE_UNAVAILABLE = "DATABASE_UNAVAILABLE"
    NOTICE_ID_INVALID = "NOTICE_ID_INVALID"
    DIGEST_UNAVAILABLE = "DIGEST_UNAVAILABLE"
    DIGEST_CODE_INVALID = "DIGEST_CODE_INVALID"
    DIGEST_CONFIRMATION_FAILED = "DIGEST_CONFIRMATION_FAILED"
    EMAIL_NOT_SENT = "EMAIL_NOT_SENT"


@dataclass(frozen=True, slots=True)
class FieldViolation:
    """One bad field: its path in the request (e.g. ``identity.postcode``), the reason and a message."""

    field: str
    reason: Reason
    description: str


@dataclass(frozen=True, slots=True)
class QuotaViolation:
    """A quota the call went over (sent as a google.rpc.QuotaFailure violation)."""

    subject: str
    description: str


class DomainError(Exception):
    """A refusal the caller can act on. Never used for bugs."""

    def __init__(
        self,
        kind: ErrorKind,
        reason: Reason,
        message: str,
        violations: Sequence[FieldViolation] = (),
        metadata: dict[str, str] | None = None,
        retry_after: float | None = None,
        quota_violations: Sequence[QuotaViolation] = (),
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.reason = reason
        self.message = message
        self.violations = tuple(violations)
        self.metadata = dict(metadata or {})
        # Seconds after which the same call may succeed (sent as google.rpc.RetryInfo).
        self.retry_after = retry_after
        self.quota_violations = tuple(quota_violations)


class ValidationError(DomainError):
    """The request is malformed. Carries one violation per bad field; the reason is the first one's."""

    def __init__(self, violations: Sequence[FieldViolation]) -> None:
        if not violations:
            raise ValueError("a ValidationError needs at least one violation")
        first = violations[0]
        message = "; ".join(f"{v.field}: {v.description}" for v in violations)
        super().__init__(ErrorKind.INVALID, first.reason, message, violations)


def invalid(field: str, reason: Reason, description: str) -> ValidationError:
    return ValidationError([FieldViolation(field, reason, description)])


def not_found(reason: Reason, message: str) -> DomainError:
    return DomainError(ErrorKind.NOT_FOUND, reason, message)


def conflict(reason: Reason, message: str) -> DomainError:
    return DomainError(ErrorKind.CONFLICT, reason, message)
