"""Every answer of a range as CSV, streamed: one line is read, written and
yielded at a time (a server-side cursor on PostgreSQL), so exporting a year of
answers takes as little memory as exporting a day.

Cells a spreadsheet would run as a formula (text starting with = + - @ or a
tab/CR) are prefixed with a quote: comments are the customers' own text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from ..models import Order
from .kinds import SurveyKind
from .metrics import lateness
from .models import SurveyResponse

COLUMNS = ("answered_at", "changed_at", "order", "touchpoint", "question", "score", "low", "comment",
           "carrier", "days_late", "lateness", "products", "locale", "followed_up_at")
BATCH = 1000


def _cell(value: object) -> object:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""


def responses_csv(session: Session, shop_id: int, start: datetime, end: datetime) -> Iterator[str]:
    """CSV lines (header first) of the shop's answers given in [start, end)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(row) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([_cell(v) for v in row])
        return buffer.getvalue()

    yield line(COLUMNS)
    r = SurveyResponse
    query = (
        select(r.answered_at, r.changed_at, Order.name, r.touchpoint, r.kind, r.score, r.comment, r.carrier,
               r.days_late, r.products, r.locale, r.followed_up_at)
        .outerjoin(Order, and_(Order.shop_id == r.shop_id, Order.id == r.order_id))
        .where(r.shop_id == shop_id, r.answered_at >= start, r.answered_at < end)
        .order_by(r.answered_at, r.id)
        .execution_options(yield_per=BATCH)
    )
    with session.execute(query) as rows:  # closes the server-side cursor, also when abandoned
        for (answered_at, changed_at, order, touchpoint, kind, score, comment, carrier, days_late, products,
             locale, followed_up_at) in rows:
            yield line((
                _iso(answered_at), _iso(changed_at), order or "", touchpoint, kind, score,
                "yes" if SurveyKind(kind).scale.is_low(score) else "no", comment or "", carrier or "",
                "" if days_late is None else days_late, lateness(days_late), "; ".join(products or []),
                locale or "", _iso(followed_up_at),
            ))
