"""Survey invitations and responses (answers carry their order's delivery facts).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('survey_invitations',
        sa.Column('id', BigId, nullable=False),
        sa.Column('shop_id', BigId, nullable=False),
        sa.Column('order_id', BigId, nullable=False),
        sa.Column('touchpoint', sa.String(length=16), nullable=False),
        sa.Column('return_request_id', sa.BigInteger(), nullable=True),
        sa.Column('recipient_hash', sa.String(length=64), nullable=True),
        sa.Column('notification_id', BigId, nullable=True),
        sa.Column('kinds', sa.JSON(), nullable=False),
        sa.Column('locale', sa.String(length=35), nullable=True),
        sa.Column('carrier', sa.String(length=255), nullable=True),
        sa.Column('products', sa.JSON(), nullable=False),
        sa.Column('days_late', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_survey_invitations_shop_id_shops'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_survey_invitations_order_id_orders'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['notification_id'], ['notifications.id'], name=op.f('fk_survey_invitations_notification_id_notifications'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_invitations')),
    )
    op.create_index('ix_survey_invitations_metrics', 'survey_invitations', ['shop_id', 'sent_at', 'answered_at', 'carrier', 'touchpoint', 'days_late'], unique=False)
    op.create_index(op.f('ix_survey_invitations_shop_id_order_id'), 'survey_invitations', ['shop_id', 'order_id'], unique=False)

    op.create_table('survey_responses',
        sa.Column('id', BigId, nullable=False),
        sa.Column('shop_id', BigId, nullable=False),
        sa.Column('invitation_id', BigId, nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('score', sa.SmallInteger(), nullable=False),
        sa.Column('comment', sa.Text(), nullable=True),
        sa.Column('order_id', BigId, nullable=False),
        sa.Column('touchpoint', sa.String(length=16), nullable=False),
        sa.Column('carrier', sa.String(length=255), nullable=True),
        sa.Column('products', sa.JSON(), nullable=False),
        sa.Column('days_late', sa.Integer(), nullable=True),
        sa.Column('locale', sa.String(length=35), nullable=True),
        sa.Column('answered_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('followed_up_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('followed_up_by', sa.String(length=320), nullable=True),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_survey_responses_shop_id_shops'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['invitation_id'], ['survey_invitations.id'], name=op.f('fk_survey_responses_invitation_id_survey_invitations'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_survey_responses_order_id_orders'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_responses')),
        sa.UniqueConstraint('shop_id', 'invitation_id', 'kind', name=op.f('uq_survey_responses_shop_id_invitation_id_kind')),
    )
    op.create_index('ix_survey_responses_metrics', 'survey_responses', ['shop_id', 'answered_at', 'kind', 'score', 'carrier', 'touchpoint', 'days_late'], unique=False)
    op.create_index(op.f('ix_survey_responses_shop_id_order_id'), 'survey_responses', ['shop_id', 'order_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_survey_responses_shop_id_order_id'), table_name='survey_responses')
    op.drop_index('ix_survey_responses_metrics', table_name='survey_responses')
    op.drop_table('survey_responses')
    op.drop_index(op.f('ix_survey_invitations_shop_id_order_id'), table_name='survey_invitations')
    op.drop_index('ix_survey_invitations_metrics', table_name='survey_invitations')
    op.drop_table('survey_invitations')
