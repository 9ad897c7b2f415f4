"""Keys by shop (issue 7): every shop-owned table ready to be distributed by
shop_id (Citus), constraints only, no data moves.

PostgreSQL: each shop-owned table's primary key becomes (shop_id, id), and
each foreign key between shop-owned tables becomes composite,
(shop_id, x_id) -> x(shop_id, id). The two that were ON DELETE SET NULL
(contacts.order_id, survey_invitations.notification_id) become NO ACTION: a
composite SET NULL would null shop_id too, and Citus refuses it; nothing
deletes an order or a notification but its shop's erasure, which deletes the
referring rows first.

SQLite: the primary keys stay ``id`` (SQLite's rowid, so ids keep
autoincrementing; a composite key would lose that); the parents get a unique
index on (shop_id, id) as the composite foreign keys' target. SQLite changes a
foreign key by rebuilding the table (copy, drop, rename); migrations/env.py
turns foreign keys off meanwhile so the drop cascades nowhere, and checks them
after.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

# Every table whose rows belong to one shop and are keyed by an id of their own
# (settings and suppressions are keyed by shop_id already; shops is the
# reference table; worker_heartbeats is not shop data).
TABLES = (
    'orders', 'line_items', 'fulfillments', 'fulfillment_line_items', 'tracking_events',
    'webhook_deliveries', 'notifications', 'data_exports', 'backfills',
    'return_requests', 'return_items', 'refund_lines', 'return_actions',
    'contacts', 'survey_invitations', 'survey_responses',
)

# The rows other rows point at: on SQLite they get the unique (shop_id, id).
PARENTS = ('orders', 'fulfillments', 'notifications', 'return_requests', 'survey_invitations')

# (table, column, parent, ON DELETE before, ON DELETE after)
REFERENCES = (
    ('line_items', 'order_id', 'orders', 'CASCADE', 'CASCADE'),
    ('fulfillments', 'order_id', 'orders', 'CASCADE', 'CASCADE'),
    ('fulfillment_line_items', 'fulfillment_id', 'fulfillments', 'CASCADE', 'CASCADE'),
    ('tracking_events', 'fulfillment_id', 'fulfillments', 'CASCADE', 'CASCADE'),
    ('notifications', 'order_id', 'orders', 'CASCADE', 'CASCADE'),
    ('return_requests', 'order_id', 'orders', 'CASCADE', 'CASCADE'),
    ('return_items', 'request_id', 'return_requests', 'CASCADE', 'CASCADE'),
    ('refund_lines', 'order_id', 'orders', 'CASCADE', 'CASCADE'),
    ('return_actions', 'request_id', 'return_requests', 'CASCADE', 'CASCADE'),
    ('contacts', 'order_id', 'orders', 'SET NULL', None),
    ('survey_invitations', 'order_id', 'orders', 'CASCADE', 'CASCADE'),
    ('survey_invitations', 'notification_id', 'notifications', 'SET NULL', None),
    ('survey_responses', 'invitation_id', 'survey_invitations', 'CASCADE', 'CASCADE'),
    ('survey_responses', 'order_id', 'orders', 'CASCADE', 'CASCADE'),
)


def _fk(table: str, column: str, parent: str) -> str:
    return f'fk_{table}_{column}_{parent}'


def _sqlite() -> bool:
    return op.get_bind().dialect.name == 'sqlite'


def upgrade() -> None:
    if _sqlite():
        for parent in PARENTS:
            op.create_index(f'ix_{parent}_shop_id_id', parent, ['shop_id', 'id'], unique=True)
        _sqlite_rebuild(composite=True)
        return
    for table, column, parent, _before, _after in REFERENCES:
        op.drop_constraint(_fk(table, column, parent), table, type_='foreignkey')
    for table in TABLES:
        op.drop_constraint(f'pk_{table}', table, type_='primary')
        op.create_primary_key(f'pk_{table}', table, ['shop_id', 'id'])
    for table, column, parent, _before, after in REFERENCES:
        op.create_foreign_key(_fk(table, column, parent), table, parent, ['shop_id', column], ['shop_id', 'id'],
                              ondelete=after)


def downgrade() -> None:
    if _sqlite():
        _sqlite_rebuild(composite=False)
        for parent in PARENTS:
            op.drop_index(f'ix_{parent}_shop_id_id', table_name=parent)
        return
    for table, column, parent, _before, _after in REFERENCES:
        op.drop_constraint(_fk(table, column, parent), table, type_='foreignkey')
    for table in TABLES:
        op.drop_constraint(f'pk_{table}', table, type_='primary')
        op.create_primary_key(f'pk_{table}', table, ['id'])
    for table, column, parent, before, _after in REFERENCES:
        op.create_foreign_key(_fk(table, column, parent), table, parent, [column], ['id'], ondelete=before)


def _sqlite_rebuild(composite: bool) -> None:
    """Each referring table rebuilt once with its foreign keys swapped."""
    tables = dict.fromkeys(table for table, *_ in REFERENCES)
    for table in tables:
        with op.batch_alter_table(table) as batch_op:
            for _table, column, parent, before, after in (r for r in REFERENCES if r[0] == table):
                batch_op.drop_constraint(_fk(table, column, parent), type_='foreignkey')
                if composite:
                    batch_op.create_foreign_key(_fk(table, column, parent), parent, ['shop_id', column],
                                                ['shop_id', 'id'], ondelete=after)
                else:
                    batch_op.create_foreign_key(_fk(table, column, parent), parent, [column], ['id'],
                                                ondelete=before)
