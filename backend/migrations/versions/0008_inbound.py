"""Inbound webhooks go through the outbox: a process_webhook job for every delivery left
unprocessed before this version (nothing else would ever process them). Delivery attempts have a
state: sending (committed before the POST), done, interrupted.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

outbox_jobs = sa.table(
    "outbox_jobs",
    sa.column("kind", sa.String),
    sa.column("payload", sa.JSON),
    sa.column("unique_key", sa.String),
    sa.column("status", sa.String),
    sa.column("due_at", sa.DateTime(timezone=True)),
    sa.column("attempts", sa.Integer),
    sa.column("failures", sa.Integer),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


def upgrade():
    with op.batch_alter_table("delivery_attempts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("state", sa.String(length=20), server_default="done", nullable=False)
        )
    connection = op.get_bind()
    unprocessed = connection.execute(
        sa.text(
            "SELECT id FROM inbound_webhooks WHERE processed_at IS NULL AND NOT EXISTS "
            "(SELECT 1 FROM outbox_jobs WHERE unique_key = 'inbound:' || inbound_webhooks.id)"
        )
    ).scalars()
    moment = datetime.now(UTC)
    rows = [
        {
            "kind": "process_webhook",
            "payload": {"inbound_webhook_id": hook_id},
            "unique_key": f"inbound:{hook_id}",
            "status": "pending",
            "due_at": moment,
            "attempts": 0,
            "failures": 0,
            "created_at": moment,
        }
        for hook_id in unprocessed
    ]
    if rows:
        op.bulk_insert(outbox_jobs, rows)


def downgrade():
    with op.batch_alter_table("delivery_attempts", schema=None) as batch_op:
        batch_op.drop_column("state")
