"""Delay detection: a parcel that is late, stalled, or reported delayed.

A parcel still on its way (not yet out for delivery) is delayed when

- the carrier reports it `delayed`, or
- it is past its estimated delivery by more than
  ``notifications.delay_grace_hours``, or
- it has tracking but no tracking progress for ``notifications.stalled_days``
  (a parcel shipped without any tracking cannot be judged this way).

Then, once per parcel, the customer gets one `delayed` message and the parcel
and its order are flagged (``delayed_at``) for the merchant. The rules check a
parcel whenever its order changes; the worker job below scans every parcel on
its way at most every SCAN_EVERY, for the delays that no webhook announces.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from .. import settings, shipments
from ..db import worker_session
from ..models import Fulfillment, Order, Shop, TrackingEvent, children_of_shop, utcnow
from .enqueue import enqueue
from .kinds import Kind
from .steps import parcels, sendable

SCAN_EVERY = timedelta(minutes=5)
CHUNK = 100  # orders loaded at once by a scan
ON_ITS_WAY = tuple(s for s, stage in shipments.STAGES.items() if stage <= shipments.IN_TRANSIT)
_LAST_SCAN = "aftercare.delays.last_scan"


def reason(fulfillment: Fulfillment, config: dict, now: datetime) -> str | None:
    """Why the parcel counts as delayed now; None if it does not."""
    if fulfillment.delivered_at is not None or (fulfillment.shipment_status or "confirmed") not in ON_ITS_WAY:
        return None
    if fulfillment.shipment_status == "delayed":
        return "reported delayed by the carrier"
    grace = timedelta(hours=config["notifications.delay_grace_hours"])
    if fulfillment.estimated_delivery_at is not None and now > fulfillment.estimated_delivery_at + grace:
        return "past its estimated delivery"
    if fulfillment.tracking_numbers or fulfillment.events:
        last = max((e.happened_at for e in fulfillment.events),
                   default=fulfillment.shopify_created_at or fulfillment.created_at)
        if last is not None and now - last > timedelta(days=config["notifications.stalled_days"]):
            return "no tracking progress"
    return None


def check(session: Session, shop: Shop, order: Order, fulfillment: Fulfillment, context: dict,
          config: dict, now: datetime) -> int:
    """Flag the parcel and enqueue its `delayed` message if it is delayed and
    was not before; the number of new outbox rows."""
    if fulfillment.delayed_at is not None:
        return 0
    why = reason(fulfillment, config, now)
    if why is None:
        return 0
    fulfillment.delayed_at = now
    order.delayed_at = order.delayed_at or now
    return enqueue(session, shop, order, Kind.DELAYED, str(fulfillment.shopify_id),
                   {**context, "reason": why}, config, now)


def scan(app: Flask, now: datetime) -> int:
    """Check every unflagged parcel on its way, of every installed shop; the
    number of parcels found delayed. Like the first step of the worker's
    claims, the first query spans shops on purpose: it reads, locks nothing,
    and every row written after it names its shop. Then, per shop with
    parcels on their way, SQL picks the orders with a parcel that may be late
    under the shop's settings (``_may_be_late``: most parcels on their way
    are not, and loading each to find that out was most of a scan's time),
    loaded CHUNK orders at a time with their parcels and tracking events
    (three queries, not three per order)."""
    found = 0
    with worker_session(app) as session, session.begin():
        shop_ids = session.scalars(
            select(Order.shop_id).distinct()
            .join(Fulfillment, and_(Fulfillment.order_id == Order.id, Fulfillment.shop_id == Order.shop_id))
            .join(Shop, Shop.id == Order.shop_id)
            .where(*_unflagged_on_its_way(), Shop.uninstalled_at.is_(None))
            .order_by(Order.shop_id)
        ).all()
        for shop_id in shop_ids:
            shop = session.get(Shop, shop_id)
            config = settings.load(session, shop_id)
            order_ids = session.scalars(
                select(Order.id).distinct()
                .join(Fulfillment, and_(Fulfillment.order_id == Order.id, Fulfillment.shop_id == Order.shop_id))
                .where(Order.shop_id == shop_id, *_unflagged_on_its_way(), _may_be_late(shop_id, config, now))
                .order_by(Order.id)
            ).all()
            for start in range(0, len(order_ids), CHUNK):
                orders = session.scalars(
                    select(Order).where(Order.shop_id == shop_id, Order.id.in_(order_ids[start:start + CHUNK]))
                    .order_by(Order.id)
                    .options(selectinload(Order.fulfillments).selectinload(Fulfillment.events),
                             *children_of_shop(shop_id))).all()
                for order in orders:
                    if not sendable(order):
                        continue
                    for fulfillment, context in parcels(order):
                        before = fulfillment.delayed_at
                        check(session, shop, order, fulfillment, context, config, now)
                        found += before is None and fulfillment.delayed_at is not None
    return found


def _unflagged_on_its_way() -> tuple:
    return (Fulfillment.delayed_at.is_(None), Fulfillment.delivered_at.is_(None),
            or_(Fulfillment.shipment_status.is_(None), Fulfillment.shipment_status.in_(ON_ITS_WAY)),
            Order.cancelled_at.is_(None), Order.test.is_(False))


def _may_be_late(shop_id: int, config: dict, now: datetime):
    """Parcels ``reason`` may find delayed under the shop's ``config``, in SQL
    (a few more: it does not look at tracking numbers): reported delayed,
    past the estimate and its grace, or no tracking event since the stalled
    days began (and shipped before them, when there is none at all)."""
    stalled_since = now - timedelta(days=config["notifications.stalled_days"])
    events = select(TrackingEvent.id).where(TrackingEvent.shop_id == shop_id,
                                            TrackingEvent.fulfillment_id == Fulfillment.id)
    return or_(
        Fulfillment.shipment_status == "delayed",
        Fulfillment.estimated_delivery_at < now - timedelta(hours=config["notifications.delay_grace_hours"]),
        and_(~events.where(TrackingEvent.happened_at >= stalled_since).exists(),
             or_(events.exists(),
                 func.coalesce(Fulfillment.shopify_created_at, Fulfillment.created_at) < stalled_since)),
    )


def job(clock: Callable[[], datetime] = utcnow) -> Callable[[Flask], int]:
    """The worker job: a scan, at most every SCAN_EVERY per worker process."""
    def process_due(app: Flask) -> int:
        now = clock()
        last = app.extensions.get(_LAST_SCAN)
        if last is not None and now - last < SCAN_EVERY:
            return 0
        app.extensions[_LAST_SCAN] = now
        return scan(app, now)
    return process_due
