"""Worker fairness: job priorities, a destination per outbound job (at most a few in flight
each), and a circuit breaker per destination.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# jobs.PRIORITIES as of this revision, for the jobs already queued.
PRIORITIES = {
    "process_webhook": 0,
    "deliver_webhook": 0,
    "cancel_forgery": 0,
    "refund_surplus": 1,
    "resolve_intent": 1,
    "reconcile_payment": 1,
    "check_order": 1,
    "settle_order": 1,
    "sweep_orders": 2,
    "purge_idempotency": 2,
    "charge_subscription": 3,
}


def upgrade():
    with op.batch_alter_table("outbox_jobs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("priority", sa.SmallInteger(), server_default="5", nullable=False)
        )
        batch_op.add_column(sa.Column("destination", sa.String(length=300), nullable=True))
        batch_op.create_index(
            "ix_outbox_jobs_claim", ["status", "priority", "due_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_outbox_jobs_in_flight",
            ["destination"],
            unique=False,
            postgresql_where=sa.text("leased_until IS NOT NULL"),
            sqlite_where=sa.text("leased_until IS NOT NULL"),
        )
    jobs = sa.table("outbox_jobs", sa.column("kind", sa.String), sa.column("priority"))
    for kind, priority in PRIORITIES.items():
        op.execute(jobs.update().where(jobs.c.kind == kind).values(priority=priority))
    op.create_table(
        "delivery_circuits",
        sa.Column("destination", sa.String(length=300), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("openings", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retry_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("destination", name=op.f("pk_delivery_circuits")),
    )


def downgrade():
    op.drop_table("delivery_circuits")
    with op.batch_alter_table("outbox_jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_jobs_in_flight")
        batch_op.drop_index("ix_outbox_jobs_claim")
        batch_op.drop_column("destination")
        batch_op.drop_column("priority")
