"""The schema, as SQLModel tables. Migrations in ``migrations/`` must match it (a test checks)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index, String, Text
from sqlmodel import Field, SQLModel


class Organisation(SQLModel, table=True):
    __tablename__ = "organisation"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)
    ref: str = Field(max_length=20, unique=True)
    name: str = Field(max_length=200)
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

    key: str = Field(sa_column=Column(String(64), primary_key=True))
    learner_id: int = Field(foreign_key="learner.id", primary_key=True, index=True)


class NameFrequency(SQLModel, table=True):
    """How many learners hold each normalised value (term-frequency adjustment in the matcher)."""

    __tablename__ = "name_frequency"

    field: str = Field(sa_column=Column(String(32), primary_key=True))
    value: str = Field(sa_column=Column(String(64), primary_key=True))
    count: int = 0


class RegistrationRequest(SQLModel, table=True):
    """Idempotency: the answer given to (organisation, request_id)."""

    __tablename__ = "registration_request"

    organisation_id: int = Field(foreign_key="organisation.id", primary_key=True)
    request_id: str = Field(sa_column=Column(String(128), primary_key=True))
    outcome: str = Field(max_length=20)
    learner_id: int | None = Field(default=None, foreign_key="learner.id")
    created_at: datetime


class MisLink(SQLModel, table=True):
    """An organisation's own identifier for a learner (MIS identifier): batch rows are keyed by it."""

    __tablename__ = "mis_link"

    organisation_id: int = Field(foreign_key="organisation.id", primary_key=True)
    mis_identifier: str = Field(sa_column=Column(String(128), primary_key=True))
    learner_id: int = Field(foreign_key="learner.id", index=True)
    updated_at: datetime


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
    __table_args__ = (Index("ix_access_log_learner_at", "learner_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    learner_id: int = Field(foreign_key="learner.id")
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id")
    rpc: str = Field(max_length=100)
    fields: str = Field(sa_column=Column(Text, nullable=False))
    at: datetime


__all__ = [
    "AccessLogEntry",
    "ApiToken",
    "BlockingKey",
    "FamilyNameHistory",
    "LearnerTable",
    "MatchDecisionRecord",
    "MisLink",
    "NameFrequency",
    "Organisation",
    "RegistrationRequest",
]
