"""The schema, as SQLModel tables. Migrations in ``migrations/`` must match it (a test checks)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index, String, Text, UniqueConstraint, false
from sqlmodel import Field, SQLModel

# Tables keyed by a composite primary key are clustered on it in SQLite (``WITHOUT ROWID``): the
# key is the table, not a second B-tree beside a rowid one, so each insert writes one tree, not two.
# PostgreSQL ignores the option. (Measured in docs/BENCHMARKS.md, batch throughput.)
_CLUSTERED = {"sqlite_with_rowid": False}


class Organisation(SQLModel, table=True):
    __tablename__ = "organisation"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)
    ref: str = Field(max_length=20, unique=True)
    name: str = Field(max_length=200)
    # Where the organisation is, so a learner can tell two of the same name apart when granting.
    town: str = Field(default="", max_length=50, sa_column_kwargs={"server_default": ""})
    created_at: datetime
    revoked_at: datetime | None = None


class ApiToken(SQLModel, table=True):
    """Bearer tokens, stored only as SHA-256 hashes (tokens are 256-bit random, so no salt is needed)."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime
    revoked_at: datetime | None = None


class LearnerTable(SQLModel, table=True):
    __tablename__ = "learner"

    id: int | None = Field(default=None, primary_key=True)
    uln: str = Field(sa_column=Column(String(10), unique=True, nullable=False))
    given_name: str = Field(max_length=35)
    middle_names: str = Field(default="", max_length=35)
    family_name: str = Field(max_length=35)
    previous_family_name: str = Field(default="", max_length=35)
    family_name_at_16: str = Field(default="", max_length=35)
    preferred_given_name: str = Field(default="", max_length=35)
    date_of_birth: date
    gender: str = Field(max_length=16)
    postcode: str = Field(max_length=9)
    address_line1: str = Field(default="", max_length=50)
    address_line2: str = Field(default="", max_length=50)
    town: str = Field(default="", max_length=50)
    county: str = Field(default="", max_length=50)
    email: str = Field(default="", max_length=254)
    school_at_16: str = Field(default="", max_length=255)
    upn: str = Field(default="", max_length=13)
    place_of_birth: str = Field(default="", max_length=35)
    title: str = Field(default="", max_length=35)
    post14_qualification: bool = False
    master_id: int | None = Field(default=None, foreign_key="learner.id", index=True)
    version: int = 1
    created_by: int = Field(foreign_key="organisation.id")
    created_at: datetime
    updated_at: datetime


class FamilyNameHistory(SQLModel, table=True):
    """Family names a learner was known by before; searchable as previous names."""

    __tablename__ = "learner_family_name"

    id: int | None = Field(default=None, primary_key=True)
    learner_id: int = Field(foreign_key="learner.id", index=True)
    family_name: str = Field(max_length=35)
    replaced_at: datetime


class BlockingKey(SQLModel, table=True):
    """Candidate-retrieval keys. The primary key (key, learner_id) is the index lookups use."""

    __tablename__ = "learner_blocking_key"
    __table_args__ = _CLUSTERED

    key: str = Field(sa_column=Column(String(64), primary_key=True))
    learner_id: int = Field(foreign_key="learner.id", primary_key=True, index=True)


class NameFrequency(SQLModel, table=True):
    """How many learners hold each normalised value (term-frequency adjustment in the matcher)."""

    __tablename__ = "name_frequency"
    __table_args__ = _CLUSTERED

    field: str = Field(sa_column=Column(String(32), primary_key=True))
    value: str = Field(sa_column=Column(String(64), primary_key=True))
    count: int = 0


class RegistrationRequest(SQLModel, table=True):
    """Idempotency: the answer given to (organisation, request_id)."""

    __tablename__ = "registration_request"
    __table_args__ = _CLUSTERED

    organisation_id: int = Field(foreign_key="organisation.id", primary_key=True)
    request_id: str = Field(sa_column=Column(String(128), primary_key=True))
    outcome: str = Field(max_length=20)
    learner_id: int | None = Field(default=None, foreign_key="learner.id")
    created_at: datetime


