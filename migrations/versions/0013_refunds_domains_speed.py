"""Refunds pushed to Shopify (return_requests.refund_requested_at and
shopify_refund_id), the shop's primary storefront domain for CORS
(shops.primary_domain_url).

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


def downgrade() -> None:
    with op.batch_alter_table('return_requests') as batch_op:
        batch_op.drop_column('shopify_refund_id')
        batch_op.drop_column('refund_requested_at')
    with op.batch_alter_table('shops') as batch_op:
        batch_op.drop_column('primary_domain_url')
