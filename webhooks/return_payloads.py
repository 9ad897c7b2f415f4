"""returns/* and refunds/create bodies parsed into plugin.returns' records
(shapes: Shopify's webhook reference; the return payloads are thin, which is
all the status needs)."""

from __future__ import annotations

from plugin.returns import RefundData, RefundLineData, ShopifyReturnData

from .payloads import Fields, PayloadError


def _gid_id(f: Fields, key: str) -> int | None:
    """An id given as a number, or only inside ``admin_graphql_api_id``."""
    value = f.data.get(key)
    if isinstance(value, str) and value.startswith("gid://"):
        value = value.rsplit("/", 1)[1]
        if not (value.isascii() and value.isdigit() and len(value) < 19):
            raise PayloadError(f"{f._where(key)}: expected a Shopify id")
        return int(value)
    return f.id(key, required=False)


def shopify_return(body: dict, status: str) -> ShopifyReturnData:
    """A return as returns/request, approve, decline, cancel, close or reopen
    tell it; ``status`` is what the topic means (Shopify's ReturnStatus)."""
    f = Fields(body)
    return_id = f.id("id", required=False) or _gid_id(f, "admin_graphql_api_id")
    if return_id is None:
        raise PayloadError("id: required")
    order = f.obj("order")
    order_id = f.id("order_id", required=False) or (
        (order.id("id", required=False) or _gid_id(order, "admin_graphql_api_id")) if order else None)
    decline = f.obj("decline")
    return ShopifyReturnData(
        shopify_id=return_id,
        status=status,
        order_shopify_id=order_id,
        decline_reason=decline.str("reason") if decline else None,
        decline_note=decline.str("note") if decline else None,
    )


def refund(body: dict) -> RefundData:
    f = Fields(body)
    linked = f.obj("return")
    return RefundData(
        shopify_id=f.id("id"),
        order_shopify_id=f.id("order_id"),
        return_shopify_id=(linked.id("id", required=False) or _gid_id(linked, "admin_graphql_api_id"))
        if linked else None,
        lines=tuple(
            RefundLineData(
                shopify_id=line.id("id"),
                line_item_shopify_id=line.id("line_item_id"),
                quantity=line.int("quantity", default=0),
                restock_type=line.str("restock_type"),
            )
            for line in f.objects("refund_line_items")
        ),
    )
