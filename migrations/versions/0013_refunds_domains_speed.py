"""Refunds pushed to Shopify (return_requests.refund_requested_at and
shopify_refund_id), the shop's primary storefront domain for CORS
(shops.primary_domain_url), and the storefront lookup's key of the order's
name (orders.name_key, plugin.models.order_name_key) with its index.

Revision ID: 0013_refunds_domains_speed
Revises: 0012
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa

revision = '0013_refunds_domains_speed'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('shops') as batch_op:
        batch_op.add_column(sa.Column('primary_domain_url', sa.String(length=255), nullable=True))
    with op.batch_alter_table('return_requests') as batch_op:
        batch_op.add_column(sa.Column('refund_requested_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('shopify_refund_id', sa.BigInteger(), nullable=True))
    with op.batch_alter_table('orders') as batch_op:
        batch_op.add_column(sa.Column('name_key', sa.String(length=255), nullable=True))
    # plugin.models.order_name_key, in SQL: no spaces, upper case, one leading "#" dropped.
    op.execute("UPDATE orders SET name_key = CASE WHEN upper(replace(name, ' ', '')) LIKE '#%' "
               "THEN substr(upper(replace(name, ' ', '')), 2) ELSE upper(replace(name, ' ', '')) END "
               "WHERE name IS NOT NULL")
    op.create_index(op.f('ix_orders_shop_id_name_key'), 'orders', ['shop_id', 'name_key'])


def downgrade() -> None:
    op.drop_index(op.f('ix_orders_shop_id_name_key'), table_name='orders')
    with op.batch_alter_table('orders') as batch_op:
        batch_op.drop_column('name_key')
    with op.batch_alter_table('return_requests') as batch_op:
        batch_op.drop_column('shopify_refund_id')
        batch_op.drop_column('refund_requested_at')
    with op.batch_alter_table('shops') as batch_op:
        batch_op.drop_column('primary_domain_url')
