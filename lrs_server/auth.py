"""Authentication and authorisation, in one place.

``POLICY`` is the table of who may call what: every RPC the server exposes must appear in it
(the server refuses to start otherwise), so a new RPC cannot be reachable by accident.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from threading import Lock

from lrs_server.domain.errors import DomainError, ErrorKind, Reason
from lrs_server.domain.model import LearnerKind, OrgKind, Principal

Caller = OrgKind | LearnerKind
_REG = "/lrs.v1.LearnerRegistrationService/"
_BATCH = "/lrs.v1.BatchRegistrationService/"
_REC = "/lrs.v1.LearnerRecordService/"
_SELF = "/lrs.v1.LearnerSelfService/"
_ADMIN = "/lrs.v1.AdminService/"
ANYONE = frozenset(OrgKind)
SCHOOLS = frozenset({OrgKind.SCHOOL, OrgKind.ADMIN})
ADMINS = frozenset({OrgKind.ADMIN})
LEARNER = frozenset({LearnerKind.LEARNER})
# No bearer token at all: only this RPC (the learner has no credential yet; it is rate-limited per ULN).
NOBODY: frozenset[Caller] = frozenset()

# Every kind of caller, for the authorisation matrix (docs/AUTHORISATION.md).
CALLERS: tuple[Caller, ...] = (*OrgKind, LearnerKind.LEARNER)

POLICY: Mapping[str, frozenset[Caller]] = {
    f"{_REG}RegisterLearner": SCHOOLS,
    f"{_REG}UpdateLearner": SCHOOLS,
    f"{_REG}FindLearnerByUln": ANYONE,
    f"{_REG}FindLearnerByDemographics": ANYONE,
    f"{_REG}VerifyLearner": ANYONE,
    f"{_BATCH}BatchRegisterLearners": SCHOOLS,
    # Schools and awarding bodies submit results; a learner reads only their own record.
    f"{_REC}SubmitAchievements": frozenset({OrgKind.SCHOOL, OrgKind.AWARDING_BODY, OrgKind.ADMIN}),
    f"{_REC}GetLearnerRecord": ANYONE | LEARNER,
    f"{_SELF}IssueActivationCode": SCHOOLS,
    f"{_SELF}ActivateLearner": NOBODY,
    f"{_SELF}GetSharingPreferences": LEARNER,
    f"{_SELF}SetSharingPreferences": LEARNER,
    f"{_SELF}ListMyAccessLog": LEARNER,
    f"{_SELF}ExportMyData": LEARNER,
    f"{_SELF}SignOutEverywhere": LEARNER,
    # A learner finds organisations and grants them their achievements (lrs_server/domain/grants.py).
    f"{_SELF}SearchOrganisations": LEARNER,
    f"{_SELF}CreateGrant": LEARNER,
    f"{_SELF}DeleteGrant": LEARNER,
    f"{_SELF}ListGrants": LEARNER,
    f"{_SELF}ListNotices": LEARNER,
    f"{_SELF}MarkNoticesSeen": LEARNER,
    f"{_SELF}GetNoticeDigest": LEARNER,
    f"{_SELF}StartNoticeDigest": LEARNER,
    f"{_SELF}ConfirmNoticeDigest": LEARNER,
    f"{_SELF}StopNoticeDigest": LEARNER,
    f"{_ADMIN}MergeLearners": ADMINS,
    f"{_ADMIN}UnmergeLearners": ADMINS,
    f"{_ADMIN}ListReviewItems": ADMINS,
    f"{_ADMIN}ResolveReviewItem": ADMINS,
    f"{_ADMIN}ListLearnerLinks": ADMINS,
}

RECORD_READ = f"{_REC}GetLearnerRecord"


def record_readers() -> frozenset[OrgKind]:
    """Kinds of organisation allowed to read learner records: the only ones a learner may grant to
    (with the kinds a learner can withhold from, domain/grants.py); derived from POLICY, so taking a
    kind's read right away also stops grants reaching it."""
    return frozenset(k for k in POLICY[RECORD_READ] if isinstance(k, OrgKind))


# RPCs answered without a bearer token, named one by one (errors are still mapped by the interceptor).
UNAUTHENTICATED_RPCS = frozenset({f"{_SELF}ActivateLearner"})

# Health checking and reflection answer anyone: they reveal no learner data.
PUBLIC_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")


def is_public(method: str) -> bool:
    """Health and reflection: served untouched by the interceptor."""
    return method.startswith(PUBLIC_PREFIXES)


def needs_token(method: str) -> bool:
    return method not in UNAUTHENTICATED_RPCS


def matrix_markdown() -> str:
    """The authorisation matrix as a Markdown table, generated from POLICY (docs/AUTHORISATION.md)."""
    header = "| RPC | " + " | ".join(c.value for c in CALLERS) + " |"
    rule = "|---|" + "---|" * len(CALLERS)
    rows = []
    for method in sorted(POLICY):
        cells = []
        for caller in CALLERS:
            if method in UNAUTHENTICATED_RPCS:
                cells.append("no token")
            else:
                cells.append("yes" if caller in POLICY[method] else "—")
        rows.append(f"| `{method.lstrip('/')}` | " + " | ".join(cells) + " |")
    return "\n".join([header, rule, *rows])


def bearer_token(metadata: Mapping[str, str]) -> str | None:
    value = metadata.get("authorization", "")
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


class Authoriser:
    """Resolves a bearer token to a principal (cached briefly) and applies ``POLICY``."""

    def __init__(self, lookup: Callable[[str], Principal | None], cache_seconds: float = 5.0) -> None:
        self._lookup = lookup
        self._cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, Principal]] = {}
        self._lock = Lock()

    def authenticate(self, token: str | None) -> Principal:
        if token is None:
            raise DomainError(
                ErrorKind.UNAUTHENTICATED,
                Reason.TOKEN_MISSING,
                "send 'authorization: Bearer <token>' metadata",
            )
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(token)
        if cached is not None and now - cached[0] < self._cache_seconds:
            return cached[1]
        principal = self._lookup(token)
        if principal is None:
            raise DomainError(
                ErrorKind.UNAUTHENTICATED, Reason.TOKEN_INVALID, "the token is unknown or revoked"
            )
        with self._lock:
            self._cache[token] = (now, principal)
        return principal

    def authorise(self, method: str, principal: Principal) -> None:
        allowed = POLICY.get(method)
        if allowed is None or principal.kind not in allowed:
            raise DomainError(
                ErrorKind.PERMISSION_DENIED,
                Reason.CALLER_NOT_PERMITTED,
                f"a {principal.kind.value} caller may not call {method.rsplit('/', 1)[-1]}",
            )
