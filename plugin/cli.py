"""The `aftercare` command: a Flask CLI group bound to the app factory."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading

import click
from flask import current_app
from flask.cli import AppGroup, FlaskGroup
from sqlalchemy import select

from . import create_app, migrate, orders, shops, worker
from .config import ConfigError
from .db import get_session
from .models import Shop
from .notifications.cli import notifications_cli
from .signatures import normalize_shop_domain


def _create_app():
    try:
        return create_app()
    except ConfigError as exc:
        click.echo(f"aftercare: configuration error: {exc}", err=True)
        sys.exit(2)


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def cli():
    """Aftercare: post-purchase notifications, tracking, returns and surveys for Shopify stores."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _shop(domain: str) -> Shop:
    normalized = normalize_shop_domain(domain)
    if normalized is None:
        raise click.BadParameter(f"{domain!r} is not a shop domain like example.myshopify.com", param_hint="--shop")
    shop = shops.by_domain(get_session(), normalized)
    if shop is None:
        raise click.ClickException(f"no shop {normalized} (see `aftercare shops list`)")
    return shop


# --- db -------------------------------------------------------------------

db_cli = AppGroup("db", help="Database schema (Alembic).")
cli.add_command(db_cli)


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str):
    """Upgrade the schema to REVISION (default: head)."""
    migrate.upgrade(current_app._get_current_object(), revision)
    click.echo(f"database at {revision}")


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str):
    """Downgrade the schema to REVISION ("base" removes every table)."""
    migrate.downgrade(current_app._get_current_object(), revision)
    click.echo(f"database at {revision}")


# --- shops ----------------------------------------------------------------

shops_cli = AppGroup("shops", help="Register and list shops (development, support).")
cli.add_command(shops_cli)


@shops_cli.command("add")
@click.argument("domain")
@click.option("--token", required=True, help="Admin API access token for the shop.")
@click.option("--scopes", default=None, help="Scopes the token was granted (comma-separated).")
def shops_add(domain: str, token: str, scopes: str | None):
    """Register shop DOMAIN with an access token, without OAuth."""
    normalized = normalize_shop_domain(domain)
    if normalized is None:
        raise click.BadParameter(f"{domain!r} is not a shop domain like example.myshopify.com", param_hint="DOMAIN")
    session = get_session()
    shop = shops.install(session, normalized, shops.static_grant(token, scopes))
    session.commit()
    click.echo(f"{shop.domain} installed (shop id {shop.id})")


@shops_cli.command("list")
def shops_list():
    """List shops and whether they are installed."""
    for shop in get_session().scalars(select(Shop).order_by(Shop.domain)):
        state = "installed" if shop.installed else f"uninstalled {shop.uninstalled_at:%Y-%m-%d %H:%M}"
        click.echo(f"{shop.id}\t{shop.domain}\t{state}\tsince {shop.installed_at:%Y-%m-%d %H:%M}")


# --- orders ---------------------------------------------------------------

orders_cli = AppGroup("orders", help="Look at orders.")
cli.add_command(orders_cli)


@orders_cli.command("show")
@click.option("--shop", "domain", required=True, help="Shop domain, e.g. example.myshopify.com")
@click.argument("name")
def orders_show(domain: str, name: str):
    """The order NAME (#1001 or 1001) with its shipments and tracking, as JSON."""
    shop = _shop(domain)
    order = orders.find_order(get_session(), shop.id, name)
    if order is None:
        raise click.ClickException(f"no order {name} in {shop.domain}")
    click.echo(json.dumps(orders.order_state(order), indent=2, ensure_ascii=False))


cli.add_command(notifications_cli)


# --- backfill -------------------------------------------------------------

@cli.command("backfill")
@click.option("--shop", "domain", required=True, help="Shop domain, e.g. example.myshopify.com")
@click.option("--days", default=30, show_default=True, type=click.IntRange(1, 3650),
              help="Import orders created in the last N days.")
def backfill_command(domain: str, days: int):
    """Import recent orders and fulfillments through the Admin API (resumable)."""
    from . import backfill
    from .shopify_api import ShopifyAPIError

    shop = _shop(domain)
    tty = sys.stderr.isatty()

    def progress(done: int, total: int | None) -> None:
        # On a terminal, one line redrawn in place; in a log, a line per page.
        width = 30
        filled = int(width * done / total) if total else 0
        bar = f"[{'#' * filled}{'-' * (width - filled)}]" if total else ""
        line = f"Importing orders of {shop.domain} {bar} {done}/{total if total is not None else '?'}"
        click.echo(f"\r{line}" if tty else line, err=True, nl=not tty)

    try:
        imported = backfill.run(get_session(), shop, days, progress)
    except (ShopifyAPIError, shops.NotInstalled) as exc:
        raise click.ClickException(f"backfill stopped: {exc}. Run the same command again to resume.") from None
    finally:
        if tty:
            click.echo(err=True)
    click.echo(f"imported {imported} order(s) from {shop.domain}")


# --- processes ------------------------------------------------------------

@cli.command("worker")
@click.option("--once", is_flag=True, help="Process what is due, then exit.")
@click.option("--poll", default=1.0, show_default=True, help="Seconds between polls when idle.")
def worker_command(once: bool, poll: float):
    """Process webhook deliveries and send outbox mail as they fall due."""
    app = current_app._get_current_object()
    if once:
        click.echo(f"worker processed {worker.run(app, once=True)} item(s)")
        return
    # The loop runs in a thread; this one only waits, so Ctrl-C or SIGTERM
    # (turned into KeyboardInterrupt) never lands inside the loop's own locks.
    stop = threading.Event()
    done = []
    loop = threading.Thread(target=lambda: done.append(worker.run(app, poll_seconds=poll, stop=stop)), name="worker")
    signal.signal(signal.SIGTERM, _raise_interrupt)
    loop.start()
    try:
        while loop.is_alive():
            loop.join(0.5)
    except KeyboardInterrupt:
        click.echo("stopping: finishing the item in hand", err=True)
        stop.set()
        loop.join()
    click.echo(f"worker stopped after {sum(done)} item(s)")


def _raise_interrupt(_signum, _frame):
    raise KeyboardInterrupt


@cli.command("serve")
@click.option("--bind", default="127.0.0.1:8000", show_default=True)
@click.option("--workers", default=2, show_default=True, help="gunicorn worker processes.")
def serve(bind: str, workers: int):
    """Run the web app under gunicorn (production)."""
    os.execvp(sys.executable, [
        sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", bind,
        "--access-logfile", "-", "plugin.wsgi:app",
    ])


@cli.command("demo", with_appcontext=False)
@click.option("--port", default=8000, show_default=True)
@click.option("--step-seconds", default=1.5, type=click.FloatRange(min=0), hidden=True,
              help="Seconds between the demo scenario's steps (tests use a small value).")
def demo_command(port: int, step_seconds: float):
    """Run everything in one process on SQLite with a demo shop and sample orders."""
    from . import demo
    demo.main(port, step_seconds=step_seconds)