class MisLink(SQLModel, table=True):
    """An organisation's own identifier for a learner (MIS identifier): batch rows are keyed by it."""

    __tablename__ = "mis_link"
    __table_args__ = _CLUSTERED

    organisation_id: int = Field(foreign_key="organisation.id", primary_key=True)
    mis_identifier: str = Field(sa_column=Column(String(128), primary_key=True))
    learner_id: int = Field(foreign_key="learner.id", index=True)
    updated_at: datetime
    # A fingerprint of the details the organisation last sent for this identifier: a re-sent row
    # changes the learner only when the organisation's own row changed ('' before migration 0003).
    details_hash: str = Field(
        sa_column=Column(String(64), nullable=False, default="", server_default=""), default=""
    )


class MatchDecisionRecord(SQLModel, table=True):
    """Every registration decision with its explanation, for audit."""

    __tablename__ = "match_decision"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    learner_id: int | None = Field(default=None, foreign_key="learner.id", index=True)
    outcome: str = Field(max_length=20)
    explanation: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime


class AccessLogEntry(SQLModel, table=True):
    """Append-only: every read of a learner's data, by whom, through which RPC, what was returned."""

    __tablename__ = "access_log"
    __table_args__ = (
        Index("ix_access_log_learner_at", "learner_id", "at"),
        Index("ix_access_log_chain_seq", "chain", "seq", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    # None (and organisation, rpc, fields, kind blanked) once ``purged`` past retention (storage/purge.py).
    learner_id: int | None = Field(default=None, foreign_key="learner.id")
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id")
    rpc: str = Field(max_length=100)
    fields: str = Field(sa_column=Column(Text, nullable=False))
    at: datetime
    # Tamper evidence: hash chains (``chain`` names its head row), each in ``seq`` order (see
    # storage/audit.py). Ordering across chains is by ``id``, never by ``seq``.
    accessor_kind: str = Field(default="", max_length=20)
    chain: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    seq: int | None = None
    prev_hash: str = Field(default="", max_length=64)
    entry_hash: str = Field(default="", max_length=64)
    purged: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class AccessLogHead(SQLModel, table=True):
    """The head of one access-log hash chain (id 1..K, storage/audit.py): an append locks one head, so
    each chain stays linear while appends to different chains go on at once."""

    __tablename__ = "access_log_head"

    id: int = Field(primary_key=True)
    entries: int = 0
    last_hash: str = Field(default="", max_length=64)
    # This chain's entries 1..purged_through have had their detail purged (only their hashes remain).
    purged_through: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class AchievementRecord(SQLModel, table=True):
    """One learning event. A resubmission (same natural key) updates the row, never duplicates it."""

    __tablename__ = "achievement"
    __table_args__ = (
        UniqueConstraint(
            "learner_id",
            "submitted_by",
            "kind",
            "qualification_ref",
            "subject",
            "component",
            name="uq_achievement_natural_key",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    learner_id: int = Field(foreign_key="learner.id")
    submitted_by: int = Field(foreign_key="organisation.id", index=True)
    kind: str = Field(max_length=20)
    qualification_ref: str = Field(max_length=64)
    subject: str = Field(max_length=100)
    component: str = Field(default="", max_length=64)
    level: str = Field(default="", max_length=20)
    grade: str = Field(max_length=20)
    award_date: date | None = None
    status: str = Field(max_length=12)
    awarding_organisation: str = Field(default="", max_length=100)
    created_at: datetime
    updated_at: datetime


class SharingChoiceRecord(SQLModel, table=True):
    """Append-only history of sharing choices; which one is in force is a domain rule (domain/sharing.py)."""

    __tablename__ = "sharing_choice"

    id: int | None = Field(default=None, primary_key=True)
    learner_id: int = Field(foreign_key="learner.id", index=True)
    withheld_from: str = Field(default="", max_length=64)
    source: str = Field(max_length=10)
    school_choice: str = Field(default="", max_length=16)
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id")
    at: datetime


class LearnerGrant(SQLModel, table=True):
    """A learner's grant of one record's achievements to one organisation until ``expires_at``
    (exclusive). One grant made while records are merged is a row per record, sharing ``grant_key``.
    Ended early by the learner (or an unmerge) with ``revoked_at``; rows are kept, never updated otherwise."""

    __tablename__ = "learner_grant"
    __table_args__ = (Index("ix_learner_grant_learner_org", "learner_id", "organisation_id"),)

    id: int | None = Field(default=None, primary_key=True)
    grant_key: str = Field(max_length=32, index=True)
    learner_id: int = Field(foreign_key="learner.id")
    organisation_id: int = Field(foreign_key="organisation.id")
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    revoked_reason: str = Field(default="", max_length=16)


class ActivationCode(SQLModel, table=True):
    """One-time learner activation codes, stored only as SHA-256 hashes."""

    __tablename__ = "activation_code"

    id: int | None = Field(default=None, primary_key=True)
    learner_id: int = Field(foreign_key="learner.id", index=True)
    code_hash: str = Field(max_length=64, unique=True)
    issued_by: int = Field(foreign_key="organisation.id")
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None


class ActivationAttempt(SQLModel, table=True):
    """Failed activations per ULN (in the database, so every replica enforces the same limit)."""

    __tablename__ = "activation_attempt"

    uln: str = Field(sa_column=Column(String(10), primary_key=True))
    failures: int = 0
    window_start: datetime
    locked_until: datetime | None = None


class LearnerCredential(SQLModel, table=True):
    """Learner self-service bearer tokens, stored only as SHA-256 hashes."""

    __tablename__ = "learner_credential"

    id: int | None = Field(default=None, primary_key=True)
    learner_id: int = Field(foreign_key="learner.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime
    revoked_at: datetime | None = None


class ReviewItemRecord(SQLModel, table=True):
    """A registration that ended POSSIBLE_MATCH, awaiting an administrator's decision."""

    __tablename__ = "review_item"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id")
    mis_identifier: str = Field(default="", max_length=128)
    post14_qualification: bool = False
    identity: str = Field(sa_column=Column(Text, nullable=False))
    identity_digest: str = Field(max_length=64, index=True)
    candidate_ids: str = Field(sa_column=Column(Text, nullable=False))
    # The school's AbilityToShare sent with the registration ("" none), applied when it is resolved.
    school_choice: str = Field(default="", max_length=16, sa_column_kwargs={"server_default": ""})
    status: str = Field(max_length=10, index=True)
    learner_id: int | None = Field(default=None, foreign_key="learner.id")
    resolved_by: int | None = Field(default=None, foreign_key="organisation.id")
    resolved_at: datetime | None = None
    created_at: datetime


class LearnerMerge(SQLModel, table=True):
    """Merges of duplicate learners, and their undoing (kept for audit)."""

    __tablename__ = "learner_merge"

    id: int | None = Field(default=None, primary_key=True)
    master_id: int = Field(foreign_key="learner.id")
    linked_id: int = Field(foreign_key="learner.id", index=True)
    merged_by: int = Field(foreign_key="organisation.id")
    reason: str = Field(sa_column=Column(Text, nullable=False))
    merged_at: datetime
    undone_by: int | None = Field(default=None, foreign_key="organisation.id")
    undo_reason: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    undone_at: datetime | None = None


class LearnerNoticeState(SQLModel, table=True):
    """Per learner (the master record): which notices the learner has seen, and the email digest.

    Notices themselves are the learner's access-log entries made by organisations (domain/notices.py);
    this row only marks how far the learner (and the digest) has got through them."""

    __tablename__ = "learner_notice_state"

    learner_id: int = Field(foreign_key="learner.id", primary_key=True)
    seen_id: int = 0
    seen_at: datetime | None = None
    digest_email: str = Field(default="", max_length=254)
    pending_email: str = Field(default="", max_length=254)
    pending_code_hash: str = Field(default="", max_length=64)
    pending_expires_at: datetime | None = None
    pending_failures: int = 0
    digest_sent_id: int = 0
    digest_sent_at: datetime | None = None
    updated_at: datetime


__all__ = [
    "AccessLogEntry",
    "AccessLogHead",
    "AchievementRecord",
    "ActivationAttempt",
    "ActivationCode",
    "ApiToken",
    "BlockingKey",
    "FamilyNameHistory",
    "LearnerCredential",
    "LearnerGrant",
    "LearnerMerge",
    "LearnerNoticeState",
    "LearnerTable",
    "MatchDecisionRecord",
    "MisLink",
    "NameFrequency",
    "Organisation",
    "RegistrationRequest",
    "ReviewItemRecord",
    "SharingChoiceRecord",
]
