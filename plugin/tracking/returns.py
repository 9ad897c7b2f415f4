"""What a shopper sees of an order's returns: what each item allows (how
many may go back, or why none), the shop's reasons to pick from, and the
requests already made with their status and what happens next.

Like ``order_view`` every text is already in the shopper's locale, so the
widget and the proxy page only lay it out. IDs are strings (Shopify's exceed
2**53). Notes and instructions are the text as typed: pages show them as
text (textContent, autoescape), never as markup.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from .. import returns
from ..models import Order, Shop
from ..notifications.i18n import Format, gettext
from ..notifications.return_mail import DECLINE_REASONS, REASONS
from ..returns import ReturnRequest, ReturnStatus, Why
from .view import formatter


def _(message: str) -> str:
    """Marks a string for extraction; translated where it is shown."""
    return message


S = ReturnStatus

# Each status in the shopper's words, and what happens next.
STATUS: dict[ReturnStatus, tuple[str, str]] = {
    S.REQUESTED: (_("Requested"), _("The store will review your request and email you its answer.")),
    S.APPROVED: (_("Approved"), _("Send the items back as the store explains below.")),
    S.DECLINED: (_("Declined"), _("The store cannot accept this return.")),
    S.RECEIVED: (_("Received"), _("The store has the items back. Your refund comes next.")),
    S.REFUNDED: (_("Refunded"), _("Your refund is on its way. It can take a few days to show on your statement.")),
    S.CLOSED: (_("Closed"), _("This return is complete.")),
    S.CANCELLED: (_("Cancelled"), _("This return request was cancelled.")),
}

# Why an item cannot be returned (any more).
WHY: dict[Why, str] = {
    Why.ORDER_CANCELLED: _("This order was cancelled."),
    Why.GIFT_CARD: _("Gift cards cannot be returned."),
    Why.FINAL_SALE: _("Final sale: this item cannot be returned."),
    Why.NOT_SHIPPED: _("This item has not shipped yet."),
    Why.ALREADY_RETURNED: _("Already in a return request or refunded."),
    Why.OUTSIDE_WINDOW: _("The return period ended on %(date)s."),
}


def reason_label(locale: str, code: str) -> str:
    return gettext(locale, REASONS.get(code, REASONS["OTHER"]))


def request_view(request: ReturnRequest, order: Order, fmt: Format) -> dict:
    """One return request as the shopper sees it."""
    locale = fmt.locale
    state = request.state
    label, next_step = STATUS[state]
    titles = {li.shopify_id: li for li in order.line_items}
    items = []
    for item in request.items:
        li = titles.get(item.line_item_shopify_id)
        items.append({"line_item_id": str(item.line_item_shopify_id),
                      "title": (li.title if li else None) or gettext(locale, _("Item")),
                      "variant": li.variant_title if li else None, "quantity": item.quantity,
                      "reason": reason_label(locale, item.reason), "note": item.note})
    declined = state is S.DECLINED
    return {
        "id": str(request.id),
        "status": state.value,
        "status_label": gettext(locale, label),
        "next": gettext(locale, next_step),
        "requested_at": fmt.date(request.requested_at),
        "items": items,
        "instructions": request.instructions if state in (S.APPROVED, S.RECEIVED) else None,
        "decline_reason": gettext(locale, DECLINE_REASONS.get(request.decline_reason or "OTHER",
                                                              DECLINE_REASONS["OTHER"])) if declined else None,
        "decline_note": request.decline_note if declined else None,
    }


def returns_view(session: Session, shop: Shop, order: Order, *, locale: str | None = None) -> dict:
    """The order's returns: ``items`` (each with ``returnable`` and, when 0,
    ``why``), ``reasons`` to choose from, ``requests`` newest first,
    ``open`` (whether anything may be asked for now) and ``show`` (whether
    there is anything to say: not while nothing has shipped)."""
    fmt = formatter(shop, order, locale)
    locale = fmt.locale
    made = returns.order_requests(session, shop, order)
    items = []
    for e in returns.returnable(session, shop, order, requests=made):
        why = None
        if e.why is not None:
            why = gettext(locale, WHY[e.why], date=fmt.date(e.window_ends_at)) if e.why is Why.OUTSIDE_WINDOW \
                else gettext(locale, WHY[e.why])
        items.append({
            "line_item_id": str(e.line_item_id),
            "title": e.title or gettext(locale, _("Item")),
            "variant": e.variant_title,
            "quantity": e.bought,
            "returnable": e.returnable,
            "why": e.why.value if e.why else None,
            "why_text": why,
            "until": fmt.date(e.window_ends_at) if e.returnable and e.window_ends_at else None,
        })
    requests = [request_view(r, order, fmt) for r in made]
    return {
        "show": bool(requests) or any(i["why"] != Why.NOT_SHIPPED.value for i in items),
        "open": any(i["returnable"] for i in items),
        "reasons": [{"code": code, "label": reason_label(locale, code)}
                    for code in returns.allowed_reasons(session, shop.id)],
        "items": items,
        "requests": requests,
    }
