"""Refunds by state (a virtual account's refund is pending until paid out, or fails), and the
easy-pay provider of a payment.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payments") as batch:
        batch.add_column(
            sa.Column("refund_pending", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("easy_pay_provider", sa.String(30), nullable=True))
    with op.batch_alter_table("payment_cancels") as batch:
        batch.add_column(
            sa.Column("status", sa.String(16), nullable=False, server_default="done")
        )
        batch.add_column(sa.Column("settles_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("payment_cancels") as batch:
        batch.drop_column("settles_at")
        batch.drop_column("status")
    with op.batch_alter_table("payments") as batch:
        batch.drop_column("easy_pay_provider")
        batch.drop_column("refund_pending")
