"""review_item.school_choice: the AbilityToShare sent with a registration that went to review

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Items queued before this revision carry no choice ("" ), as the school's choice was not kept.
    with op.batch_alter_table("review_item") as batch:
        batch.add_column(sa.Column("school_choice", sa.String(length=16), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("review_item") as batch:
        batch.drop_column("school_choice")
