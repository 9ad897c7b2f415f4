"""Per-shop settings, and the shop's time zone.

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


def downgrade() -> None:
    op.drop_table('settings')
    with op.batch_alter_table('shops') as batch_op:
        batch_op.drop_column('iana_timezone')
