"""The demo's own pages: ``GET /demo`` (the scenario's orders, their
messages and the inbox as they change), the store page embedding the widget,
each demo email as the customer would see it, and the same as JSON.
Registered by create_app only when the app runs as the demo."""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlsplit

from flask import Blueprint, abort, jsonify, render_template
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from .. import shops
from ..db import get_session
from ..models import DeliveryStatus, Fulfillment, Order, WebhookDelivery
from ..orders import order_state
from . import messages
from .console import command_line
from .scenario import AMARA, DEMO_SHOP, KENTA, LUCAS, MAYA, ZOE

bp = Blueprint("demo", __name__, template_folder="templates")  # under templates/demo/: apart from the app's own


SCENARIO_ORDER_IDS = tuple(o.id for o in (MAYA, KENTA, ZOE, AMARA, LUCAS))


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
    per_order = messages.by_order(get_session(), orders[0].shop_id, [o.id for o in orders])
    return [{**order_state(o), "messages": per_order[o.id]} for o in orders]


@bp.get("/demo")
def page():
    return render_template(
        "demo/page.html",
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
    return render_template("demo/storefront.html", shop=DEMO_SHOP,
                           tries=[(o.name, o.customer.email) for o in (MAYA, AMARA)])


@bp.get("/demo/orders.json")
def orders_json():
    return jsonify([{**state, "messages": [{k: m[k] for k in ("id", "kind", "channel", "status")}
                                           for m in state["messages"]]}
                    for state in _states_with_messages(_demo_orders())])


def _demo_email(notification_id: int) -> dict:
    session = get_session()
    shop = shops.by_domain(session, DEMO_SHOP)
    parts = messages.email_parts(session, shop, notification_id) if shop is not None else None
    if parts is None:
        abort(404)
    return parts


@bp.get("/demo/messages/<int:notification_id>")
def message_html(notification_id: int):
    """One demo email's HTML part, as the customer would see it (no script may run)."""
    return _demo_email(notification_id)["html"], 200, {
        "Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": messages.EMAIL_CSP}


@bp.get("/demo/messages/<int:notification_id>.txt")
def message_text(notification_id: int):
    """The same email's text part."""
    return _demo_email(notification_id)["text"], 200, {"Content-Type": "text/plain; charset=utf-8"}


@bp.get("/demo/webhooks.json")
def webhooks_json():
    """Deliveries by status, and the failed ones with their errors."""
    return jsonify(_demo_webhooks())
