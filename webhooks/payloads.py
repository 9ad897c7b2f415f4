"""Webhook bodies (REST-shaped JSON) parsed into the small typed records of
plugin.orders. Only the fields the handlers use are read, each checked for its
type; anything malformed raises PayloadError naming the field, which fails the
delivery for good (retrying the same bytes cannot help)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation

from plugin.orders import FulfillmentData, LineItemData, OrderData, TrackingEventData

MAX_ID = 2**63 - 1  # Shopify IDs are signed 64-bit integers


class PayloadError(ValueError):
    """The delivery's body is not the shape its topic promises."""


def parse_json(raw: bytes) -> dict:
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError(f"body is not valid JSON: {exc}") from None
    except ValueError:  # an integer of more than 4300 digits
        raise PayloadError("body is not valid JSON: a number too long to read") from None
    except RecursionError:  # arrays or objects nested thousands deep
        raise PayloadError("body is not valid JSON: nested too deeply") from None
    if not isinstance(data, dict):
        raise PayloadError(f"body must be a JSON object, got {type(data).__name__}")
    return data


class Fields:
    """Typed access to one JSON object; errors name the field's path."""

    def __init__(self, data: object, path: str = ""):
        if not isinstance(data, dict):
            raise PayloadError(f"{path or 'body'}: expected an object, got {_kind(data)}")
        self.data = data
        self.path = path

    def _where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def _get(self, key: str, required: bool):
        value = self.data.get(key)
        if value is None and required:
            raise PayloadError(f"{self._where(key)}: required")
        return value

    def id(self, key: str, required: bool = True) -> int | None:
        value = self._get(key, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ID:
            raise PayloadError(f"{self._where(key)}: expected a positive 64-bit integer id, got {_kind(value)}")
        return value

    def int(self, key: str, default: int | None = None) -> int | None:
        value = self.data.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise PayloadError(f"{self._where(key)}: expected an integer, got {_kind(value)}")
        return value

    def str(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise PayloadError(f"{self._where(key)}: expected a string, got {_kind(value)}")
        return value

    def bool(self, key: str, default: bool) -> bool:
        value = self.data.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise PayloadError(f"{self._where(key)}: expected true or false, got {_kind(value)}")
        return value

    def decimal(self, key: str) -> Decimal | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise PayloadError(f"{self._where(key)}: expected an amount, got {_kind(value)}")
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            raise PayloadError(f"{self._where(key)}: expected an amount, got {value!r:.40}") from None
        if not amount.is_finite():
            raise PayloadError(f"{self._where(key)}: expected a finite amount")
        return amount

    def datetime(self, key: str, required: bool = False) -> datetime | None:
        value = self._get(key, required)
        if value is None:
            return None
        if not isinstance(value, str):
            raise PayloadError(f"{self._where(key)}: expected an ISO-8601 timestamp, got {_kind(value)}")
        try:
            parsed = datetime.fromisoformat(value)
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=timezone.utc)
            # Year 1 at +14:00 (or 9999 at -14:00) is valid ISO but has no UTC time: OverflowError.
            return parsed.astimezone(timezone.utc)
        except (ValueError, OverflowError):
            raise PayloadError(f"{self._where(key)}: expected an ISO-8601 timestamp, got {value!r:.40}") from None

    def obj(self, key: str) -> Fields | None:
        value = self.data.get(key)
        return None if value is None else Fields(value, self._where(key))

    def objects(self, key: str) -> list[Fields]:
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise PayloadError(f"{self._where(key)}: expected a list, got {_kind(value)}")
        return [Fields(item, f"{self._where(key)}[{i}]") for i, item in enumerate(value)]

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.data.get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise PayloadError(f"{self._where(key)}: expected a list of strings, got {_kind(value)}")
        return tuple(value)


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return f"a string of {len(value)} characters"  # never its text: it may be personal data
    return {bool: "boolean", int: "integer", float: "number", list: "list", dict: "object"}.get(
        type(value), type(value).__name__
    )


def timestamp(value: str | None) -> datetime | None:
    """A header's ISO-8601 time (X-Shopify-Triggered-At) in UTC; None if absent or malformed."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    except (ValueError, OverflowError):  # OverflowError: a time with no UTC equivalent (year 1 at +14:00)
        return None


def ids(body: dict, key: str) -> list[int]:
    """A list of Shopify ids, e.g. the orders a privacy request names."""
    value = body.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or any(isinstance(v, bool) or not isinstance(v, int) for v in value):
        raise PayloadError(f"{key}: expected a list of integer ids, got {_kind(value)}")
    return value


def order(body: dict) -> OrderData:
    f = Fields(body)
    customer = f.obj("customer")
    shipping = f.obj("shipping_address")
    billing = f.obj("billing_address")
    order_id = f.id("id")
    first_name = next(
        (name for part in (customer, shipping, billing) if part and (name := part.str("first_name"))), None
    )
    return OrderData(
        shopify_id=order_id,
        updated_at=f.datetime("updated_at", required=True),
        created_at=f.datetime("created_at"),
        name=f.str("name"),
        number=f.int("order_number"),
        email=f.str("email") or f.str("contact_email") or (customer.str("email") if customer else None),
        customer_email=customer.str("email") if customer else None,
        # The customer's own phone and the shipping address's are kept apart:
        # the address may be a gift recipient's (orders.sms_phone picks one).
        phone=f.str("phone") or (customer.str("phone") if customer else None),
        shipping_phone=shipping.str("phone") if shipping else None,
        customer_id=customer.id("id", required=False) if customer else None,
        customer_first_name=first_name,
        locale=f.str("customer_locale"),
        financial_status=f.str("financial_status"),
        fulfillment_status=f.str("fulfillment_status"),
        cancelled_at=f.datetime("cancelled_at"),
        currency=f.str("currency"),
        total_price=f.decimal("total_price"),
        subtotal_price=f.decimal("subtotal_price"),
        shipping_city=shipping.str("city") if shipping else None,
        shipping_country=shipping.str("country") if shipping else None,
        tags=f.str("tags"),
        test=f.bool("test", default=False),
        line_items=tuple(_line_item(li) for li in f.objects("line_items")),
        fulfillments=tuple(_fulfillment(ff, order_id) for ff in f.objects("fulfillments")),
    )


def _line_item(f: Fields) -> LineItemData:
    return LineItemData(
        shopify_id=f.id("id"),
        quantity=f.int("quantity", default=0),
        title=f.str("title"),
        variant_title=f.str("variant_title"),
        sku=f.str("sku"),
        product_id=f.id("product_id", required=False),
        variant_id=f.id("variant_id", required=False),
        price=f.decimal("price"),
        requires_shipping=f.bool("requires_shipping", default=True),
        gift_card=f.bool("gift_card", default=False),
    )


def fulfillment(body: dict) -> FulfillmentData:
    return _fulfillment(Fields(body), None)


def _fulfillment(f: Fields, order_id: int | None) -> FulfillmentData:
    numbers = f.strings("tracking_numbers") or tuple(n for n in [f.str("tracking_number")] if n)
    urls = f.strings("tracking_urls") or tuple(u for u in [f.str("tracking_url")] if u)
    return FulfillmentData(
        shopify_id=f.id("id"),
        order_shopify_id=f.id("order_id", required=order_id is None) or order_id,
        updated_at=f.datetime("updated_at", required=True),
        created_at=f.datetime("created_at"),
        name=f.str("name"),
        status=f.str("status"),
        shipment_status=f.str("shipment_status"),
        tracking_company=f.str("tracking_company"),
        tracking_numbers=numbers,
        tracking_urls=urls,
        estimated_delivery_at=f.datetime("estimated_delivery_at"),
        line_items=tuple((li.id("id"), li.int("quantity", default=0)) for li in f.objects("line_items")),
    )


def tracking_event(body: dict) -> TrackingEventData:
    f = Fields(body)
    status = f.str("status")
    if not status:
        raise PayloadError("status: required")
    return TrackingEventData(
        shopify_id=f.id("id"),
        fulfillment_shopify_id=f.id("fulfillment_id"),
        order_shopify_id=f.id("order_id"),
        status=status,
        happened_at=f.datetime("happened_at") or f.datetime("created_at", required=True),
        message=f.str("message"),
        city=f.str("city"),
        province=f.str("province"),
        country=f.str("country"),
        estimated_delivery_at=f.datetime("estimated_delivery_at"),
    )
