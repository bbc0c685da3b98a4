"""Orders expire and are swept fairly; surplus payments are recorded and refunded.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("next_check_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("checks", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index(batch.f("ix_orders_next_check_at"), ["next_check_at"], unique=False)
    # Orders still waiting are looked at once soon; the sweep spreads them out from there.
    op.execute(
        "UPDATE orders SET next_check_at = created_at "
        "WHERE status IN ('pending', 'failed', 'awaiting_deposit')"
    )
    op.create_table(
        "surplus_payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.String(length=100), nullable=False),
        sa.Column("vendor", sa.String(length=16), nullable=False),
        sa.Column("vendor_payment_id", sa.String(length=200), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("refunded", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=30), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surplus_payments")),
        sa.UniqueConstraint(
            "vendor", "vendor_payment_id", name=op.f("uq_surplus_payments_vendor_vendor_payment_id")
        ),
    )
    with op.batch_alter_table("surplus_payments") as batch:
        batch.create_index(batch.f("ix_surplus_payments_order_id"), ["order_id"], unique=False)


def downgrade():
    with op.batch_alter_table("surplus_payments") as batch:
        batch.drop_index(batch.f("ix_surplus_payments_order_id"))
    op.drop_table("surplus_payments")
    with op.batch_alter_table("orders") as batch:
        batch.drop_index(batch.f("ix_orders_next_check_at"))
        batch.drop_column("expires_at")
        batch.drop_column("checks")
        batch.drop_column("next_check_at")
