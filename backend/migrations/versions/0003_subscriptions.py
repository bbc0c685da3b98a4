"""Subscriptions.

Plans (seeded), billing keys (reservations), subscriptions, their charges and charge attempts,
and the test clock's shared offset.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

PLANS = [
    (1, "Basic monthly", 9900, "KRW", "month"),
    (2, "Pro monthly", 19900, "KRW", "month"),
]


def upgrade():
    plans = op.create_table('plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('interval', sa.String(length=10), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plans'))
    )
    op.bulk_insert(
        plans,
        [
            {"id": i, "name": n, "amount": a, "currency": c, "interval": v, "active": True}
            for i, n, a, c, v in PLANS
        ],
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("SELECT setval(pg_get_serial_sequence('plans', 'id'), 100)")
    op.create_table('reservations',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('vendor', sa.String(length=16), nullable=False),
    sa.Column('store_id', sa.String(length=100), nullable=False),
    sa.Column('uid_digest', sa.String(length=64), nullable=False),
    sa.Column('sealed_uid', sa.Text(), nullable=False),
    sa.Column('customer_key', sa.String(length=300), nullable=False),
    sa.Column('source_schema', sa.String(length=100), nullable=False),
    sa.Column('source_table', sa.String(length=100), nullable=False),
    sa.Column('source_id', sa.String(length=100), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('card', sa.JSON(), nullable=True),
    sa.Column('sealed_data', sa.Text(), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=True),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reservations')),
    sa.UniqueConstraint('source_schema', 'source_table', 'source_id', name=op.f('uq_reservations_source_schema_source_table_source_id')),
    sa.UniqueConstraint('vendor', 'uid_digest', name=op.f('uq_reservations_vendor_uid_digest'))
    )
    with op.batch_alter_table('reservations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reservations_created_at'), ['created_at'], unique=False)

    op.create_table('test_clock',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offset_us', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_test_clock'))
    )
    op.create_table('subscriptions',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('vendor', sa.String(length=16), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('buyer', sa.JSON(), nullable=True),
    sa.Column('customer_key', sa.String(length=100), nullable=True),
    sa.Column('pending_customer_key', sa.String(length=100), nullable=True),
    sa.Column('card_changes', sa.Integer(), nullable=False),
    sa.Column('reservation_id', sa.String(length=36), nullable=True),
    sa.Column('anchor_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('activated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paid_periods', sa.Integer(), nullable=False),
    sa.Column('canceled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancel_reason', sa.String(length=500), nullable=True),
    sa.Column('access_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_subscriptions_plan_id_plans')),
    sa.ForeignKeyConstraint(['reservation_id'], ['reservations.id'], name=op.f('fk_subscriptions_reservation_id_reservations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscriptions'))
    )
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subscriptions_activated_at'), ['activated_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_subscriptions_canceled_at'), ['canceled_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_subscriptions_status'), ['status'], unique=False)

    op.create_table('subscription_charges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscription_id', sa.String(length=40), nullable=False),
    sa.Column('period', sa.Integer(), nullable=False),
    sa.Column('key_issue', sa.Boolean(), nullable=False),
    sa.Column('order_id', sa.String(length=64), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('first_failed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failure', sa.String(length=500), nullable=True),
    sa.Column('scheduled_with', sa.String(length=100), nullable=True),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('vendor_payment_id', sa.String(length=200), nullable=True),
    sa.Column('payment_id', sa.String(length=36), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_subscription_charges_payment_id_payments'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['subscription_id'], ['subscriptions.id'], name=op.f('fk_subscription_charges_subscription_id_subscriptions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscription_charges')),
    sa.UniqueConstraint('order_id', name=op.f('uq_subscription_charges_order_id')),
    sa.UniqueConstraint('subscription_id', 'period', name=op.f('uq_subscription_charges_subscription_id_period'))
    )
    with op.batch_alter_table('subscription_charges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subscription_charges_paid_at'), ['paid_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_subscription_charges_status'), ['status'], unique=False)

    op.create_table('subscription_charge_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('charge_id', sa.Integer(), nullable=False),
    sa.Column('vendor_payment_id', sa.String(length=200), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('failure', sa.String(length=500), nullable=True),
    sa.Column('attempted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['charge_id'], ['subscription_charges.id'], name=op.f('fk_subscription_charge_attempts_charge_id_subscription_charges'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscription_charge_attempts')),
    sa.UniqueConstraint('charge_id', 'vendor_payment_id', name=op.f('uq_subscription_charge_attempts_charge_id_vendor_payment_id'))
    )
    with op.batch_alter_table('subscription_charge_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subscription_charge_attempts_attempted_at'), ['attempted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_subscription_charge_attempts_charge_id'), ['charge_id'], unique=False)



def downgrade():
    with op.batch_alter_table('subscription_charge_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subscription_charge_attempts_charge_id'))
        batch_op.drop_index(batch_op.f('ix_subscription_charge_attempts_attempted_at'))

    op.drop_table('subscription_charge_attempts')
    with op.batch_alter_table('subscription_charges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subscription_charges_status'))
        batch_op.drop_index(batch_op.f('ix_subscription_charges_paid_at'))

    op.drop_table('subscription_charges')
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subscriptions_status'))
        batch_op.drop_index(batch_op.f('ix_subscriptions_canceled_at'))
        batch_op.drop_index(batch_op.f('ix_subscriptions_activated_at'))

    op.drop_table('subscriptions')
    op.drop_table('test_clock')
    with op.batch_alter_table('reservations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reservations_created_at'))

    op.drop_table('reservations')
    op.drop_table('plans')
