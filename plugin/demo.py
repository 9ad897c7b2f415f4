"""`aftercare demo`: everything in one process, with a demo shop and sample orders.

The sample orders and the scenario's webhooks are in ``demo_scenario``.
The demo uses the real paths only: it installs a shop, then posts signed
webhooks (exactly the headers Shopify sends) to its own ``POST /webhooks`` over
HTTP, and the worker, running in a thread of the same process, turns them into
order and shipment state. ``GET /demo`` shows the result as it changes.

Shopify itself is played by ``demo_shopify``, a stand-in for the Admin
GraphQL API on another local port: the worker passes returns to it (and the
webhook subscriptions of the install), so a return goes all the way to
refunded and closed.

Threads: the web server, the worker, the scenario and the stand-in Shopify;
the main thread waits for Ctrl-C (SIGINT) or SIGTERM and then stops them all.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import shlex
import shutil
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from urllib.parse import urlsplit

import requests
from flask import Blueprint, Flask, abort, jsonify, render_template
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, selectinload
from werkzeug.serving import make_server

from . import demo_history, demo_messages, demo_shopify, migrate, settings, shops, worker
from .admin import admin_url
from .config import ConfigError
from .db import engine, get_session, worker_session
from .models import DeliveryStatus, Fulfillment, Order, WebhookDelivery, utcnow
from .orders import order_state
from .demo_scenario import AMARA, DEMO_SHOP, KENTA, LUCAS, MAYA, ZOE, scenario, webhook_headers

DEMO_TOKEN = "shpat_demo_not_a_real_token"
# The scenario's clock runs three days in a minute: its shop asks for surveys
# an hour after delivery (the least the setting allows), so Maya's parcel,
# delivered 18 hours ago on that clock, gets its invitation at the worker's
# next survey scan; a low answer's alert waits in the outbox like the rest.
DEMO_SETTINGS = {"survey.delay_hours": 1, "alerts.low_score_email": "care@aftercare-demo.example"}
DEV_DEFAULTS = {"SHOPIFY_API_KEY": "dev-api-key", "SHOPIFY_API_SECRET": "dev-api-secret"}


# =========================================================================== web

bp = Blueprint("demo", __name__)


SCENARIO_ORDER_IDS = tuple(o.id for o in (MAYA, KENTA, ZOE, AMARA, LUCAS))
SHIPPED = (MAYA, KENTA, ZOE)  # the scenario ships these; Amara's waits, Lucas's is cancelled


def _demo_orders() -> list[Order]:
    """The scenario's orders (not the history's), newest first."""
    session = get_session()
    shop = shops.by_domain(session, DEMO_SHOP)
    if shop is None:
        return []
    orders = session.scalars(
        select(Order)
        .where(Order.shop_id == shop.id, Order.shopify_id.in_(SCENARIO_ORDER_IDS))
        .order_by(Order.shopify_created_at.desc().nulls_last(), Order.id.desc())
        .options(
            selectinload(Order.line_items),
            selectinload(Order.fulfillments).selectinload(Fulfillment.events),
            selectinload(Order.fulfillments).selectinload(Fulfillment.line_items),
        )
    ).all()
    return list(orders)


def inbox_counts(session: Session, shop_id: int) -> dict[str, int]:
    """The shop's webhook deliveries by status."""
    return dict(session.execute(
        select(WebhookDelivery.status, func.count())
        .where(WebhookDelivery.shop_id == shop_id)
        .group_by(WebhookDelivery.status)
    ).all())


def failed_deliveries(session: Session, shop_id: int, limit: int = 20) -> list[dict]:
    """The shop's failed webhook deliveries, newest first, with their errors:
    what the page's "failed" count is made of."""
    rows = session.scalars(
        select(WebhookDelivery)
        .where(WebhookDelivery.shop_id == shop_id, WebhookDelivery.status == DeliveryStatus.FAILED.value)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit)
    )
    return [{
        "id": d.id,
        "topic": d.topic,
        "webhook_id": d.webhook_id,
        "attempts": d.attempts,
        "received_at": d.received_at.isoformat(),
        "next_attempt_at": d.next_attempt_at.isoformat() if d.next_attempt_at else None,
        "error": d.error,
        "replay": command_line("webhooks", "replay", str(d.id)),
    } for d in rows]


