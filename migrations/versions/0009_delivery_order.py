"""Issue 11, order timeline: the Shopify order a webhook delivery concerns,
so an order's timeline lists its deliveries without reading every payload.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('webhook_deliveries') as batch_op:
        batch_op.add_column(sa.Column('order_shopify_id', sa.BigInteger(), nullable=True))
    op.create_index(op.f('ix_webhook_deliveries_shop_id_order_shopify_id'), 'webhook_deliveries',
                    ['shop_id', 'order_shopify_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_webhook_deliveries_shop_id_order_shopify_id'), table_name='webhook_deliveries')
    with op.batch_alter_table('webhook_deliveries') as batch_op:
        batch_op.drop_column('order_shopify_id')
