"""What a shopper sees of an order: its parcels and where each one is.

``order_view`` is the one description of an order shown to a shopper: the
tracking page (/t/<token>) renders it, the emails take their parcel from it
(``parcel_view``), and the storefront widget's JSON API can return it as it
is. It holds only what the shopper needs: their first name and city, never
their address, email or phone. Every text in it is already in the shopper's
locale and every time in the shop's zone, so a page only lays it out.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy.orm import Session, selectinload

from ..locales import negotiate
from ..models import Fulfillment, Order, Shop
from ..notifications.i18n import Format, gettext, shop_zone


def _(message: str) -> str:
    """Marks a string for extraction; translated where it is shown."""
    return message


# The journey every parcel takes; a parcel sits at one step (or an exception).
STEPS: tuple[tuple[str, str], ...] = (
    ("ordered", _("Ordered")),
    ("shipped", _("Shipped")),
    ("in_transit", _("In transit")),
    ("out_for_delivery", _("Out for delivery")),
    ("delivered", _("Delivered")),
)
STEP_INDEX = {step: i for i, (step, _label) in enumerate(STEPS)}

# shipment status -> (step reached, exception or None)
STATUS_STEPS: dict[str, tuple[str, str | None]] = {
    "confirmed": ("shipped", None),
    "label_printed": ("shipped", None),
    "label_purchased": ("shipped", None),
    "carrier_picked_up": ("in_transit", None),
    "in_transit": ("in_transit", None),
    "delayed": ("in_transit", None),
    "out_for_delivery": ("out_for_delivery", None),
    "ready_for_pickup": ("out_for_delivery", None),
    "ready_for_recipient_pickup": ("out_for_delivery", None),
    "attempted_delivery": ("out_for_delivery", "attempted_delivery"),
    "buyer_action_required": ("out_for_delivery", "buyer_action_required"),
    "failure": ("out_for_delivery", "failure"),
    "returning_to_sender": ("out_for_delivery", "returning_to_sender"),
    "delivered": ("delivered", None),
    "picked_up": ("delivered", None),
}
FAILED = frozenset({"failure", "returning_to_sender"})

STATUS_LABELS: dict[str, str] = {
    "confirmed": _("Order confirmed"),
    "label_printed": _("Label created"),
    "label_purchased": _("Label created"),
    "carrier_picked_up": _("Picked up by the carrier"),
    "in_transit": _("In transit"),
    "delayed": _("Delayed"),
    "out_for_delivery": _("Out for delivery"),
    "ready_for_pickup": _("Ready for pickup"),
    "ready_for_recipient_pickup": _("Ready for pickup"),
    "attempted_delivery": _("Delivery attempted"),
    "buyer_action_required": _("Action needed"),
    "failure": _("Delivery failed"),
    "returning_to_sender": _("Returning to sender"),
    "delivered": _("Delivered"),
    "picked_up": _("Picked up"),
}


def _web_url(url: str | None) -> str | None:
    """A carrier link only when it is an ordinary web address."""
    if url and urlsplit(url).scheme in ("http", "https") and urlsplit(url).hostname:
        return url
    return None


def formatter(shop: Shop, order: Order | None, locale: str | None = None) -> Format:
    return Format(negotiate(locale or (order.locale if order else None)), shop_zone(shop.iana_timezone))


def parcel_view(order: Order, fulfillment: Fulfillment, fmt: Format, *, number: int = 1, count: int = 1) -> dict:
    """One parcel: carrier, tracking, where it is, its events and items."""
    locale = fmt.locale
    step, exception = STATUS_STEPS.get(fulfillment.shipment_status or "", ("shipped", None))
    reached = STEP_INDEX[step]
    numbers = list(fulfillment.tracking_numbers or [])
    urls = list(fulfillment.tracking_urls or [])
    tracking = [{"number": n, "url": _web_url(urls[i] if i < len(urls) else None)} for i, n in enumerate(numbers)]
    if not tracking and urls and _web_url(urls[0]):
        tracking = [{"number": None, "url": _web_url(urls[0])}]
    titles = {li.shopify_id: li for li in order.line_items}
    items = []
    for fli in fulfillment.line_items:
        li = titles.get(fli.line_item_shopify_id)
        items.append({"title": (li.title if li else None) or gettext(locale, _("Item")),
                      "variant": li.variant_title if li else None, "quantity": fli.quantity})
    events = [{
        "status": e.status,
        "label": gettext(locale, STATUS_LABELS.get(e.status, STATUS_LABELS["in_transit"])),
        "message": e.message,
        "time": fmt.datetime(e.happened_at),
        "place": ", ".join(p for p in (e.city, e.province, e.country) if p) or None,
    } for e in reversed(fulfillment.events)]
    estimate = fulfillment.estimated_delivery_at
    for e in fulfillment.events:
        estimate = e.estimated_delivery_at or estimate
    failed = fulfillment.shipment_status in FAILED
    return {
        "number": number,
        "count": count,
        "carrier": fulfillment.tracking_company,
        "tracking": tracking,
        "status": fulfillment.shipment_status,
        "stage": step,
        "exception": exception,
        "headline": gettext(locale, STATUS_LABELS.get(fulfillment.shipment_status or "", STEPS[1][1])),
        "steps": [{"step": s, "label": gettext(locale, label),
                   "state": "done" if i < reached else "current" if i == reached else "todo"}
                  for i, (s, label) in enumerate(STEPS)],
        "events": events,
        # Once a parcel has failed its old estimate is no promise any more.
        "estimated_delivery": None if failed or step == "delivered" or estimate is None else fmt.date(estimate),
        "delivered_at": fmt.datetime(fulfillment.delivered_at) if step == "delivered" else None,
        "items": items,
    }


# Loader options for a query that loads orders to show them: the rows
# order_view reads come in one statement per table, however many parcels
# (or orders) there are, not one per parcel.
VIEW_ROWS = (
    selectinload(Order.line_items),
    selectinload(Order.fulfillments).options(selectinload(Fulfillment.line_items), selectinload(Fulfillment.events)),
)


def order_view(session: Session, shop: Shop, order: Order, *, locale: str | None = None) -> dict:
    """The order as a shopper sees it (``session`` is the caller's; the
    order's rows are loaded through relationships scoped by shop)."""
    if order.shop_id != shop.id:
        raise LookupError("the order is not this shop's")
    fmt = formatter(shop, order, locale)
    fulfillments = [f for f in order.fulfillments if f.status not in ("cancelled", "error", "failure")]
    parcels = [parcel_view(order, f, fmt, number=i, count=len(fulfillments))
               for i, f in enumerate(fulfillments, start=1)]
    shipped = {fli.line_item_shopify_id for f in fulfillments for fli in f.line_items}
    waiting = [{"title": li.title or gettext(fmt.locale, _("Item")), "variant": li.variant_title, "quantity": li.quantity}
               for li in order.line_items if li.requires_shipping and li.shopify_id not in shipped]
    return {
        "locale": fmt.locale,
        "shop_name": shop.name or shop.domain,
        "order_name": order.name,
        "first_name": order.customer_first_name,
        "city": order.shipping_city,
        "ordered_at": fmt.date(order.shopify_created_at),
        "cancelled": order.cancelled_at is not None,
        "parcels": parcels,
        "not_yet_shipped": waiting,
    }
