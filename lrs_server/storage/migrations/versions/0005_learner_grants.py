"""learner_grant: a learner's grants of their achievements to named organisations; organisation.town

Revision ID: 0005_learner_grants
Revises: 0004
Create Date: 2026-12-03 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005_learner_grants"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Organisations added before this revision have no town ("") until an operator sets one.
    with op.batch_alter_table("organisation") as batch:
        batch.add_column(sa.Column("town", sa.String(length=50), nullable=False, server_default=""))
    op.create_table(
        "learner_grant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grant_key", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("revoked_reason", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.ForeignKeyConstraint(["learner_id"], ["learner.id"]),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_learner_grant_learner_org", "learner_grant", ["learner_id", "organisation_id"])
    op.create_index("ix_learner_grant_grant_key", "learner_grant", ["grant_key"])


def downgrade() -> None:
    op.drop_index("ix_learner_grant_grant_key", table_name="learner_grant")
    op.drop_index("ix_learner_grant_learner_org", table_name="learner_grant")
    op.drop_table("learner_grant")
    with op.batch_alter_table("organisation") as batch:
        batch.drop_column("town")
