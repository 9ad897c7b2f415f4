"""The `aftercare` command.

Help, usage errors and `--version` need no configuration: the app (and so the
configuration check) is built only when a command that needs it runs, and a
command that finds the database unreachable or unmigrated says so in one line.
Flask's own `run`/`shell`/`routes` and its `--app`/`--env-file`/`--debug`
options are an operator's clutter: `run` is ours, `shell` and `routes` are
kept hidden for developers.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import signal
import sys
import threading

import click
from flask import current_app
from flask.cli import AppGroup, ScriptInfo, routes_command, shell_command
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from . import cli_commands, create_app, dbcheck, orders, shops, worker
from .config import ConfigError
from .db import get_session
from .models import Shop
from .signatures import normalize_shop_domain
from .cli_args import shop_named as _shop

# Set by commands whose database errors must reach the operator as they are
# (a failing migration is not a database that "needs db upgrade").
RAW_DATABASE_ERRORS = "aftercare.raw_database_errors"


def _create_app():
    try:
        return create_app()
    except ConfigError as exc:
        click.echo(f"aftercare: configuration error: {exc}", err=True)
        sys.exit(2)


def _app():
    """The app, built now if no command built it yet (checks the configuration)."""
    return click.get_current_context().ensure_object(ScriptInfo).load_app()


class AftercareGroup(AppGroup):
    """Commands in the order an operator meets them; the app is built lazily
    (by Flask's ScriptInfo, as FlaskGroup does, but without its options)."""

    def make_context(self, info_name, args, parent=None, **extra):
        if "obj" not in extra and "obj" not in self.context_settings:
            extra["obj"] = ScriptInfo(create_app=_create_app, set_debug_flag=False)
        return super().make_context(info_name, args, parent=parent, **extra)

    def list_commands(self, ctx):
        return list(self.commands)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except dbcheck.DatabaseNotReady as exc:
            problem = exc
        except SQLAlchemyError as exc:
            if ctx.meta.get(RAW_DATABASE_ERRORS):
                raise
            problem = dbcheck.explain(ctx.ensure_object(ScriptInfo).load_app(), exc)
            if problem is None:
                raise  # the database is fine: a bug, with its traceback
        click.echo(f"aftercare: {problem}", err=True)
        ctx.exit(1)


@click.group(cls=AftercareGroup, invoke_without_command=True,
             context_settings={"help_option_names": ["-h", "--help"]}, epilog="""\b
Configuration comes from environment variables, checked when a command needs
them: SHOPIFY_API_KEY and SHOPIFY_API_SECRET (required; the demo has its own),
AFTERCARE_DATABASE_URL (default: SQLite in the instance folder), and more in
README.md. `aftercare COMMAND --help` for each command.""")
@click.version_option(package_name="aftercare", prog_name="aftercare", message="%(prog)s %(version)s")
def cli():
    """Aftercare: post-purchase notifications, tracking, returns and surveys for Shopify stores.

    \b
    Try it:         aftercare demo
    In production:  aftercare db upgrade, then aftercare serve and aftercare worker
    """
    ctx = click.get_current_context()
    if ctx.invoked_subcommand is None:  # a bare `aftercare`: the help, as a first step, not an error
        click.echo(ctx.get_help())
        ctx.exit(0)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Alembic is imported late now (only commands that migrate load it), after this
    # configuration: its import-time "setup plugin" lines are noise to an operator.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)




# --- processes ------------------------------------------------------------

@cli.command("demo", with_appcontext=False)
@click.option("--port", default=8000, show_default=True)
@click.option("--step-seconds", default=1.5, type=click.FloatRange(min=0), hidden=True,
              help="Seconds between the demo scenario's steps (tests use a small value).")
def demo_command(port: int, step_seconds: float):
    """Try it: web, worker, a demo shop and sample orders, on SQLite.

    Everything runs in one process; the demo prints what to open. Ctrl-C stops it."""
    from . import demo
    demo.main(port, step_seconds=step_seconds)


@cli.command("run", with_appcontext=False)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
def run_command(host: str, port: int):
    """Run the web app on the development server (no worker).

    For trying things out; in production use `aftercare serve`."""
    from werkzeug.serving import run_simple

    app = _app()
    dbcheck.check(app)
    # Outside any app context of ours: each request pushes its own.
    run_simple(host, port, app, threaded=True)


@cli.command("serve")
@click.option("--bind", default="127.0.0.1:8000", show_default=True)
@click.option("--workers", default=2, show_default=True, help="gunicorn worker processes.")
def serve(bind: str, workers: int):
    """Run the web app under gunicorn (production)."""
    dbcheck.check(current_app._get_current_object())
    os.execvp(sys.executable, [
        sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", bind,
        "--access-logfile", "-", "--logger-class", "plugin.gunicorn_log.GunicornLogger", "plugin.wsgi:app",
    ])


@cli.command("worker")
@click.option("--once", is_flag=True, help="Process what is due, then exit.")
@click.option("--poll", default=1.0, show_default=True, help="Seconds between polls when idle.")
def worker_command(once: bool, poll: float):
    """Process webhook deliveries and send mail as they fall due.

    Run as many as the load needs, on any machines (PostgreSQL shares the work)."""
    app = current_app._get_current_object()
    if once:
        dbcheck.check(app)
        click.echo(f"worker processed {worker.run(app, once=True)} item(s)")
        return
    # The loop runs in a thread; this one only waits, so Ctrl-C or SIGTERM
    # (turned into KeyboardInterrupt) never lands inside the loop's own locks.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    stop = threading.Event()
    done = []

    def work():
        with app.app_context():  # a new thread starts without one; handlers and senders read current_app
            done.append(worker.run(app, poll_seconds=poll, stop=stop))

    loop = threading.Thread(target=work, name="worker")
    try:
        # Before the loop, which would retry (and log) every few seconds: a
        # database that is not there or not migrated is one line and exit 1.
        dbcheck.check(app)
        loop.start()
        while loop.is_alive():
            loop.join(0.5)
    except KeyboardInterrupt:
        click.echo("stopping: finishing the item in hand", err=True)
        stop.set()
        if loop.ident is not None:
            loop.join()
    click.echo(f"worker stopped after {sum(done)} item(s)")


def _raise_interrupt(_signum, _frame):
    raise KeyboardInterrupt


# --- db -------------------------------------------------------------------

@cli.group("db", cls=AppGroup)
def db_cli():
    """Database schema (Alembic)."""
    # A migration that fails on a reachable database shows its own error.
    click.get_current_context().meta[RAW_DATABASE_ERRORS] = True


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str):
    """Upgrade the schema to REVISION (default: head)."""
    app = current_app._get_current_object()
    from . import migrate  # Alembic (and Mako, Pygments) only here: the other commands start faster

    try:
        migrate.upgrade(app, revision)
    except SQLAlchemyError:
        dbcheck.reachable(app)  # a server that is not there: one line; else the migration's own error
        raise
    click.echo(f"database at {revision}")


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str):
    """Downgrade the schema to REVISION ("base" removes every table)."""
    app = current_app._get_current_object()
    from . import migrate

    try:
        migrate.downgrade(app, revision)
    except SQLAlchemyError:
        dbcheck.reachable(app)  # a server that is not there: one line; else the migration's own error
        raise
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




# --- backfill -------------------------------------------------------------

@cli.command("backfill")
@click.option("--shop", "domain", required=True, help="Shop domain, e.g. example.myshopify.com")
@click.option("--days", default=30, show_default=True, type=click.IntRange(1, 3650),
              help="Import orders created in the last N days.")
def backfill_command(domain: str, days: int):
    """Import recent orders and fulfillments from Shopify (resumable)."""
    from . import backfill
    from .shopify.client import ShopifyAPIError

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


for _command in cli_commands():
    cli.add_command(_command)

# Flask's developer commands, out of the operator's way.
for _command in (shell_command, routes_command):
    _command = copy.copy(_command)
    _command.hidden = True
    cli.add_command(_command)