def _demo_webhooks() -> dict:
    """The demo shop's inbox counts and its failed deliveries."""
    session = get_session()
    shop = shops.by_domain(session, DEMO_SHOP)
    counts = inbox_counts(session, shop.id) if shop is not None else {}
    return {
        **{status.value: counts.get(status.value, 0) for status in DeliveryStatus},
        "failed_deliveries": failed_deliveries(session, shop.id) if shop is not None else [],
    }


def _when(value: str | None) -> str:
    """An ISO timestamp from order_state, shown as "2026-11-02 14:30 UTC"."""
    if not value:
        return ""
    return datetime.fromisoformat(value).astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _safe_url(url: str | None) -> str | None:
    """Only http(s) links: a tracking URL comes from a webhook, never trust its scheme."""
    if not url:
        return None
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    return url if scheme in ("http", "https") else None


def _tracking_links(fulfillment: dict) -> list[tuple[str, str | None]]:
    numbers = fulfillment["tracking_numbers"] or []
    urls = fulfillment["tracking_urls"] or []
    return [(n, _safe_url(urls[i]) if i < len(urls) else None) for i, n in enumerate(numbers)]


def _states_with_messages(orders: list[Order]) -> list[dict]:
    """order_state of each order, with the customer messages it produced."""
    if not orders:
        return []
    messages = demo_messages.by_order(get_session(), orders[0].shop_id, [o.id for o in orders])
    return [{**order_state(o), "messages": messages[o.id]} for o in orders]


@bp.get("/demo")
def page():
    return render_template(
        "demo.html",
        shop=DEMO_SHOP,
        orders=_states_with_messages(_demo_orders()),
        inbox=_demo_webhooks(),
        when=_when,
        tracking_links=_tracking_links,
    )


@bp.get("/demo/storefront")
def storefront():
    """A stand-in for the store's own site, embedding the widget by script
    tag exactly as a merchant would."""
    return render_template("demo_storefront.html", shop=DEMO_SHOP,
                           tries=[(o.name, o.customer.email) for o in (MAYA, AMARA)])


@bp.get("/demo/orders.json")
def orders_json():
    return jsonify([{**state, "messages": [{k: m[k] for k in ("id", "kind", "channel", "status")}
                                           for m in state["messages"]]}
                    for state in _states_with_messages(_demo_orders())])


def _demo_email(notification_id: int) -> dict:
    session = get_session()
    shop = shops.by_domain(session, DEMO_SHOP)
    parts = demo_messages.email_parts(session, shop, notification_id) if shop is not None else None
    if parts is None:
        abort(404)
    return parts


@bp.get("/demo/messages/<int:notification_id>")
def message_html(notification_id: int):
    """One demo email's HTML part, as the customer would see it (no script may run)."""
    return _demo_email(notification_id)["html"], 200, {
        "Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": demo_messages.EMAIL_CSP}


@bp.get("/demo/messages/<int:notification_id>.txt")
def message_text(notification_id: int):
    """The same email's text part."""
    return _demo_email(notification_id)["text"], 200, {"Content-Type": "text/plain; charset=utf-8"}


@bp.get("/demo/webhooks.json")
def webhooks_json():
    """Deliveries by status, and the failed ones with their errors."""
    return jsonify(_demo_webhooks())


def run_scenario(app: Flask, base_url: str, step_seconds: float, stop: threading.Event,
                 say: Callable[[str], None]) -> None:
    """Post every step's webhooks to ``base_url``/webhooks, ``step_seconds`` apart."""
    secret = app.config["SHOPIFY_API_SECRET"]
    api_version = app.config["SHOPIFY_API_VERSION"]
    url = f"{base_url}/webhooks"
    with requests.Session() as http:
        for step in scenario():
            if stop.wait(step_seconds):
                return
            for topic, payload in step.deliveries:
                raw = json.dumps(payload, ensure_ascii=False).encode("utf-8")
                try:
                    response = http.post(url, data=raw, headers=webhook_headers(topic, raw, secret, api_version),
                                         timeout=10)
                except requests.RequestException as exc:
                    if not stop.is_set():
                        say(f"  ! {topic} could not be posted: {exc}")
                    return
                if response.status_code != 200:
                    say(f"  ! {topic} answered {response.status_code}: {response.text.strip()[:200]}")
            say(f"  {step.label}")
    _wait_for_inbox(app, stop)
    failed = _inbox_counts(app).get(DeliveryStatus.FAILED.value, 0)
    if failed:
        say(f"  ! {failed} webhook deliveries failed: see {base_url}/demo, or {command_line('webhooks', 'failed')}")
    say("Demo scenario finished; the server keeps running.")


