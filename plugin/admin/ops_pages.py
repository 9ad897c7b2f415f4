"""The Order timeline and Health pages: what happened to one order, and
what is stuck. Same frame and rules as the settings pages (``pages.render``);
their data comes from the functions the JSON API serves (``timeline``,
``health``), so page and API never disagree.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_timedelta
from flask import request

from .. import orders
from ..db import get_session
from . import health as health_report
from . import i18n, timeline
from .pages import _when, opened_shop, render
from .returns_views import DECLINE_LABELS, DONE_LABELS, ITEM_REASON_LABELS
from .sections import CHANNEL_LABELS, KIND_LABELS

# Shopify's shipment statuses (shipments.STAGES) as the page words them.
TRACKING_LABELS = {
    "confirmed": "Confirmed", "label_printed": "Label printed", "label_purchased": "Label purchased",
    "carrier_picked_up": "Picked up by the carrier", "in_transit": "In transit", "delayed": "Delayed",
    "out_for_delivery": "Out for delivery", "attempted_delivery": "Delivery attempted",
    "ready_for_pickup": "Ready for pickup", "ready_for_recipient_pickup": "Ready for pickup",
    "buyer_action_required": "Action required", "failure": "Delivery failed",
    "returning_to_sender": "Returning to sender", "delivered": "Delivered", "picked_up": "Picked up",
}
TYPE_LABELS = {"order": "Order", "webhook": "Webhook", "tracking": "Tracking", "message": "Message",
               "visit": "Visit", "return": "Return", "contact": "Contact", "survey": "Survey answer"}
VISIT_LABELS = {"widget": "Viewed in the storefront widget", "proxy": "Viewed on the store's order page",
                "tracking_page": "Viewed on the tracking page"}
RETURN_EVENT_LABELS = {"requested": "Return requested", **DONE_LABELS}
ORDER_EVENT_LABELS = {"placed": "Order placed", "cancelled": "Order cancelled"}
FLAG_LABELS = {"cancelled": "order.status|Cancelled", "test": "Test order", "delayed": "Delayed"}
STATUS_LABELS = {"pending": "pending", "processed": "processed", "failed": "failed", "sent": "sent",
                 "skipped": "skipped"}

MAX_QUERY = 100  # characters of a search kept


def _age(locale: str):
    def show(seconds: float | None) -> str:
        if seconds is None:
            return ""
        return format_timedelta(timedelta(seconds=seconds), threshold=1.5, locale=locale)
    return show


def _context(shop) -> dict:
    locale = i18n.locale_of(request.args.get("locale"))
    zone = ZoneInfo(shop.iana_timezone or "UTC")
    return {"when": _when(locale, zone), "age": _age(locale), "status_labels": STATUS_LABELS}


def orders_page():
    shop, started, refusal = opened_shop()
    if refusal:
        return refusal
    query = request.args.get("q", "").strip()[:MAX_QUERY]
    found = entries = flags = None
    if query:
        session = get_session()
        found = orders.find_order(session, shop.id, query)
        if found is not None:
            entries = timeline.timeline(session, found)
            flags = [name for name, on in timeline.flags(found).items() if on]
    shown = query if query.startswith("#") or not query else f"#{query}"
    # A search that finds nothing is an answer, not an error: 200 with "No order #1234".
    return render("admin/orders.html", shop, started, current="orders", query=query, shown_query=shown,
                  order=found, entries=entries, flags=flags,
                  type_labels=TYPE_LABELS, tracking_labels=TRACKING_LABELS, order_event_labels=ORDER_EVENT_LABELS,
                  flag_labels=FLAG_LABELS, kind_labels={k.value: v for k, v in KIND_LABELS.items()},
                  channel_labels=CHANNEL_LABELS, return_event_labels=RETURN_EVENT_LABELS,
                  decline_labels=DECLINE_LABELS, item_reason_labels=ITEM_REASON_LABELS, visit_labels=VISIT_LABELS,
                  **_context(shop))


def health_page():
    shop, started, refusal = opened_shop()
    if refusal:
        return refusal
    facts = health_report.report(get_session(), shop.id)
    return render("admin/health.html", shop, started, current="health", facts=facts, **_context(shop))
