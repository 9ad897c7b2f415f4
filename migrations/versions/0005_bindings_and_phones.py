"""Issue 6 mends: the shop's Shopify id (webhook bodies are bound to it), the
order customer's own email and the shipping address's phone kept apart from
the customer's phone, and an index to find an order id held by any shop.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('shops') as batch_op:
        batch_op.add_column(sa.Column('shopify_id', sa.BigInteger(), nullable=True))
    with op.batch_alter_table('orders') as batch_op:
        batch_op.add_column(sa.Column('customer_email', sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column('shipping_phone', sa.String(length=64), nullable=True))
    op.create_index(op.f('ix_orders_shopify_id_shop_id'), 'orders', ['shopify_id', 'shop_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_orders_shopify_id_shop_id'), table_name='orders')
    with op.batch_alter_table('orders') as batch_op:
        batch_op.drop_column('shipping_phone')
        batch_op.drop_column('customer_email')
    with op.batch_alter_table('shops') as batch_op:
        batch_op.drop_column('shopify_id')