def _inbox_counts(app: Flask) -> dict[str, int]:
    # A fresh app context each time, so the session and its transaction end with it.
    with app.app_context():
        session = get_session()
        shop = shops.by_domain(session, DEMO_SHOP)
        return inbox_counts(session, shop.id) if shop is not None else {}


def _wait_for_inbox(app: Flask, stop: threading.Event, timeout: float = 15.0) -> None:
    """Until the worker has taken every delivery the scenario posted (bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not stop.is_set():
        if not _inbox_counts(app).get(DeliveryStatus.PENDING.value):
            return
        stop.wait(0.1)


# =========================================================================== the stand-in Shopify

def prepare(app: Flask, shopify: demo_shopify.DemoShopify) -> None:
    """Install the demo shop afresh with its history and settings, and have the
    stand-in Shopify sell the same orders."""
    with app.app_context(), worker_session(app) as session, session.begin():
        grant = shops.static_grant(DEMO_TOKEN, "read_orders,read_fulfillments")
        shop = shops.install(session, DEMO_SHOP, grant)
        session.flush()
        shops.delete_data(session, shop.id)  # a second run starts afresh
        demo_history.seed(session, shop.id, datetime.now(timezone.utc))  # weeks of figures for the dashboard
        settings.update(session, shop.id, DEMO_SETTINGS)
        # The worker makes the webhook subscriptions at once, as after an install that could not reach Shopify.
        shop.subscriptions_due_at = utcnow()
        session.flush()
        stock_stand_in(session, shop.id, shopify)


def stock_stand_in(session: Session, shop_id: int, shopify: demo_shopify.DemoShopify) -> None:
    """The scenario's orders as the scenario leaves them, and the history's as stored."""
    for sample in (MAYA, KENTA, ZOE, AMARA, LUCAS):
        shopify.add_sample(sample, shipped=sample in SHIPPED)
    history = session.scalars(select(Order).where(Order.shop_id == shop_id)
                              .options(selectinload(Order.line_items), selectinload(Order.fulfillments)))
    for order in history:
        lines = [demo_shopify.Line(li.shopify_id, li.quantity, li.price or 0) for li in order.line_items]
        shopify.add_order(demo_shopify.DemoOrder(
            order.shopify_id, order.name, order.currency or "EUR", lines, order.total_price or 0,
            order.fulfillments[0].shopify_id if order.fulfillments else None))


# =========================================================================== the process

def _say(message: str) -> None:
    print(message, flush=True)


def _fail(message: str, code: int = 1) -> None:
    print(f"aftercare: {message}", file=sys.stderr, flush=True)
    sys.exit(code)


def command_line(*args: str) -> str:
    """An `aftercare` command line that works as printed, pasted into another
    terminal in the same directory: the program as this one was started
    (plain `aftercare` only when that is what the PATH finds), after the
    variables the demo set for itself or was given for its database."""
    program = sys.argv[0] if os.path.basename(sys.argv[0]) == "aftercare" else ""
    if not os.path.isfile(program):  # not started as `aftercare` (tests): the one beside this Python
        program = os.path.join(os.path.dirname(sys.executable), "aftercare")
    on_path = shutil.which("aftercare")
    if on_path and os.path.isfile(program) and os.path.samefile(on_path, program):
        program = "aftercare"
    elif os.path.isabs(program) and os.path.abspath(program).startswith(os.getcwd() + os.sep):
        program = os.path.relpath(program)  # .venv/bin/aftercare, from where the demo was started
    env = [f"{name}={shlex.quote(os.environ[name])}" for name in DEV_DEFAULTS
           if os.environ.get(name) == DEV_DEFAULTS[name]]
    if os.environ.get("AFTERCARE_DATABASE_URL"):
        env.append(f"AFTERCARE_DATABASE_URL={shlex.quote(os.environ['AFTERCARE_DATABASE_URL'])}")
    return " ".join([*env, shlex.quote(program), *map(shlex.quote, args)])


def print_urls(base_url: str, say: Callable[[str], None] = _say, *, admin: str | None = None) -> None:
    """What to open; one place, so later features add their own lines here."""
    say(f"Aftercare demo running on {base_url}  (Ctrl-C to stop)")
    if admin:
        say(f"  Admin (signed link): {admin}")
    say(f"  Orders (demo view):  {base_url}/demo")
    say(f"  Storefront widget:   {base_url}/demo/storefront")
    say(f"  Orders (JSON):       {base_url}/demo/orders.json")
    say(f"  Webhooks (JSON):     {base_url}/demo/webhooks.json")
    say(f"  Health:              {base_url}/healthz")
    say(f"  Try, in another terminal here: {command_line('orders', 'show', '--shop', DEMO_SHOP, '1001')}")


def _listen(port: int) -> socket.socket:
    """Bind 127.0.0.1:``port`` ourselves, so a taken port is one clear line
    (werkzeug would print two and exit on its own)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen(128)
    except OverflowError:
        sock.close()
        _fail(f"--port {port} is not a port number (1-65535)")
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            _fail(f"port {port} is in use; try --port {port + 1 if port < 65535 else 8001}")
        _fail(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}")
    return sock


