"""Per-shop settings, unsubscribed addresses (hashed), and the shop's time zone.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('shops') as batch_op:
        batch_op.add_column(sa.Column('iana_timezone', sa.String(length=64), nullable=True))

    op.create_table('settings',
        sa.Column('shop_id', BigId, nullable=False),
        sa.Column('key', sa.String(length=128), nullable=False),
        sa.Column('value', sa.JSON(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_settings_shop_id_shops'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('shop_id', 'key', name=op.f('pk_settings')),
    )

    op.create_table('suppressions',
        sa.Column('shop_id', BigId, nullable=False),
        sa.Column('category', sa.String(length=32), nullable=False),
        sa.Column('address_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_suppressions_shop_id_shops'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('shop_id', 'category', 'address_hash', name=op.f('pk_suppressions')),
    )


def downgrade() -> None:
    op.drop_table('suppressions')
    op.drop_table('settings')
    with op.batch_alter_table('shops') as batch_op:
        batch_op.drop_column('iana_timezone')
