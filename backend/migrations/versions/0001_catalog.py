"""Demo catalog.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

PRODUCTS = [
    (1, "Jeju green tea, 100 g", "Loose-leaf tea from Jeju island.", 15000, "KRW"),
    (2, "Ceramic mug", "Hand-thrown, 350 ml.", 28000, "KRW"),
    (3, "Hanji notebook", "Mulberry paper, 120 pages.", 9900, "KRW"),
    (4, "Gift box", "Tea, mug and notebook together.", 49000, "KRW"),
    (5, "Overseas gift card", "Charged in US dollars by an overseas card.", 1250, "USD"),
]


def upgrade():
    products = op.create_table(
        "products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
    )
    op.bulk_insert(
        products,
        [
            {"id": i, "name": n, "description": d, "price": p, "currency": c, "active": True}
            for i, n, d, p, c in PRODUCTS
        ],
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("SELECT setval(pg_get_serial_sequence('products', 'id'), 100)")


def downgrade():
    op.drop_table("products")