def _raise_interrupt(_signum, _frame):
    raise KeyboardInterrupt


def main(port: int, step_seconds: float = 1.5) -> None:
    """Run the demo until Ctrl-C (or SIGTERM); returns normally after a clean stop."""
    listener = _listen(port)
    port = listener.getsockname()[1]
    # The demo's own development defaults; anything already in the environment wins.
    for name, value in DEV_DEFAULTS.items():
        os.environ.setdefault(name, value)
    os.environ.setdefault("AFTERCARE_APP_URL", f"http://127.0.0.1:{port}")
    base_url = f"http://127.0.0.1:{port}"

    # Request lines and migration chatter would drown the scenario's own lines.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # So would the install's webhook subscriptions, made in the stand-in Shopify one line each.
    logging.getLogger("plugin.shopify").setLevel(logging.WARNING)
    logging.getLogger("plugin.subscriptions").setLevel(logging.WARNING)

    from . import create_app  # here, not at import: create_app imports this module

    stop = threading.Event()
    threads: list[threading.Thread] = []
    server = None
    app = None
    shopify = None
    broken = False
    previous: dict[int, object] = {}
    if threading.current_thread() is threading.main_thread():
        # Ctrl-C and SIGTERM both arrive here as KeyboardInterrupt. SIGINT is set
        # explicitly: a shell starting us in the background may have ignored it.
        previous[signal.SIGTERM] = signal.signal(signal.SIGTERM, _raise_interrupt)
        previous[signal.SIGINT] = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        # The demo shop exists only here: its Shopify is the stand-in, whatever SHOPIFY_BASE_URL says.
        shopify = demo_shopify.DemoShopify(DEMO_TOKEN).start()
        try:
            app = create_app({"DEMO": True, "SHOPIFY_BASE_URL": shopify.base_url_template})
        except ConfigError as exc:
            _fail(f"configuration error: {exc}", code=2)  # as the other commands
        try:
            migrate.upgrade(app)
            prepare(app, shopify)
        except SQLAlchemyError as exc:
            _fail(f"cannot prepare the database: {getattr(exc, 'orig', None) or exc}")

        server = make_server("127.0.0.1", port, app, threaded=True, fd=listener.fileno())
        listener.close()  # the server holds its own duplicate of the socket

        def work():
            with app.app_context():
                worker.run(app, poll_seconds=0.3, stop=stop)

        def play():
            run_scenario(app, base_url, step_seconds, stop, _say)

        threads.append(threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="aftercare-web", daemon=True))
        threads.append(threading.Thread(target=work, name="aftercare-worker", daemon=True))
        for thread in threads:
            thread.start()
        with app.app_context():
            admin = admin_url(DEMO_SHOP)
        print_urls(base_url, admin=admin)
        threads.append(threading.Thread(target=play, name="aftercare-demo-scenario", daemon=True))
        threads[-1].start()

        while threads[0].is_alive() and threads[1].is_alive():
            time.sleep(0.2)
        broken = True
        print("aftercare: the web server or the worker stopped unexpectedly", file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        # A second Ctrl-C must not interrupt the clean-up (which is bounded).
        if previous:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop.set()
        if server is not None:
            if threads and threads[0].ident is not None:
                server.shutdown()  # only once serve_forever was started: it would wait forever
            server.server_close()
        listener.close()
        for thread in threads:
            if thread.ident is not None:
                thread.join(timeout=10)
        if shopify is not None:
            shopify.stop()
        if app is not None:
            engine(app).dispose()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    _say("Stopped.")
    if broken:
        sys.exit(1)
