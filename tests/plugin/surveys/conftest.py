"""A hand-computed survey fixture: invitations and answers with known
carriers, products, lateness and times, whose every figure the metric tests
work out by hand (see test_metrics.py)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from plugin.db import worker_session
from plugin.models import Order
from plugin.surveys import SurveyInvitation, SurveyResponse


def at(day: str, hour: int = 12) -> datetime:
    """2026-MM-DD at ``hour`` UTC."""
    month, dom = (int(p) for p in day.split("-"))
    return datetime(2026, month, dom, hour, tzinfo=timezone.utc)


# name: (sent, carrier, products, days late, touchpoint, [(kind, score, answered)], comment)
INVITATIONS = {
    "I1": (at("11-02", 10), "UPS", ["Mug"], 0, "delivery",
           [("csat", 5, at("11-02")), ("ces", 6, at("11-02")), ("nps", 10, at("11-02"))]),
    "I2": (at("11-03", 10), "UPS", ["Mug", "Tee"], 2, "delivery",
           [("csat", 2, at("11-04")), ("ces", 3, at("11-04")), ("nps", 6, at("11-04"))]),
    "I3": (at("11-09", 10), "DHL", ["Tee"], 5, "delivery", [("csat", 4, at("11-09", 14)), ("nps", 9, at("11-09", 14))]),
    "I4": (at("11-10", 10), "DHL", ["Tee"], None, "return", [("csat", 1, at("11-11", 10)), ("ces", 7, at("11-11", 10))]),
    "I5": (at("11-11", 10), "UPS", [], -1, "delivery", []),
    "I6": (at("11-20", 9), "UPS", ["Mug"], 0, "delivery", [("csat", 5, at("11-20"))]),
    # Sent before the range, answered inside it.
    "I7": (at("10-30", 10), None, ["Mug"], None, "delivery", [("csat", 3, at("11-03"))]),
}
RANGE = (at("11-02", 0), at("11-16", 0))


def add_answers(app, shop_id: int, invitations: dict = INVITATIONS, comment: str | None = None) -> dict[str, int]:
    """Store ``invitations`` (and their answers) for the shop; returns their ids by name."""
    ids = {}
    with worker_session(app) as session, session.begin():
        for number, (name, (sent, carrier, products, late, touchpoint, answers)) in enumerate(invitations.items()):
            order = Order(shop_id=shop_id, shopify_id=5000 + number + 100 * shop_id, name=f"#{1001 + number}")
            session.add(order)
            session.flush()
            invitation = SurveyInvitation(
                shop_id=shop_id, order_id=order.id, touchpoint=touchpoint, kinds=["csat", "ces", "nps"],
                carrier=carrier, products=products, days_late=late, status="answered" if answers else "sent",
                due_at=sent, sent_at=sent, answered_at=min((a for _, _, a in answers), default=None), locale="en",
            )
            session.add(invitation)
            session.flush()
            ids[name] = invitation.id
            for kind, score, answered in answers:
                session.add(SurveyResponse(
                    shop_id=shop_id, invitation_id=invitation.id, kind=kind, score=score, comment=comment,
                    order_id=order.id, touchpoint=touchpoint, carrier=carrier, products=products, days_late=late,
                    locale="en", answered_at=answered,
                ))
    return ids


@pytest.fixture
def answered(app, shop) -> dict[str, int]:
    return add_answers(app, shop)
