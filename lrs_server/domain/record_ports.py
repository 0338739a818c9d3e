"""What the record, sharing, self-service, merge and review services need from storage.

``RecordTransaction`` extends the registration transaction: a single database transaction can
register, record sharing choices, queue reviews and write the access log together.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol, runtime_checkable

from lrs_server.domain.grant_ports import GrantTransaction
from lrs_server.domain.model import Identity, Learner, OrgKind
from lrs_server.domain.ports import LearnerTransaction


class AchievementKind(enum.StrEnum):
    KEY_STAGE_2 = "key_stage_2"
    KEY_STAGE_3 = "key_stage_3"
    KEY_STAGE_4 = "key_stage_4"
    KEY_STAGE_5 = "key_stage_5"
    GCSE = "gcse"
    AS_LEVEL = "as_level"
    A_LEVEL = "a_level"
    VOCATIONAL = "vocational"
    OTHER = "other"


class AchievementStatus(enum.StrEnum):
    PROVISIONAL = "provisional"
    FINAL = "final"


class SubmitOutcome(enum.Enum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


class SharingSource(enum.StrEnum):
    LEARNER = "learner"
    SCHOOL = "school"
    MERGE = "merge"


class SchoolChoice(enum.StrEnum):
    """The LRB AbilityToShare values."""

    NOT_SEEN = "not_seen"
    SHARE = "share"
    DO_NOT_SHARE = "do_not_share"


# The kinds of organisation a learner may withhold achievement data from.
AUDIENCES = frozenset({OrgKind.SCHOOL, OrgKind.POST16, OrgKind.AWARDING_BODY})


@dataclass(frozen=True, slots=True)
class AchievementData:
    """A validated achievement as submitted."""

    kind: AchievementKind
    qualification_ref: str
    subject: str
    component: str
    level: str
    grade: str
    award_date: date | None
    status: AchievementStatus
    awarding_organisation: str


@dataclass(frozen=True, slots=True)
class StoredAchievement:
    learner_id: int
    uln: str
    data: AchievementData
    submitted_by: int
    submitted_by_ref: str
    submitted_by_name: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class SharingEntry:
    withheld_from: frozenset[OrgKind]
    source: SharingSource
    at: datetime
    school_choice: SchoolChoice | None = None
    recorded_by_ref: str = ""
    organisation_id: int | None = None


@dataclass(frozen=True, slots=True)
class AccessView:
    """One access-log entry as the learner sees it."""

    id: int  # the entry id: grows with time across every chain (page tokens and notice ids)
    at: datetime
    uln: str
    organisation_ref: str
    organisation_name: str
    accessor_kind: str
    rpc: str
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AttemptState:
    failures: int
    window_start: datetime
    locked_until: datetime | None


@dataclass(frozen=True, slots=True)
class NewReviewItem:
    """A registration that ended POSSIBLE_MATCH, as its organisation submitted it."""

    mis_identifier: str
    post14_qualification: bool
    identity: Identity
    candidate_ids: tuple[int, ...]
    school_choice: SchoolChoice | None = None  # AbilityToShare, recorded once the item is resolved


@dataclass(frozen=True, slots=True)
class ReviewEntry:
    id: int
    organisation_id: int
    organisation_ref: str
    mis_identifier: str
    post14_qualification: bool
    identity: Identity
    candidate_ids: tuple[int, ...]
    status: str
    created_at: datetime
    school_choice: SchoolChoice | None = None


@dataclass(frozen=True, slots=True)
class MergeEntry:
    id: int
    master_id: int
    linked_id: int
    merged_at: datetime


@runtime_checkable
class RecordTransaction(LearnerTransaction, GrantTransaction, Protocol):
    # -- achievements
    def upsert_achievement(
        self, learner_id: int, organisation_id: int, data: AchievementData, now: datetime
    ) -> SubmitOutcome: ...

    def achievements(self, learner_ids: Sequence[int]) -> list[StoredAchievement]: ...

    def linked_learners(self, master_id: int) -> list[Learner]: ...

    # -- sharing
    def sharing_entries(self, learner_id: int) -> list[SharingEntry]: ...

    def add_sharing(self, entries: Sequence[tuple[int, SharingEntry]]) -> None:
        """Append (learner id, entry) pairs to the learners' sharing histories."""
        ...

    # -- self-service
    def registered_or_linked(self, organisation_id: int, learner_id: int) -> bool: ...

    def add_activation_code(
        self, learner_id: int, code_hash: str, issued_by: int, now: datetime, expires: datetime
    ) -> None: ...

    def take_activation_code(self, learner_id: int, code_hash: str, now: datetime) -> bool:
        """Mark an unused, unexpired code used; False when there is none."""
        ...

    def attempt_state(self, uln: str) -> AttemptState | None: ...

    def save_attempt_state(self, uln: str, state: AttemptState | None) -> None: ...

    def add_credential(self, learner_id: int, token_hash: str, now: datetime) -> None: ...

    def revoke_credentials(self, learner_id: int, now: datetime) -> int:
        """End every live credential of the learner; how many there were."""
        ...

    def access_log(
        self, learner_ids: Sequence[int], before_id: int | None, limit: int
    ) -> list[AccessView]: ...

    def family_name_history(self, learner_id: int) -> list[tuple[str, datetime]]: ...

    def registered_at(self, learner_id: int) -> datetime | None: ...

    # -- merges
    def set_master(self, learner_id: int, master_id: int | None, now: datetime) -> None: ...

    def add_merge(self, master_id: int, linked_id: int, by: int, reason: str, now: datetime) -> None: ...

    def open_merge(self, linked_id: int) -> MergeEntry | None: ...

    def close_merge(self, merge_id: int, by: int, reason: str, now: datetime) -> None: ...

    # -- review queue
    def add_review_items(self, organisation_id: int, items: Sequence[NewReviewItem], now: datetime) -> None:
        """Queue POSSIBLE_MATCH registrations; one already open for the same submission is not repeated."""
        ...

    def open_review_items(self, after_id: int, limit: int, submitted_by_ref: str = "") -> list[ReviewEntry]:
        """Open items after ``after_id`` in id order; only one organisation's when a reference is given."""
        ...

    def count_open_review_items(self, submitted_by_ref: str = "") -> int: ...

    def review_item(self, item_id: int) -> ReviewEntry | None: ...

    def resolve_review_item(
        self, item_id: int, learner_id: int, status: str, by: int, now: datetime
    ) -> None: ...


class RecordStore(Protocol):
    def write(self, lock_keys: Iterable[str]) -> AbstractContextManager[RecordTransaction, bool | None]: ...

    def read(self) -> AbstractContextManager[RecordTransaction, bool | None]: ...
