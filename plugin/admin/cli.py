"""`aftercare settings get/set`: the admin page's settings from a terminal.

Values go through ``settings.parse_text`` and then the same checks as the
admin page (``settings.update``): a bad one exits non-zero naming its field,
and nothing of that command is saved.
"""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from .. import settings
from ..db import get_session
from ..cli_args import shop_named as _shop

settings_cli = AppGroup("settings", help="Read and change a shop's settings (the same as its admin page).")




def _show(value) -> str:
    return json.dumps(value, ensure_ascii=False)


@settings_cli.command("get")
@click.option("--shop", "domain", required=True, help="Shop domain, e.g. example.myshopify.com")
@click.argument("key", required=False)
def settings_get(domain: str, key: str | None):
    """Every setting as KEY=VALUE lines (values as JSON), or the one KEY's value."""
    shop = _shop(domain)
    session = get_session()
    if key is not None:
        try:
            click.echo(_show(settings.get(session, shop.id, key)))
        except settings.Invalid as exc:
            raise click.ClickException(f"{exc.field}: {exc.message}") from None
        return
    for name, value in settings.load(session, shop.id).items():
        click.echo(f"{name}={_show(value)}")


@settings_cli.command("set")
@click.option("--shop", "domain", required=True, help="Shop domain, e.g. example.myshopify.com")
@click.argument("assignments", nargs=-1, required=True, metavar="KEY=VALUE...")
def settings_set(domain: str, assignments: tuple[str, ...]):
    """Change settings: `notifications.shipped.sms=on survey.kinds='["csat"]'`;
    `KEY=null` goes back to the default. All or nothing."""
    shop = _shop(domain)
    changes = {}
    for assignment in assignments:
        key, sep, raw = assignment.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{assignment!r} is not KEY=VALUE", param_hint="KEY=VALUE")
        changes[key.strip()] = settings.parse_text(key.strip(), raw)
    session = get_session()
    try:
        values = settings.update(session, shop.id, changes)
    except settings.Invalid as exc:
        session.rollback()
        raise click.ClickException(f"{exc.field}: {exc.message} (nothing saved)") from None
    session.commit()
    for key in changes:
        click.echo(f"{key}={_show(values[key])}")
