"""Write-ahead intents for gateway calls that move money.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "gateway_intents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("vendor", sa.String(length=16), nullable=False),
        sa.Column("vendor_payment_id", sa.String(length=200), nullable=False),
        sa.Column("payment_id", sa.String(length=36), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("expected_remaining", sa.BigInteger(), nullable=False),
        sa.Column("gateway_key", sa.String(length=200), nullable=False),
        sa.Column("known_cancel_ids", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("cancel_id", sa.String(length=200), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=True),
        sa.Column("looks", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_intents")),
    )
    with op.batch_alter_table("gateway_intents") as batch:
        batch.create_index(batch.f("ix_gateway_intents_payment_id"), ["payment_id"], unique=False)
        batch.create_index(batch.f("ix_gateway_intents_status"), ["status"], unique=False)
        batch.create_index(
            batch.f("ix_gateway_intents_vendor_payment_id"), ["vendor_payment_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("gateway_intents") as batch:
        batch.drop_index(batch.f("ix_gateway_intents_vendor_payment_id"))
        batch.drop_index(batch.f("ix_gateway_intents_status"))
        batch.drop_index(batch.f("ix_gateway_intents_payment_id"))
    op.drop_table("gateway_intents")
