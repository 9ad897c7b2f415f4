"""Refunds pushed to Shopify (return_requests.refund_requested_at and
shopify_refund_id), the shop's primary storefront domain for CORS
(shops.primary_domain_url), and the storefront lookup's key of the order's
name (orders.name_key, plugin.models.order_name_key) with its index, and the
survey metrics' daily counts (survey_answer_days, survey_invitation_days)
with the triggers that keep them (plugin/surveys/rollup.py).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa

from plugin.surveys import rollup

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('shops') as batch_op:
        batch_op.add_column(sa.Column('primary_domain_url', sa.String(length=255), nullable=True))
    with op.batch_alter_table('return_requests') as batch_op:
        batch_op.add_column(sa.Column('refund_requested_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('shopify_refund_id', sa.BigInteger(), nullable=True))
    with op.batch_alter_table('orders') as batch_op:
        batch_op.add_column(sa.Column('name_key', sa.String(length=255), nullable=True))
    # plugin.models.order_name_key, in SQL: no spaces, upper case, one leading "#" dropped.
    op.execute("UPDATE orders SET name_key = CASE WHEN upper(replace(name, ' ', '')) LIKE '#%' "
               "THEN substr(upper(replace(name, ' ', '')), 2) ELSE upper(replace(name, ' ', '')) END "
               "WHERE name IS NOT NULL")
    op.create_index(op.f('ix_orders_shop_id_name_key'), 'orders', ['shop_id', 'name_key'])

    op.create_table(
        'survey_answer_days',
        sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('dimension', sa.String(length=10), nullable=False),
        sa.Column('key', sa.String(length=260), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('score', sa.SmallInteger(), nullable=False),
        sa.Column('answers', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_survey_answer_days_shop_id_shops'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('shop_id', 'day', 'dimension', 'key', 'kind', 'score',
                                name=op.f('pk_survey_answer_days')),
    )
    op.create_table(
        'survey_invitation_days',
        sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('dimension', sa.String(length=10), nullable=False),
        sa.Column('key', sa.String(length=260), nullable=False),
        sa.Column('sent', sa.Integer(), nullable=False),
        sa.Column('answered', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_survey_invitation_days_shop_id_shops'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('shop_id', 'day', 'dimension', 'key', name=op.f('pk_survey_invitation_days')),
    )
    bind = op.get_bind()
    rollup.install(bind)
    rollup.backfill(bind)


def downgrade() -> None:
    rollup.uninstall(op.get_bind())
    op.drop_table('survey_invitation_days')
    op.drop_table('survey_answer_days')
    op.drop_index(op.f('ix_orders_shop_id_name_key'), table_name='orders')
    with op.batch_alter_table('orders') as batch_op:
        batch_op.drop_column('name_key')
    with op.batch_alter_table('return_requests') as batch_op:
        batch_op.drop_column('shopify_refund_id')
        batch_op.drop_column('refund_requested_at')
    with op.batch_alter_table('shops') as batch_op:
        batch_op.drop_column('primary_domain_url')
