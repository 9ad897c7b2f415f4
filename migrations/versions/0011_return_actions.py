"""Returns: an audit line per admin decision on a return request (who, when, what).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('return_actions',
        sa.Column('id', BigId, nullable=False),
        sa.Column('shop_id', BigId, nullable=False),
        sa.Column('request_id', BigId, nullable=False),
        sa.Column('action', sa.String(length=16), nullable=False),
        sa.Column('actor', sa.String(length=255), nullable=True),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('reason', sa.String(length=32), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['request_id'], ['return_requests.id'], name=op.f('fk_return_actions_request_id_return_requests'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_return_actions_shop_id_shops'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_return_actions')),
    )
    op.create_index(op.f('ix_return_actions_shop_id_request_id'), 'return_actions', ['shop_id', 'request_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_return_actions_shop_id_request_id'), table_name='return_actions')
    op.drop_table('return_actions')
