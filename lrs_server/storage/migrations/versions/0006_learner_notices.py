"""learner notices and retention: the notice/digest state per learner, purged access-log entries

Revision ID: 0006_learner_notices
Revises: 0005_learner_grants
Create Date: 2026-12-03 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006_learner_notices"
down_revision: str | None = "0005_learner_grants"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "learner_notice_state",
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("seen_seq", sa.Integer(), nullable=False),
        sa.Column("seen_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("digest_email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("pending_email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("pending_code_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("pending_expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("pending_failures", sa.Integer(), nullable=False),
        sa.Column("digest_sent_seq", sa.Integer(), nullable=False),
        sa.Column("digest_sent_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["learner_id"], ["learner.id"]),
        sa.PrimaryKeyConstraint("learner_id"),
    )
    # A purged entry keeps seq, at and its hashes; who and what are gone (learner_id becomes NULL).
    with op.batch_alter_table("access_log") as batch:
        batch.alter_column("learner_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("purged", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("access_log_head") as batch:
        batch.add_column(sa.Column("purged_through", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("access_log_head") as batch:
        batch.drop_column("purged_through")
    with op.batch_alter_table("access_log") as batch:
        batch.drop_column("purged")
        batch.alter_column("learner_id", existing_type=sa.Integer(), nullable=False)
    op.drop_table("learner_notice_state")
