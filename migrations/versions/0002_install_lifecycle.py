"""Install lifecycle: expiring offline tokens with their refresh token, the
shop's name and owner email, the last install's OAuth state; data exports for
customers/data_request; resumable backfills.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('shops') as batch_op:
        batch_op.add_column(sa.Column('name', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('email', sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column('access_token_expires_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('refresh_token', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('refresh_token_expires_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('install_nonce', sa.String(length=64), nullable=True))

    op.create_table('data_exports',
        sa.Column('id', BigId, nullable=False),
        sa.Column('shop_id', BigId, nullable=False),
        sa.Column('request_id', sa.String(length=64), nullable=True),
        sa.Column('customer_id', sa.BigInteger(), nullable=True),
        sa.Column('content', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_data_exports_shop_id_shops'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_data_exports')),
    )
    op.create_index(op.f('ix_data_exports_shop_id_created_at'), 'data_exports', ['shop_id', 'created_at'], unique=False)

    op.create_table('backfills',
        sa.Column('id', BigId, nullable=False),
        sa.Column('shop_id', BigId, nullable=False),
        sa.Column('since', sa.DateTime(timezone=True), nullable=False),
        sa.Column('cursor', sa.Text(), nullable=True),
        sa.Column('imported', sa.Integer(), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_backfills_shop_id_shops'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_backfills')),
    )
    op.create_index(op.f('ix_backfills_shop_id_finished_at'), 'backfills', ['shop_id', 'finished_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_backfills_shop_id_finished_at'), table_name='backfills')
    op.drop_table('backfills')
    op.drop_index(op.f('ix_data_exports_shop_id_created_at'), table_name='data_exports')
    op.drop_table('data_exports')
    with op.batch_alter_table('shops') as batch_op:
        batch_op.drop_column('install_nonce')
        batch_op.drop_column('refresh_token_expires_at')
        batch_op.drop_column('refresh_token')
        batch_op.drop_column('access_token_expires_at')
        batch_op.drop_column('email')
        batch_op.drop_column('name')
