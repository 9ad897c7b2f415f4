"""Issue 10: survey invitations are made by a worker job, once per order and
touchpoint: a dedupe key unique per shop (like the outbox's) lets any number
of workers decide the same invitation and only one row exist.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('survey_invitations') as batch_op:
        batch_op.add_column(sa.Column('dedupe_key', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint('uq_survey_invitations_shop_id_dedupe_key', ['shop_id', 'dedupe_key'])


def downgrade() -> None:
    with op.batch_alter_table('survey_invitations') as batch_op:
        batch_op.drop_constraint('uq_survey_invitations_shop_id_dedupe_key', type_='unique')
        batch_op.drop_column('dedupe_key')
