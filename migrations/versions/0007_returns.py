"""Returns: return requests and their items, the refund lines Shopify
reports, and which line items are gift cards.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('line_items') as batch_op:
        batch_op.add_column(sa.Column('gift_card', sa.Boolean(), nullable=False, server_default=sa.false()))

    op.create_table('return_requests',
        sa.Column('id', BigId, nullable=False),
        sa.Column('shop_id', BigId, nullable=False),
        sa.Column('order_id', BigId, nullable=False),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('shopify_return_id', sa.BigInteger(), nullable=True),
        sa.Column('shopify_status', sa.String(length=16), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('decline_reason', sa.String(length=32), nullable=True),
        sa.Column('decline_note', sa.Text(), nullable=True),
        sa.Column('instructions', sa.Text(), nullable=True),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('first_response_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_actor', sa.String(length=255), nullable=True),
        sa.Column('sync_attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('sync_error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_return_requests_order_id_orders'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_return_requests_shop_id_shops'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_return_requests')),
        sa.UniqueConstraint('shop_id', 'key', name=op.f('uq_return_requests_shop_id_key')),
        sa.UniqueConstraint('shop_id', 'shopify_return_id', name=op.f('uq_return_requests_shop_id_shopify_return_id')),
    )
    op.create_index(op.f('ix_return_requests_shop_id_order_id'), 'return_requests', ['shop_id', 'order_id'], unique=False)
    op.create_index(op.f('ix_return_requests_shop_id_status_requested_at'), 'return_requests',
                    ['shop_id', 'status', 'requested_at'], unique=False)
    op.create_index(op.f('ix_return_requests_next_attempt_at_shop_id'), 'return_requests',
                    ['next_attempt_at', 'shop_id'], unique=False)

    op.create_table('return_items',
        sa.Column('id', BigId, nullable=False),
        sa.Column('shop_id', BigId, nullable=False),
        sa.Column('request_id', BigId, nullable=False),
        sa.Column('line_item_shopify_id', sa.BigInteger(), nullable=False),
        sa.Column('quantity', sa.Integer(), nullable=False),
        sa.Column('reason', sa.String(length=32), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['request_id'], ['return_requests.id'], name=op.f('fk_return_items_request_id_return_requests'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_return_items_shop_id_shops'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_return_items')),
        sa.UniqueConstraint('shop_id', 'request_id', 'line_item_shopify_id',
                            name=op.f('uq_return_items_shop_id_request_id_line_item_shopify_id')),
    )

    op.create_table('refund_lines',
        sa.Column('id', BigId, nullable=False),
        sa.Column('shop_id', BigId, nullable=False),
        sa.Column('order_id', BigId, nullable=False),
        sa.Column('shopify_id', sa.BigInteger(), nullable=False),
        sa.Column('refund_shopify_id', sa.BigInteger(), nullable=False),
        sa.Column('return_shopify_id', sa.BigInteger(), nullable=True),
        sa.Column('line_item_shopify_id', sa.BigInteger(), nullable=False),
        sa.Column('quantity', sa.Integer(), nullable=False),
        sa.Column('restock_type', sa.String(length=32), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_refund_lines_order_id_orders'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_refund_lines_shop_id_shops'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_refund_lines')),
        sa.UniqueConstraint('shop_id', 'shopify_id', name=op.f('uq_refund_lines_shop_id_shopify_id')),
    )
    op.create_index(op.f('ix_refund_lines_shop_id_order_id'), 'refund_lines', ['shop_id', 'order_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_refund_lines_shop_id_order_id'), table_name='refund_lines')
    op.drop_table('refund_lines')
    op.drop_table('return_items')
    op.drop_index(op.f('ix_return_requests_next_attempt_at_shop_id'), table_name='return_requests')
    op.drop_index(op.f('ix_return_requests_shop_id_status_requested_at'), table_name='return_requests')
    op.drop_index(op.f('ix_return_requests_shop_id_order_id'), table_name='return_requests')
    op.drop_table('return_requests')
    with op.batch_alter_table('line_items') as batch_op:
        batch_op.drop_column('gift_card')
