"""Why a subscription ended: `ended_by` (subscriber or dunning), for the owner's monthly churn.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# The reason recording.record_failed gives a subscription it cancels after its last retry.
DUNNING_REASON = "Payment failed after %"


def upgrade():
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ended_by", sa.String(length=20), nullable=True))
    subs = sa.table(
        "subscriptions",
        sa.column("status", sa.String),
        sa.column("cancel_reason", sa.String),
        sa.column("ended_by", sa.String),
    )
    canceled = subs.c.status == "canceled"
    dunning = subs.c.cancel_reason.like(DUNNING_REASON)
    op.execute(subs.update().where(canceled, dunning).values(ended_by="dunning"))
    op.execute(subs.update().where(canceled, subs.c.ended_by.is_(None)).values(ended_by="subscriber"))


def downgrade():
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_column("ended_by")
