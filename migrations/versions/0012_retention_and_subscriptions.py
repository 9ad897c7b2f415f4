"""Issue 6 faults: webhook subscriptions owed to a shop are retried by the
worker (shops.subscriptions_due_at), and processed webhook bodies are purged
after the retention period, keeping the delivery row (payload_purged_at).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('shops') as batch_op:
        batch_op.add_column(sa.Column('subscriptions_due_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('webhook_deliveries') as batch_op:
        batch_op.add_column(sa.Column('payload_purged_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('webhook_deliveries') as batch_op:
        batch_op.drop_column('payload_purged_at')
    with op.batch_alter_table('shops') as batch_op:
        batch_op.drop_column('subscriptions_due_at')
