"""access log chains: K hash chains with a head each, notices marked by entry id

Revision ID: 0007_access_log_chains
Revises: 0006_learner_notices
Create Date: 2026-12-03 14:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_access_log_chains"
down_revision: str | None = "0006_learner_notices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHAINS = 16  # lrs_server/storage/audit.py's CHAINS when this revision was written

_HEAD = sa.table(
    "access_log_head",
    sa.column("id", sa.Integer),
    sa.column("entries", sa.Integer),
    sa.column("last_hash", sa.String),
    sa.column("purged_through", sa.Integer),
)


def upgrade() -> None:
    # Every existing entry belongs to the one chain there was (head 1).
    with op.batch_alter_table("access_log") as batch:
        batch.add_column(sa.Column("chain", sa.Integer(), nullable=False, server_default="1"))
        batch.drop_index("ix_access_log_seq")
        batch.create_index("ix_access_log_chain_seq", ["chain", "seq"], unique=True)
    op.bulk_insert(
        _HEAD, [{"id": i, "entries": 0, "last_hash": "", "purged_through": 0} for i in range(2, CHAINS + 1)]
    )
    # Notice markers named a seq of the one chain; they now name an entry id. Under the one head
    # lock ids grew with seq, so the entry at seq N is the newest id with seq <= N.
    for column in ("seen_seq", "digest_sent_seq"):
        op.execute(
            f"UPDATE learner_notice_state SET {column} = COALESCE("
            f"(SELECT MAX(id) FROM access_log WHERE seq <= learner_notice_state.{column}), 0)"
        )
    with op.batch_alter_table("learner_notice_state") as batch:
        batch.alter_column("seen_seq", new_column_name="seen_id", existing_type=sa.Integer())
        batch.alter_column("digest_sent_seq", new_column_name="digest_sent_id", existing_type=sa.Integer())


def downgrade() -> None:
    connection = op.get_bind()
    if connection.execute(sa.text("SELECT 1 FROM access_log WHERE chain <> 1 LIMIT 1")).first():
        raise RuntimeError("the access log has entries in chains other than 1: one chain cannot hold them")
    with op.batch_alter_table("learner_notice_state") as batch:
        batch.alter_column("seen_id", new_column_name="seen_seq", existing_type=sa.Integer())
        batch.alter_column("digest_sent_id", new_column_name="digest_sent_seq", existing_type=sa.Integer())
    for column in ("seen_seq", "digest_sent_seq"):
        op.execute(
            f"UPDATE learner_notice_state SET {column} = COALESCE("
            f"(SELECT MAX(seq) FROM access_log WHERE id <= learner_notice_state.{column}), 0)"
        )
    op.execute(_HEAD.delete().where(_HEAD.c.id != 1))
    with op.batch_alter_table("access_log") as batch:
        batch.drop_index("ix_access_log_chain_seq")
        batch.create_index("ix_access_log_seq", ["seq"], unique=True)
        batch.drop_column("chain")
