"""Previews and test sends, for the admin pages and the CLI.

``preview`` renders a kind exactly as it would go out, for one of the shop's
real orders or for a built-in sample order (never stored), in any locale,
with the shop's saved template or one being edited (``override``). A return
kind shows the order's latest return request, or a sample one; a survey
invitation a sample survey (its links answer nothing).
``send_test`` mails that preview to an address now, with "[Test]" in front of
the subject; it needs AFTERCARE_SMTP_URL.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from email.message import EmailMessage

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import mail, settings
from ..locales import negotiate
from ..models import Fulfillment, FulfillmentLineItem, LineItem, Order, Shop, TrackingEvent
from ..returns.models import ReturnItem, ReturnRequest, ReturnStatus
from .kinds import Kind
from .render import compose, message_context, to_email
from .survey_mail import sample as sample_invitation

SAMPLE_RECIPIENT = "customer@example.com"

# The shipment status a sample parcel shows for each kind.
_SAMPLE_STATUS = {
    Kind.ORDER_CONFIRMED: None,
    Kind.SHIPPED: "in_transit",
    Kind.OUT_FOR_DELIVERY: "out_for_delivery",
    Kind.DELIVERED: "delivered",
    Kind.ATTEMPTED_DELIVERY: "attempted_delivery",
    Kind.READY_FOR_PICKUP: "ready_for_pickup",
    Kind.DELIVERY_FAILED: "failure",
    Kind.DELAYED: "in_transit",
    Kind.RETURN_REQUESTED: "delivered",
    Kind.RETURN_APPROVED: "delivered",
    Kind.RETURN_DECLINED: "delivered",
    Kind.RETURN_REFUNDED: "delivered",
    Kind.SURVEY: "delivered",
}


class NoMailServer(Exception):
    """A test message cannot be sent: AFTERCARE_SMTP_URL is not set."""


def sample_order(shop: Shop, kind: Kind, locale: str) -> tuple[Order, Fulfillment | None]:
    """An order as a customer of this shop might have placed it (not stored)."""
    start = datetime(2026, 11, 2, 9, 30, tzinfo=timezone.utc)
    order = Order(shop_id=shop.id, shopify_id=0, name="#1001", number=1001, customer_first_name="Ana",
                  locale=locale, currency="EUR", total_price=Decimal("74.90"), shipping_city="Lyon",
                  shopify_created_at=start)
    order.line_items = [
        LineItem(shop_id=shop.id, shopify_id=1, title="Linen shirt", variant_title="M", quantity=1,
                 price=Decimal("49.90"), requires_shipping=True),
        LineItem(shop_id=shop.id, shopify_id=2, title="Canvas tote", quantity=1,
                 price=Decimal("25.00"), requires_shipping=True),
    ]
    if kind is Kind.ORDER_CONFIRMED:
        return order, None
    status = _SAMPLE_STATUS[kind]
    fulfillment = Fulfillment(
        shop_id=shop.id, shopify_id=0, name="#1001.1", status="success", shipment_status=status,
        tracking_company="UPS", tracking_numbers=["1Z999AA10123456784"],
        tracking_urls=["https://www.ups.com/track?tracknum=1Z999AA10123456784"],
        estimated_delivery_at=start + timedelta(days=4),
        delivered_at=start + timedelta(days=3, hours=5) if status == "delivered" else None,
    )
    fulfillment.line_items = [FulfillmentLineItem(shop_id=shop.id, line_item_shopify_id=1, quantity=1),
                              FulfillmentLineItem(shop_id=shop.id, line_item_shopify_id=2, quantity=1)]
    steps = ["label_printed", "in_transit"] + ([status] if status not in (None, "in_transit") else [])
    fulfillment.events = [
        TrackingEvent(shop_id=shop.id, status=step, happened_at=start + timedelta(days=i, hours=2),
                      city="Lyon" if i == len(steps) - 1 else "Paris", country="France")
        for i, step in enumerate(steps)
    ]
    order.fulfillments = [fulfillment]
    return order, fulfillment


def sample_return(shop: Shop, kind: Kind, order: Order) -> ReturnRequest:
    """A return of the order's first item, at the status ``kind`` tells of (not stored)."""
    status = {Kind.RETURN_REQUESTED: ReturnStatus.REQUESTED, Kind.RETURN_APPROVED: ReturnStatus.APPROVED,
              Kind.RETURN_DECLINED: ReturnStatus.DECLINED, Kind.RETURN_REFUNDED: ReturnStatus.REFUNDED}[kind]
    first = order.line_items[0] if order.line_items else None
    request = ReturnRequest(shop_id=shop.id, order_id=order.id, status=status.value,
                            note="The fabric is thinner than I expected.")
    request.items = [ReturnItem(shop_id=shop.id, line_item_shopify_id=first.shopify_id if first else 0,
                                quantity=1, reason="SIZE_TOO_SMALL")]
    if status is ReturnStatus.APPROVED:
        request.instructions = "Pack the item in its original bag.\nDrop the parcel at any post office."
    if status is ReturnStatus.DECLINED:
        request.decline_reason, request.decline_note = "RETURN_PERIOD_ENDED", "Our return window is 30 days."
    return request


