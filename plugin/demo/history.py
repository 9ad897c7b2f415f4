"""The demo shop's past: twelve weeks of delivered orders, survey answers,
returns, messages and help requests, so the dashboard opens on real figures.

The scenario (``scenario.py``) shows five orders living through webhooks;
weeks of history that way would take minutes to play, so the past is written
straight into the tables, shaped as the real paths leave them (an answer
copies its invitation's carrier, products and days late; a return's times
come from its actions). The same seed gives the same store every run. Its
orders are numbered below #1001, so the scenario's stay the newest.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from ..help.models import Contact
from ..models import Fulfillment, LineItem, Notification, Order
from ..returns.models import ReturnAction, ReturnItem, ReturnRequest
from ..surveys import SurveyInvitation, SurveyResponse

WEEKS = 12
FIRST_NUMBER = 801  # #801 … #1000
ORDERS = 200
HISTORY_ID_BASE = 5_700_000_000_000
PRODUCTS = (("Merino Wool Beanie", Decimal("32.00")), ("Trail Socks (3-pack)", Decimal("18.00")),
            ("Tea & Biscuits Gift Set", Decimal("48.00")), ("Ceramic Pour-Over Set", Decimal("54.90")),
            ("Linen Apron", Decimal("28.00")), ("Leather Card Holder", Decimal("39.00")))
# carrier: (share of orders, chance of each days-late value)
CARRIERS = {
    "UPS": (0.35, {-1: 0.25, 0: 0.55, 1: 0.12, 2: 0.05, 4: 0.03}),
    "DHL Express": (0.3, {-1: 0.2, 0: 0.5, 1: 0.15, 2: 0.08, 3: 0.07}),
    "DPD": (0.25, {0: 0.45, 1: 0.2, 2: 0.15, 3: 0.1, 5: 0.1}),
    "La Poste": (0.1, {0: 0.3, 1: 0.2, 2: 0.2, 4: 0.15, 7: 0.15}),
}
CUSTOMERS = (("Olivia", "en"), ("Noah", "en"), ("Emma", "en"), ("Liam", "en"), ("Chloé", "fr"), ("Hugo", "fr"),
             ("Léa", "fr"), ("Lukas", "de"), ("Mia", "de"), ("Jonas", "de"), ("Lucía", "es"), ("Mateo", "es"))
LOW_COMMENTS = {
    "en": ("The parcel arrived four days after the date I was given, and nobody told me.",
           "Box was crushed and one mug was chipped.", "Tracking said delivered but it was at a neighbour's."),
    "fr": ("Colis arrivé avec une semaine de retard, sans aucune nouvelle.", "Le suivi ne s'est jamais mis à jour."),
    "de": ("Das Paket kam drei Tage zu spät an.", "Die Rücksendung hat viel zu lange gedauert."),
    "es": ("El paquete llegó tarde y la caja estaba dañada.",),
}
GOOD_COMMENTS = {"en": ("Quick and well packed, thank you!", "Lovely beanie, arrived early."),
                 "fr": ("Parfait, livraison rapide.",), "de": ("Alles bestens, danke!",), "es": ("Todo perfecto.",)}


def _pick(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _score(rng: random.Random, low: int, high: int, late: int) -> int:
    """A score skewed high, pulled down by lateness."""
    share = 1 - rng.betavariate(1.2, 5) - 0.12 * max(late, 0) - (0.15 if late >= 3 else 0)
    share = min(max(share, 0.0), 1.0)
    return low + round(share * (high - low))


def seed(session: Session, shop_id: int, now: datetime) -> None:
    """Write the history for the demo shop (already emptied); the caller commits."""
    rng = random.Random(1001)
    start = now - timedelta(weeks=WEEKS)
    span = (now - timedelta(days=6) - start).total_seconds()
    carriers = {name: share for name, (share, _late) in CARRIERS.items()}
    for index in range(ORDERS):
        number = FIRST_NUMBER + index
        placed = start + timedelta(seconds=span * index / ORDERS + rng.uniform(0, 3600))
        first_name, locale = rng.choice(CUSTOMERS)
        carrier = _pick(rng, carriers)
        late = _pick(rng, CARRIERS[carrier][1])
        items = rng.sample(PRODUCTS, rng.choice((1, 1, 1, 2)))
        order = Order(
            shop_id=shop_id, shopify_id=HISTORY_ID_BASE + number, name=f"#{number}", number=number,
            email=f"{first_name.lower()}.{number}@example.com", customer_first_name=first_name, locale=locale,
            financial_status="paid", fulfillment_status="fulfilled", currency="EUR",
            total_price=sum(price for _t, price in items), tags="demo, history",
            shopify_created_at=placed, shopify_updated_at=placed,
        )
        session.add(order)
        session.flush()
        for position, (title, price) in enumerate(items):
            session.add(LineItem(shop_id=shop_id, order_id=order.id, shopify_id=(HISTORY_ID_BASE + number) * 10
                                 + position, title=title, quantity=1, price=price))
        shipped = placed + timedelta(hours=rng.uniform(12, 30))
        estimated = shipped + timedelta(days=3)
        delivered = estimated + timedelta(days=late, hours=rng.uniform(-6, 6))
        session.add(Fulfillment(
            shop_id=shop_id, order_id=order.id, shopify_id=HISTORY_ID_BASE + number, name=f"#{number}.1",
            status="success", shipment_status="delivered", tracking_company=carrier,
            tracking_numbers=[f"DEMO{number}"], estimated_delivery_at=estimated, delivered_at=delivered,
            shopify_created_at=shipped, shopify_updated_at=delivered,
        ))
        _messages(session, rng, shop_id, order, shipped, delivered, late)
        titles = [title for title, _price in items]
        if delivered + timedelta(days=2) < now:
            _survey(session, rng, shop_id, order, "delivery", carrier, titles, late, delivered + timedelta(days=2),
                    now, ("csat", "ces", "nps"))
        if rng.random() < 0.04 + 0.02 * max(late, 0):
            session.add(Contact(shop_id=shop_id, order_id=order.id, message_length=rng.randint(40, 400),
                                answers_shown=[], created_at=delivered - timedelta(hours=rng.uniform(2, 40))))
        if rng.random() < 0.12:
            _return(session, rng, shop_id, order, titles, carrier, late, delivered, now)


def _messages(session, rng, shop_id, order, shipped, delivered, late) -> None:
    steps = [("shipped", shipped), ("out_for_delivery", delivered - timedelta(hours=5)), ("delivered", delivered)]
    if late > 0:
        steps.insert(1, ("delayed", delivered - timedelta(days=late)))
    for kind, when in steps:
        failed = rng.random() < 0.02
        session.add(Notification(
            shop_id=shop_id, order_id=order.id, kind=kind, channel="email", recipient=order.email,
            dedupe_key=f"history:{order.number}:{kind}", status="failed" if failed else "sent",
            attempts=5 if failed else 1, error="550 5.1.1 mailbox unavailable" if failed else None,
            created_at=when, sent_at=None if failed else when + timedelta(seconds=20),
        ))


def _survey(session, rng, shop_id, order, touchpoint, carrier, titles, late, sent, now, kinds) -> None:
    invitation = SurveyInvitation(
        shop_id=shop_id, order_id=order.id, touchpoint=touchpoint, kinds=list(kinds), locale=order.locale,
        carrier=carrier, products=titles, days_late=late, status="sent", due_at=sent, sent_at=sent,
        expires_at=sent + timedelta(days=30),
    )
    session.add(invitation)
    session.flush()
    if rng.random() > (0.5 if late < 3 else 0.65):  # the unhappy answer more often
        return
    answered = sent + timedelta(hours=rng.uniform(0.5, 30))
    if answered >= now:
        return
    invitation.status, invitation.answered_at = "answered", answered
    scales = {"csat": (1, 5, 2), "ces": (1, 7, 3), "nps": (0, 10, 6)}
    for kind in kinds:
        low, high, low_at_most = scales[kind]
        score = _score(rng, low, high, late if touchpoint == "delivery" else rng.choice((0, 0, 3)))
        comment = None
        if kind == kinds[0] and rng.random() < 0.6:
            pool = LOW_COMMENTS if score <= low_at_most else GOOD_COMMENTS
            comment = rng.choice(pool.get(order.locale, pool["en"]))
        followed = None
        if score <= low_at_most and answered < now - timedelta(days=4) and rng.random() < 0.8:
            followed = answered + timedelta(hours=rng.uniform(1, 52))
        session.add(SurveyResponse(
            shop_id=shop_id, invitation_id=invitation.id, kind=kind, score=score, comment=comment,
            order_id=order.id, touchpoint=touchpoint, carrier=carrier, products=titles, days_late=late,
            locale=order.locale, answered_at=answered, followed_up_at=followed,
            followed_up_by="aftercare-link" if followed else None,
        ))


def _return(session, rng, shop_id, order, titles, carrier, late, delivered, now) -> None:
    requested = delivered + timedelta(days=rng.uniform(1, 10))
    if requested >= now - timedelta(hours=2):
        return
    answered = requested + timedelta(hours=rng.uniform(1, 36))
    resolved = answered + timedelta(days=rng.uniform(2, 8))
    request = ReturnRequest(shop_id=shop_id, order_id=order.id, key=f"history-{order.number}",
                            fingerprint=f"history-{order.number}", requested_at=requested, status="requested")
    session.add(request)
    session.flush()
    session.add(ReturnItem(shop_id=shop_id, request_id=request.id, line_item_shopify_id=(HISTORY_ID_BASE
                           + order.number) * 10, quantity=1, reason=rng.choice(("SIZE_TOO_SMALL", "UNWANTED",
                                                                                  "DEFECTIVE", "STYLE"))))
    if answered >= now:
        return
    request.status, request.first_response_at = "approved", answered
    session.add(ReturnAction(shop_id=shop_id, request_id=request.id, action="approve", actor="aftercare-link",
                             at=answered))
    if resolved >= now:
        return
    request.status, request.resolved_at, request.closed_at = "closed", resolved, resolved
    session.add(ReturnAction(shop_id=shop_id, request_id=request.id, action="close", actor="aftercare-link",
                             at=resolved))
    if resolved + timedelta(days=1) < now:
        _survey(session, rng, shop_id, order, "return", carrier, titles, late, resolved + timedelta(days=1), now,
                ("ces",))
