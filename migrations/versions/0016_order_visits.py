"""Shoppers' views of their orders (order_visits, plugin/visits.py): one row
per order, surface and hour, keyed by shop from birth (issue 7).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'order_visits',
        sa.Column('shop_id', BigId, nullable=False),
        sa.Column('order_id', BigId, nullable=False),
        sa.Column('surface', sa.String(length=16), nullable=False),
        sa.Column('hour', sa.DateTime(timezone=True), nullable=False),
        sa.Column('viewed_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_order_visits_shop_id_shops'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['shop_id', 'order_id'], ['orders.shop_id', 'orders.id'],
                                name=op.f('fk_order_visits_order_id_orders'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('shop_id', 'order_id', 'surface', 'hour', name=op.f('pk_order_visits')),
    )


def downgrade() -> None:
    op.drop_table('order_visits')
