"""The outbox as the admin sees it: one page of a shop's messages, newest first.

Shared by the Outbox page and `GET /api/admin/notifications`, so both show
the same rows. Recipients are the shop's own customers, shown only to the
shop's admins; message bodies are not part of a row.
"""

from __future__ import annotations

import math

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import Notification, Order

PER_PAGE = 50
MAX_PER_PAGE = 200


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def page(session: Session, shop_id: int, number: int = 1, per_page: int = PER_PAGE) -> dict:
    """Rows of page ``number`` (from 1) and where it sits among the pages."""
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    total = session.scalar(select(func.count()).select_from(Notification).where(Notification.shop_id == shop_id))
    pages = max(1, math.ceil(total / per_page))
    number = max(1, number)
    rows = session.execute(
        select(Notification, Order.name)
        .outerjoin(Order, (Order.id == Notification.order_id) & (Order.shop_id == shop_id))
        .where(Notification.shop_id == shop_id)
        .order_by(Notification.id.desc())
        .limit(per_page).offset((number - 1) * per_page)
    ).all()
    return {
        "items": [{
            "id": n.id, "kind": n.kind, "channel": n.channel, "recipient": n.recipient, "order": name,
            "status": n.status, "attempts": n.attempts, "error": n.error,
            "created_at": _iso(n.created_at), "next_attempt_at": _iso(n.next_attempt_at), "sent_at": _iso(n.sent_at),
        } for n, name in rows],
        "page": number, "per_page": per_page, "total": total, "pages": pages,
    }
