"""`aftercare notifications …`: look at a message as it would go out, mail
one to yourself, send a failed one again."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from .. import orders, outbox
from ..db import get_session
from ..locales import LOCALES
from .kinds import KINDS
from .preview import NoMailServer, preview, send_test
from ..cli_args import shop_named as _shop

notifications_cli = AppGroup("notifications", help="Customer notifications: preview, send a test, retry.")


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




def _order(shop, name: str | None):
    if name is None:
        return None
    order = orders.find_order(get_session(), shop.id, name)
    if order is None:
        raise click.ClickException(f"no order {name} in {shop.domain}")
    return order


_shop_option = click.option("--shop", "domain", required=True, help="Shop domain, e.g. example.myshopify.com")
_kind_argument = click.argument("kind", type=click.Choice(KINDS))
_order_option = click.option("--order", "order_name", default=None,
                             help="A real order (#1001 or 1001); default: a sample order.")
_locale_option = click.option("--locale", type=click.Choice(LOCALES), default=None,
                              help="Language; default: the order's.")


@notifications_cli.command("preview")
@_shop_option
@_kind_argument
@_order_option
@_locale_option
@click.option("--html", "show_html", is_flag=True, help="Print the HTML part instead of the text.")
def preview_command(domain: str, kind: str, order_name: str | None, locale: str | None, show_html: bool):
    """Render KIND as it would go out: subject, text (or HTML) and SMS."""
    shop = _shop(domain)
    message = preview(get_session(), shop, kind, order=_order(shop, order_name), locale=locale)
    if message["template_error"]:
        click.echo(f"the shop's own template failed, the default is shown: {message['template_error']}", err=True)
    if show_html:
        click.echo(message["html"])
        return
    click.echo(f"Subject: {message['subject']}\n")
    click.echo(message["text"])
    click.echo(f"SMS: {message['sms']}")


@notifications_cli.command("send-test")
@_shop_option
@_kind_argument
@_order_option
@_locale_option
@click.option("--to", "to", required=True, help="Address to send the test message to.")
def send_test_command(domain: str, kind: str, order_name: str | None, locale: str | None, to: str):
    """Mail KIND to ADDR now, as a customer would get it ("[Test]" in the subject)."""
    shop = _shop(domain)
    try:
        email = send_test(get_session(), shop, kind, to, order=_order(shop, order_name), locale=locale)
    except NoMailServer as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"sent {email['Subject']!r} to {to}")
