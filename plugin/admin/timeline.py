"""Everything Aftercare knows about one order, in time order.

``timeline(session, order)`` asks each source in ``SOURCES`` for its entries
and sorts them. A domain that learns something about orders (returns, widget
contacts, survey answers) adds its source function to that list, here and
nowhere else: no signals, no registration at import time, so the whole
timeline is read in one place.

A source takes the session and the order and returns ``Entry`` items; every
query it makes is scoped by ``order.shop_id``. ``summary`` is a short line
in plain words or data (a topic, a carrier's message); ``detail`` holds the
fields the page shows and the API returns, JSON-ready.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..help.models import Contact
from ..models import Notification, Order, WebhookDelivery
from ..returns.models import ReturnRequest
from ..surveys.kinds import SurveyKind
from ..surveys.models import SurveyResponse
from ..visits import OrderVisit


@dataclass(frozen=True)
class Entry:
    at: datetime
    type: str  # order | webhook | tracking | message | visit | return | contact | survey
    summary: str
    detail: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        return {"at": self.at.isoformat(), "type": self.type, "summary": self.summary, "detail": self.detail}


Source = Callable[[Session, Order], Iterable[Entry]]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def order_events(session: Session, order: Order) -> Iterable[Entry]:
    """The order's own moments, as Shopify dated them."""
    if order.shopify_created_at:
        yield Entry(order.shopify_created_at, "order", "Order placed", {"event": "placed"})
    if order.cancelled_at:
        yield Entry(order.cancelled_at, "order", "Order cancelled", {"event": "cancelled"})


def webhooks(session: Session, order: Order) -> Iterable[Entry]:
    """Webhook deliveries about the order (set by their handlers once bound)."""
    rows = session.scalars(
        select(WebhookDelivery)
        .where(WebhookDelivery.shop_id == order.shop_id, WebhookDelivery.order_shopify_id == order.shopify_id)
        .order_by(WebhookDelivery.id)
    )
    for d in rows:
        yield Entry(d.received_at, "webhook", d.topic, {
            "id": d.id, "topic": d.topic, "status": d.status, "attempts": d.attempts, "error": d.error,
            "processed_at": _iso(d.processed_at),
        })


def tracking(session: Session, order: Order) -> Iterable[Entry]:
    """Tracking events of the order's shipments (carrier's and Shopify's)."""
    for f in order.fulfillments:
        for e in f.events:
            place = ", ".join(p for p in (e.city, e.province, e.country) if p)
            yield Entry(e.happened_at, "tracking", " · ".join(p for p in (e.status, e.message, place) if p), {
                "status": e.status, "message": e.message, "place": place or None,
                "fulfillment": f.name, "tracking_company": f.tracking_company,
                "tracking_numbers": list(f.tracking_numbers or []),
                "source": "carrier" if e.shopify_id else "fulfillment",
            })


def messages(session: Session, order: Order) -> Iterable[Entry]:
    """Messages in the outbox for this order, at the time each was queued."""
    rows = session.scalars(
        select(Notification)
        .where(Notification.shop_id == order.shop_id, Notification.order_id == order.id)
        .order_by(Notification.id)
    )
    for n in rows:
        yield Entry(n.created_at, "message", f"{n.kind} · {n.channel} · {n.status}", {
            "id": n.id, "kind": n.kind, "channel": n.channel, "recipient": n.recipient, "status": n.status,
            "attempts": n.attempts, "error": n.error, "sent_at": _iso(n.sent_at),
            "next_attempt_at": _iso(n.next_attempt_at),
        })


def visits(session: Session, order: Order) -> Iterable[Entry]:
    """The shopper looked at the order: at most one entry per surface and hour."""
    rows = session.scalars(select(OrderVisit).where(
        OrderVisit.shop_id == order.shop_id, OrderVisit.order_id == order.id).order_by(OrderVisit.viewed_at))
    for v in rows:
        yield Entry(v.viewed_at, "visit", f"viewed ({v.surface})", {"surface": v.surface})


def returns(session: Session, order: Order) -> Iterable[Entry]:
    """Each return request of the order, then every action on it (the audit
    lines of the returns queue: who, when, what)."""
    requests = session.scalars(
        select(ReturnRequest)
        .where(ReturnRequest.shop_id == order.shop_id, ReturnRequest.order_id == order.id)
        .options(selectinload(ReturnRequest.items), selectinload(ReturnRequest.actions))
        .order_by(ReturnRequest.id)
    )
    titles = {str(item.shopify_id): item.title for item in order.line_items}
    for r in requests:
        yield Entry(r.requested_at, "return", f"return requested ({r.status})", {
            "id": r.id, "event": "requested", "status": r.status, "note": r.note,
            "items": [{"line_item_id": str(i.line_item_shopify_id), "title": titles.get(str(i.line_item_shopify_id)),
                       "quantity": i.quantity, "reason": i.reason} for i in r.items],
        })
        for a in r.actions:
            yield Entry(a.at, "return", f"return {a.action}", {
                "id": r.id, "event": a.action, "actor": a.actor, "reason": a.reason, "note": a.note,
            })


def contacts(session: Session, order: Order) -> Iterable[Entry]:
    """The shopper asked for help from the storefront (the message itself
    went to the shop's support address and is not kept)."""
    rows = session.scalars(
        select(Contact).where(Contact.shop_id == order.shop_id, Contact.order_id == order.id).order_by(Contact.id))
    for c in rows:
        yield Entry(c.created_at, "contact", "asked for help", {
            "id": c.id, "message_length": c.message_length, "answers_shown": list(c.answers_shown or []),
        })


def survey_answers(session: Session, order: Order) -> Iterable[Entry]:
    """Survey answers about the order, each with its follow-up mark."""
    rows = session.scalars(select(SurveyResponse).where(
        SurveyResponse.shop_id == order.shop_id, SurveyResponse.order_id == order.id).order_by(SurveyResponse.id))
    for r in rows:
        yield Entry(r.answered_at, "survey", f"{r.kind} {r.score}", {
            "id": r.id, "kind": r.kind, "score": r.score, "low": SurveyKind(r.kind).scale.is_low(r.score),
            "touchpoint": r.touchpoint, "comment": r.comment, "changed_at": _iso(r.changed_at),
            "followed_up_at": _iso(r.followed_up_at), "followed_up_by": r.followed_up_by,
        })


# Every source of the timeline, in one list: a domain that learns something
# about orders adds its source here.
SOURCES: list[Source] = [order_events, webhooks, tracking, messages, visits, returns, contacts, survey_answers]

# Entries at the same instant keep this order (an order is placed before its webhook is handled).
_RANK = {"order": 0, "webhook": 1, "tracking": 2, "message": 3, "visit": 4, "return": 5, "contact": 6, "survey": 7}


def entries(session: Session, order: Order) -> list[Entry]:
    found = [entry for source in SOURCES for entry in source(session, order)]
    return sorted(found, key=lambda e: (e.at, _RANK.get(e.type, len(_RANK))))


def timeline(session: Session, order: Order) -> list[dict]:
    """The order's timeline, oldest first, JSON-ready."""
    return [entry.as_json() for entry in entries(session, order)]


def flags(order: Order) -> dict[str, bool]:
    """What sets the order apart: cancelled, a test order, flagged delayed
    (by the delay detection of plugin/notifications/delays.py)."""
    return {"cancelled": order.cancelled_at is not None, "test": bool(order.test),
            "delayed": order.delayed_at is not None}