def _latest_return(session: Session, shop: Shop, order: Order) -> ReturnRequest | None:
    return session.scalars(select(ReturnRequest).where(
        ReturnRequest.shop_id == shop.id, ReturnRequest.order_id == order.id)
        .order_by(ReturnRequest.requested_at.desc(), ReturnRequest.id.desc()).limit(1)).first()


def preview(session: Session, shop: Shop, kind: str, *, order: Order | None = None,
            locale: str | None = None, override: dict | None = None) -> dict:
    """{subject, text, html, sms, template_error} of ``kind`` for ``order`` (or
    the sample order) in ``locale`` (default: the order's). ``override`` is a
    template being edited; without it the shop's saved one, if any, is used."""
    kind = Kind(kind)
    values = settings.load(session, shop.id)
    chosen = negotiate(locale or (order.locale if order else None))
    if order is not None and order.shop_id != shop.id:
        raise LookupError("the order is not this shop's")
    fulfillment = None
    details: dict = {"reason": "past_estimate"} if kind is Kind.DELAYED else {}
    if order is None:
        order, fulfillment = sample_order(shop, kind, chosen)
    elif kind is not Kind.ORDER_CONFIRMED and not kind.is_return and order.fulfillments:
        fulfillment = order.fulfillments[-1]
        details.update(parcel=len(order.fulfillments), parcels=len(order.fulfillments))
    returned = None
    if kind.is_return:
        fulfillment = None  # a return message shows the return, not a parcel
        returned = (_latest_return(session, shop, order) if order.id is not None else None) or \
            sample_return(shop, kind, order)
    invitation = None
    if kind.is_survey:
        fulfillment = None  # as sent: the survey asks about the order, not one parcel
        invitation = sample_invitation(shop, order)
    recipient = order.email or SAMPLE_RECIPIENT
    context = message_context(shop, values, order, fulfillment, recipient=recipient, details=details, locale=chosen,
                              returned=returned, invitation=invitation)
    if override is None:
        override = values.get(f"templates.{kind.value}.{chosen}")
    message = compose(kind.value, context, override)
    message["locale"] = chosen
    message["context"] = context
    return message


def send_test(session: Session, shop: Shop, kind: str, to: str, *, order: Order | None = None,
              locale: str | None = None, override: dict | None = None) -> EmailMessage:
    """Mail the preview of ``kind`` to ``to`` now; returns the message sent.
    Raises NoMailServer without AFTERCARE_SMTP_URL, mail errors as they come."""
    smtp = current_app.config.get("SMTP_URL")
    if smtp is None:
        raise NoMailServer("AFTERCARE_SMTP_URL is not set: there is no mail server to send through")
    message = preview(session, shop, kind, order=order, locale=locale, override=override)
    message["subject"] = f"[Test] {message['subject']}"
    email = to_email(shop, settings.load(session, shop.id), message, message["context"], ident="test")
    email["To"] = to
    mail.send(smtp, email)
    return email
