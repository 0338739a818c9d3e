"""mis_link.details_hash: what the organisation last sent for the identifier

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Links made before this revision have no fingerprint: a re-sent row is then compared with the
    # learner's current details, as before, and the fingerprint is stored from then on.
    with op.batch_alter_table("mis_link") as batch:
        batch.add_column(sa.Column("details_hash", sa.String(length=64), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("mis_link") as batch:
        batch.drop_column("details_hash")
