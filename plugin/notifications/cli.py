"""`aftercare notifications …`: look after the outbox from the command line."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from .. import outbox
from ..db import get_session

notifications_cli = AppGroup("notifications", help="Customer notifications: retry, preview, send a test.")


@notifications_cli.command("retry")
@click.argument("notification_id", type=int)
def retry(notification_id: int):
    """Send the failed notification NOTIFICATION_ID again (due now, attempts afresh)."""
    session = get_session()
    row = outbox.retry(session, notification_id)
    if row is None:
        raise click.ClickException(f"no failed notification {notification_id}")
    session.commit()
    click.echo(f"notification {notification_id} ({row.kind} by {row.channel}) is due again")
