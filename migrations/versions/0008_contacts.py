"""Contacts: each "still need help?" request from the storefront.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('contacts',
        sa.Column('id', BigId, nullable=False),
        sa.Column('shop_id', BigId, nullable=False),
        sa.Column('order_id', BigId, nullable=True),
        sa.Column('message_length', sa.Integer(), nullable=False),
        sa.Column('answers_shown', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_contacts_order_id_orders'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_contacts_shop_id_shops'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts')),
    )
    op.create_index(op.f('ix_contacts_shop_id_created_at'), 'contacts', ['shop_id', 'created_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_contacts_shop_id_created_at'), table_name='contacts')
    op.drop_table('contacts')
