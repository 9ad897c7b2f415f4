"""`aftercare webhooks failed` and `aftercare webhooks replay ID`."""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from plugin.db import get_session
from plugin.models import Shop, WebhookDelivery

from . import inbox

cli = AppGroup("webhooks", help="Inspect and re-run stored webhook deliveries.")


def _domains(session) -> dict[int, str]:
    return dict(session.execute(select(Shop.id, Shop.domain)).all())


@cli.command("failed")
def failed_command():
    """List failed deliveries (JSON), with their errors."""
    session = get_session()
    domains = _domains(session)
    rows = [inbox.describe(d, domains.get(d.shop_id, "?")) for d in inbox.failed(session)]
    click.echo(json.dumps(rows, indent=2, ensure_ascii=False))


@cli.command("replay")
@click.argument("delivery_id", type=int)
def replay_command(delivery_id: int):
    """Run stored delivery DELIVERY_ID again now."""
    session = get_session()
    purged = session.scalar(select(WebhookDelivery.payload_purged_at).where(WebhookDelivery.id == delivery_id))
    session.rollback()  # on SQLite this session holds the write lock, which replay needs
    if purged:
        raise click.ClickException(f"webhook delivery {delivery_id} cannot be replayed: its body was dropped "
                                   "after the retention period (AFTERCARE_RETENTION_DAYS)")
    delivery = inbox.replay(current_app._get_current_object(), delivery_id)
    if delivery is None:
        raise click.ClickException(f"no webhook delivery with id {delivery_id}")
    domain = _domains(get_session()).get(delivery.shop_id, "?")
    click.echo(json.dumps(inbox.describe(delivery, domain), indent=2, ensure_ascii=False))
    if delivery.status != "processed":
        raise SystemExit(1)
