"""What a claimed batch of outbox rows needs, loaded in a few set-based queries.

The outbox's last-moment checks and its rendering read, for each customer
message: its order with the order's line items and parcels (their items and
tracking events), the shop's settings, whether the recipient unsubscribed,
the order's other live messages (a later step of the same parcel collapses
this one) and, for a return message, the return request. Read row by row that
was a dozen queries per message, each a round trip on PostgreSQL; here it is
a handful per shop in the batch, whatever the batch's size. All of it is read
inside the claim's transaction, so the checks see what they saw row by row.

Per shop, the batch also holds the ``ShopSetup`` (settings, sender) every
message of that shop shares, built once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from .. import settings
from ..models import Fulfillment, Notification, Order, Shop, children_of_shop
from ..returns.models import ReturnRequest
from .enqueue import LIVE, later_step
from .kinds import KINDS, Kind
from .render import ShopSetup, shop_setup
from .suppressions import Category, category_of, suppressed


@dataclass
class Batch:
    shops: dict[int, Shop] = field(default_factory=dict)
    setups: dict[int, ShopSetup] = field(default_factory=dict)
    orders: dict[tuple[int, int], Order] = field(default_factory=dict)
    # The live (pending or sent) messages of each order, the claimed rows among them.
    messages: dict[tuple[int, int], list[Notification]] = field(default_factory=lambda: defaultdict(list))
    unsubscribed: set[tuple[int, str, Category]] = field(default_factory=set)  # (shop, address, category)
    returns: dict[tuple[int, int], ReturnRequest] = field(default_factory=dict)

    def order(self, row: Notification) -> Order | None:
        return self.orders.get((row.shop_id, row.order_id))

    def is_unsubscribed(self, row: Notification) -> bool:
        """False for return messages: they are transactional (return_mail.py)."""
        category = category_of(Kind(row.kind))
        return category is not None and (row.shop_id, row.recipient, category) in self.unsubscribed

    def later_step(self, row: Notification) -> Notification | None:
        """As enqueue.later_step_known, over the statuses as they are now in
        this transaction (a row settled a moment ago counts as settled)."""
        return later_step(self.messages[(row.shop_id, row.order_id)], (row.context or {}).get("fulfillment_id"),
                          row.channel, Kind(row.kind))

    def returned(self, row: Notification) -> ReturnRequest | None:
        """The return request a return message is about (None for other
        kinds); LookupError when it was erased after the message was queued."""
        if not Kind(row.kind).is_return:
            return None
        request = self.returns.get((row.shop_id, (row.context or {}).get("return_id")))
        if request is None or request.order_id != row.order_id:
            raise LookupError("the return request was erased before the message could be sent")
        return request


def load(session: Session, rows: list[Notification]) -> Batch:
    """Everything the customer messages among ``rows`` need, a few queries
    per shop (messages to the store itself load their own)."""
    batch = Batch()
    by_shop: dict[int, list[Notification]] = defaultdict(list)
    for row in rows:
        by_shop[row.shop_id].append(row)
    batch.shops = {shop.id: shop for shop in session.scalars(select(Shop).where(Shop.id.in_(list(by_shop))))}
    for shop_id, shop_rows in by_shop.items():
        shop = batch.shops[shop_id]
        customer = [row for row in shop_rows if row.kind in KINDS]
        if not customer:
            continue
        batch.setups[shop_id] = shop_setup(shop, settings.load(session, shop_id))
        order_ids = list({row.order_id for row in customer if row.order_id is not None})
        if order_ids:
            for order in session.scalars(select(Order).where(Order.shop_id == shop_id, Order.id.in_(order_ids))
                                         .options(selectinload(Order.line_items),
                                                  selectinload(Order.fulfillments).selectinload(Fulfillment.line_items),
                                                  selectinload(Order.fulfillments).selectinload(Fulfillment.events),
                                                  *children_of_shop(shop_id))):
                batch.orders[(shop_id, order.id)] = order
            for message in session.scalars(select(Notification).where(
                    Notification.shop_id == shop_id, Notification.order_id.in_(order_ids),
                    Notification.status.in_(LIVE))):
                batch.messages[(shop_id, message.order_id)].append(message)
        for category in Category:
            addresses = [row.recipient for row in customer if category_of(Kind(row.kind)) == category]
            batch.unsubscribed |= {(shop_id, address, category)
                                   for address in suppressed(session, shop_id, addresses, category)}
        return_ids = [(row.context or {}).get("return_id") for row in customer if Kind(row.kind).is_return]
        if return_ids:
            for request in session.scalars(select(ReturnRequest).where(
                    ReturnRequest.shop_id == shop_id, ReturnRequest.id.in_([i for i in return_ids if i is not None]))
                    .options(selectinload(ReturnRequest.items))):
                batch.returns[(shop_id, request.id)] = request
    return batch
