"""How long personal data that only records events is kept (docs/PRIVACY.md, "Retention").

Identity and achievements are the record itself and are kept; what is purged here is the trail
around it: who looked (access-log detail, and so the notices derived from it), the learner's
"seen" marker and digest state, activation codes once used or expired, and grants once ended.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

# Two academic years: a learner applying to college or university in one year can still see, in
# the next, every organisation that looked during the application; long enough for a complaint to
# the ICO (which expects one within three months of the last contact) to be raised and looked into.
ACCESS_LOG_DAYS = 730
# The "seen" marker and a digest address nobody has used for as long as the notices it marks.
NOTICE_STATE_DAYS = 730
# A used or expired activation code says who issued a learner's sign-in: kept a year, for a
# learner to query a sign-in they did not make (credentials last 90 days, codes 14).
ACTIVATION_CODE_DAYS = 365
# A grant that has ended (expired, revoked, or ended by an unmerge) opens nothing; kept a year so a
# learner can still see in their export whom they let in and until when (what was read under it stays
# in the access log, marked ``achievements_granted``, for the access log's own period).
ENDED_GRANT_DAYS = 365


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    access_log_days: int = ACCESS_LOG_DAYS
    notice_state_days: int = NOTICE_STATE_DAYS
    activation_code_days: int = ACTIVATION_CODE_DAYS
    ended_grant_days: int = ENDED_GRANT_DAYS

    def __post_init__(self) -> None:
        for name in ("access_log_days", "notice_state_days", "activation_code_days", "ended_grant_days"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} is at least 1")


@dataclass(frozen=True, slots=True)
class Cutoffs:
    """Anything older than these instants is past retention."""

    access_log: datetime
    notice_state: datetime
    activation_code: datetime
    ended_grant: datetime


def cutoffs(policy: RetentionPolicy, now: datetime) -> Cutoffs:
    return Cutoffs(
        now - timedelta(days=policy.access_log_days),
        now - timedelta(days=policy.notice_state_days),
        now - timedelta(days=policy.activation_code_days),
        now - timedelta(days=policy.ended_grant_days),
    )
