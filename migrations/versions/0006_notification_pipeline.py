"""Notification pipeline: test orders, and delayed parcels flagged for the merchant.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('orders') as batch_op:
        batch_op.add_column(sa.Column('test', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('delayed_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('fulfillments') as batch_op:
        batch_op.add_column(sa.Column('delayed_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('fulfillments') as batch_op:
        batch_op.drop_column('delayed_at')
    with op.batch_alter_table('orders') as batch_op:
        batch_op.drop_column('delayed_at')
        batch_op.drop_column('test')
