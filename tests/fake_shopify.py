"""A fake Shopify for tests: a real HTTP server on 127.0.0.1 serving any number of shops.

The app reaches it through ``SHOPIFY_BASE_URL = fake.base_url``, i.e.
``http://127.0.0.1:<port>/shops/{shop}``: the shop domain is the path segment after
``/shops/``. Start it with the context manager::

    with run_fake_shopify(API_KEY, SECRET) as fake:
        code = fake.issue_code("a-shop.myshopify.com", scopes="read_orders")
        ...

Endpoints (everything else answers 404 ``{"errors": "Not Found"}``):

- ``POST /shops/<shop>/admin/oauth/access_token`` (form-encoded or JSON body):
  authorization code (``code``, optional ``expiring=1``), ``grant_type=refresh_token``,
  token exchange (``grant_type=urn:ietf:params:oauth:grant-type:token-exchange`` with a
  session-token JWT, or a non-expiring offline token to migrate it to an expiring one).
  Wrong client id/secret → 401 ``{"error": "invalid_client"}``.
- ``POST /shops/<shop>/admin/api/<version>/graphql.json``: needs a live
  ``X-Shopify-Access-Token`` for that shop (else 401). Root fields (matched by name in a
  small GraphQL reader, not a real engine; the whole node is returned whatever the
  selection): ``shop``, ``orders(first, after, query, sortKey, reverse)``, ``ordersCount(query)``, ``order(id)``,
  ``webhookSubscriptions(first, after, topics)``, ``webhookSubscriptionCreate(topic,
  webhookSubscription)``, ``webhookSubscriptionDelete(id)``, and the returns fields of
  tests/fake_returns.py (``returnableFulfillments``, ``return(id)``, ``returnRequest``,
  ``returnApproveRequest``, ``returnDeclineRequest``, ``returnProcess``, ``returnClose``).
  Every GraphQL answer carries
  ``extensions.cost`` with a ``throttleStatus`` from a per-shop leaky bucket (reported
  always; enforced only when ``fake.enforce_bucket = True``).

State (per shop, thread-safe): ``issue_code(shop, scopes=)``, ``issue_token(shop, scopes=,
expires_in=, token=)``, ``set_granted_scopes``, ``revoke_tokens`` / ``revoke_token`` /
``expire_token``, ``token_live``, ``session_token(shop, secret=, expires_in=, **claims)``,
``seed_orders`` (nodes from ``make_order_node(n, **overrides)``), ``update_order``,
``add_webhook_subscription``, ``webhook_subscriptions``, ``returns``, ``refunds``, ``set_return_status``,
``set_shop_info``; ``reset()``
forgets all of it (for one fake shared by a whole test session). Tunables:
``access_token_ttl``, ``refresh_token_ttl``, ``refresh_grace_seconds`` (0: a used refresh
token dies at once), ``bucket_maximum``, ``restore_rate``, ``enforce_bucket``.

Fault knobs (thread-safe, settable at any time, consumed first-set first-served; each
applies to one request): ``throttle_next``, ``fail_next``, ``garbage_next``, ``slow_next``,
``lose_answer_next`` (done, then answered 502; may name the GraphQL root field it waits for).
``endpoint`` chooses what they hit: ``"graphql"``, ``"token"`` or ``"any"``.

"Shopify is down": ``fake.stop()`` closes the listening socket *and* every open keep-alive
connection (so clients really get connection errors); ``fake.start()`` serves again on the
same port with the same state. ``closed_port_base_url()`` gives a base URL on which
nothing listens, for tests that never want a server.

The server speaks HTTP/1.1 with keep-alive (like Shopify) and hands each request to a
small Flask app; request bodies must carry Content-Length (requests always sends one).

Every request is recorded in ``fake.requests`` (see ``Recorded``); ``fake.calls(...)``
filters them. Session tokens (JWT HS256) are signed and verified here with the stdlib, so
any secret length works (PyJWT warns on HS256 keys shorter than 32 bytes).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import re
import secrets
import socket
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, request
from requests.structures import CaseInsensitiveDict

from . import fake_returns

__all__ = [
    "FakeShopify",
    "Recorded",
    "run_fake_shopify",
    "closed_port_base_url",
    "make_session_token",
    "make_order_node",
    "order_gid",
]

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token"
OFFLINE_TOKEN = "urn:shopify:params:oauth:token-type:offline-access-token"
ONLINE_TOKEN = "urn:shopify:params:oauth:token-type:online-access-token"
INVALID_TOKEN_MESSAGE = "[API] Invalid API key or access token (unrecognized login or wrong password)"

DEFAULT_SCOPES = "read_orders,write_orders,read_fulfillments,read_customers,read_returns,write_returns"
ORDER_ID_BASE = 5_610_000_000_000  # realistic 13-digit order ids: order_gid(n) = base + n
LINE_ITEM_ID_BASE = 13_700_000_000_000
FULFILLMENT_ID_BASE = 4_900_000_000_000
CUSTOMER_ID_BASE = 7_300_000_000_000
PRODUCT_ID_BASE = 8_100_000_000_000
ORDERS_START = datetime(2026, 10, 1, 8, 0, tzinfo=timezone.utc)

#: WebhookSubscriptionTopic values the fake accepts (compliance topics are not in the enum).
WEBHOOK_TOPICS = frozenset(
    """APP_UNINSTALLED APP_SCOPES_UPDATE SHOP_UPDATE ORDERS_CREATE ORDERS_UPDATED ORDERS_CANCELLED
    ORDERS_FULFILLED ORDERS_PARTIALLY_FULFILLED ORDERS_PAID ORDERS_DELETE ORDERS_EDITED
    FULFILLMENTS_CREATE FULFILLMENTS_UPDATE FULFILLMENT_EVENTS_CREATE FULFILLMENT_EVENTS_DELETE
    REFUNDS_CREATE RETURNS_REQUEST RETURNS_APPROVE RETURNS_DECLINE RETURNS_CANCEL RETURNS_CLOSE
    RETURNS_REOPEN RETURNS_PROCESS RETURNS_UPDATE CUSTOMERS_CREATE CUSTOMERS_UPDATE CUSTOMERS_DELETE
    PRODUCTS_CREATE PRODUCTS_UPDATE PRODUCTS_DELETE""".split()
)

_QUERY_FIELDS = {"shop", "orders", "ordersCount", "order", "webhookSubscriptions"} | fake_returns.QUERY_FIELDS
_MUTATION_FIELDS = {"webhookSubscriptionCreate", "webhookSubscriptionDelete"} | fake_returns.MUTATION_FIELDS
_VERSION = re.compile(r"^(\d{4}-(01|04|07|10)|unstable)$")


# ============================================================================ records


@dataclass
class Recorded:
    """One request the fake received (recorded on arrival, before any fault applies)."""

    method: str
    path: str
    shop: str | None
    endpoint: str  # "token" | "graphql" | "other"
    headers: CaseInsensitiveDict
    form: dict[str, str] | None
    json: Any
    body: bytes
    query: str | None = None  # GraphQL query text
    variables: dict | None = None  # GraphQL variables
    operations: list[str] = field(default_factory=list)  # GraphQL root field names
    api_version: str | None = None
    status: int | None = None  # the status the fake answered (None while in flight)
    fault: str | None = None  # "throttled", "http429", "fail", "garbage", "slow", "lost" if one applied
    client_port: int | None = None  # the client's TCP port: equal ports = one keep-alive connection
    at: float = field(default_factory=time.time)

    @property
    def params(self) -> dict:
        """Form fields or JSON object, whichever the request carried."""
        if self.form:
            return self.form
        return self.json if isinstance(self.json, dict) else {}


@dataclass
class _Fault:
    kind: str  # "throttle", "fail", "garbage", "slow"
    remaining: int
    endpoint: str  # "graphql" | "token" | "any"
    mode: str = "graphql"  # throttle: "graphql" | "http429"
    retry_after: float = 0.05
    status: int = 500
    seconds: float = 0.0
    currently_available: int | None = None
    operation: str | None = None  # only a GraphQL request with this root field

    def matches(self, endpoint: str, operations: list[str] | None = None) -> bool:
        return (self.remaining > 0 and self.endpoint in ("any", endpoint)
                and (self.operation is None or self.operation in (operations or [])))


@dataclass
class _Token:
    shop: str
    scope: str
    expires_at: float | None  # epoch seconds; None = non-expiring
    kind: str = "offline"  # offline | online
    revoked: bool = False

    def live(self, shop: str) -> bool:
        return self.shop == shop and not self.revoked and (self.expires_at is None or time.time() < self.expires_at)


@dataclass
class _Refresh:
    shop: str
    scope: str
    expires_at: float
    used_at: float | None = None


@dataclass
class _ShopState:
    domain: str
    granted_scopes: str | None = None  # None → the fake's default_scopes
    codes: dict[str, str] = field(default_factory=dict)  # code → scope (popped on use)
    orders: dict[str, dict] = field(default_factory=dict)  # gid → node
    webhooks: list[dict] = field(default_factory=list)
    returns: dict[str, dict] = field(default_factory=dict)  # gid → return (tests/fake_returns.py)
    info: dict = field(default_factory=dict)
    bucket: float | None = None
    bucket_at: float = 0.0


class _GraphQLError(Exception):
    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code


# ============================================================================ helpers


def order_gid(n: int) -> str:
    """The id ``make_order_node(n)`` gives its order."""
    return f"gid://shopify/Order/{ORDER_ID_BASE + n}"


def closed_port_base_url() -> str:
    """A SHOPIFY_BASE_URL on which nothing listens (connections are refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/shops/{{shop}}"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_session_token(api_key: str, api_secret: str, shop: str, *, expires_in: int = 60,
                       user_id: str = "42", **claims: Any) -> str:
    """An App Bridge session token (HS256 JWT) for ``shop``; ``claims`` override the defaults."""
    now = int(time.time())
    payload = {
        "iss": f"https://{shop}/admin",
        "dest": f"https://{shop}",
        "aud": api_key,
        "sub": user_id,
        "exp": now + expires_in,
        "nbf": now - 1,
        "iat": now - 1,
        "jti": str(uuid.uuid4()),
        "sid": secrets.token_hex(16),
    }
    payload.update(claims)
    header = {"alg": "HS256", "typ": "JWT"}
    signing_input = _b64url(json.dumps(header).encode()) + "." + _b64url(json.dumps(payload).encode())
    sig = hmac.new(api_secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + _b64url(sig)


def _verify_session_token(token: str, api_key: str, api_secret: str, shop: str) -> bool:
    try:
        head_b64, payload_b64, sig_b64 = token.split(".")
        header = json.loads(_b64url_decode(head_b64))
        payload = json.loads(_b64url_decode(payload_b64))
        sig = _b64url_decode(sig_b64)
    except (ValueError, TypeError):
        return False
    if not isinstance(header, dict) or header.get("alg") != "HS256" or not isinstance(payload, dict):
        return False
    expected = hmac.new(api_secret.encode(), f"{head_b64}.{payload_b64}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(expected, sig):
        return False
    now = time.time()
    try:
        if float(payload["exp"]) < now - 10 or float(payload.get("nbf", 0)) > now + 10:
            return False
    except (KeyError, TypeError, ValueError):
        return False
    if payload.get("aud") != api_key:
        return False
    return urlsplit(str(payload.get("dest", ""))).hostname == shop


_PRODUCTS = [
    ("Merino Crew Sweater", "Navy / M", "MER-CRW-NV-M", "89.00"),
    ("Trail Runner 2", "Slate / 42", "TR2-SL-42", "129.00"),
    ("Canvas Tote", None, "TOTE-NAT", "24.00"),
    ("Insulated Bottle 750ml", "Forest", "BTL-750-FOR", "32.50"),
    ("Wool Socks (3-pack)", "L", "SOCK-3P-L", "21.00"),
    ("Rain Shell Jacket", "Black / S", "RSJ-BK-S", "179.00"),
]
_CARRIERS = [
    ("UPS", "1Z999AA1{:010d}", "https://www.ups.com/track?tracknum={}"),
    ("USPS", "9400111899{:012d}", "https://tools.usps.com/go/TrackConfirmAction?tLabels={}"),
    ("DHL Express", "{:010d}", "https://www.dhl.com/en/express/tracking.html?AWB={}"),
    ("FedEx", "7{:011d}", "https://www.fedex.com/fedextrack/?trknbr={}"),
]
_PEOPLE = [("Ana", "Souza", "Lisbon", "Portugal", "PT", "pt-PT"), ("Jon", "Snow", "Toronto", "Canada", "CA", "en"),
           ("Marie", "Dubois", "Lyon", "France", "FR", "fr"), ("Lukas", "Weber", "Berlin", "Germany", "DE", "de"),
           ("Emma", "Smith", "Austin", "United States", "US", "en")]


def _iso(dt: datetime | None) -> str | None:
    return None if dt is None else dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_order_node(n: int, **overrides: Any) -> dict:
    """A realistic GraphQL Order node, deterministic in ``n`` (id ``order_gid(n)``, name ``#(1000+n)``).

    ``n % 4`` picks the state: 0 unfulfilled, 1 fulfilled and in transit, 2 delivered,
    3 fulfilled (label printed). ``overrides`` replace top-level keys of the node.
    """
    oid = ORDER_ID_BASE + n
    created = ORDERS_START + timedelta(minutes=n)
    first, last, city, country, country_code, locale = _PEOPLE[n % len(_PEOPLE)]
    line_items = []
    for i in range(1 + n % 3):
        title, variant_title, sku, price = _PRODUCTS[(n + i) % len(_PRODUCTS)]
        pid = PRODUCT_ID_BASE + (n + i) % len(_PRODUCTS)
        line_items.append({
            "id": f"gid://shopify/LineItem/{LINE_ITEM_ID_BASE + n * 10 + i}",
            "title": title,
            "variantTitle": variant_title,
            "sku": sku,
            "quantity": 1 + (n + i) % 2,
            "product": {"id": f"gid://shopify/Product/{pid}"},
            "variant": {"id": f"gid://shopify/ProductVariant/{pid * 10 + 1}"},
            "originalUnitPriceSet": {"shopMoney": {"amount": price, "currencyCode": "USD"}},
            "requiresShipping": True,
        })
    total = sum(float(li["originalUnitPriceSet"]["shopMoney"]["amount"]) * li["quantity"] for li in line_items)
    state = n % 4
    fulfillments = []
    if state:
        company, number_fmt, url_fmt = _CARRIERS[n % len(_CARRIERS)]
        number = number_fmt.format(n)
        shipped = created + timedelta(hours=20)
        delivered = created + timedelta(days=3) if state == 2 else None
        fulfillments.append({
            "id": f"gid://shopify/Fulfillment/{FULFILLMENT_ID_BASE + n}",
            "name": f"#{1000 + n}.1",
            "status": "SUCCESS",
            "displayStatus": {1: "IN_TRANSIT", 2: "DELIVERED", 3: "LABEL_PRINTED"}[state],
            "createdAt": _iso(shipped),
            "updatedAt": _iso(delivered or shipped + timedelta(hours=6)),
            "trackingInfo": [{"company": company, "number": number, "url": url_fmt.format(number)}],
            "estimatedDeliveryAt": _iso(created + timedelta(days=4)),
            "inTransitAt": _iso(shipped + timedelta(hours=6)) if state in (1, 2) else None,
            "deliveredAt": _iso(delivered),
            "fulfillmentLineItems": {
                "nodes": [{"id": f"gid://shopify/FulfillmentLineItem/{LINE_ITEM_ID_BASE + n * 10 + i + 5}",
                           "lineItem": {"id": li["id"]}, "quantity": li["quantity"]}
                          for i, li in enumerate(line_items)],
                "pageInfo": {"hasNextPage": False, "endCursor": None},
            },
        })
    updated = max([created + timedelta(minutes=1)] + [datetime.fromisoformat(f["updatedAt"]) for f in fulfillments])
    node = {
        "id": f"gid://shopify/Order/{oid}",
        "legacyResourceId": str(oid),
        "name": f"#{1000 + n}",
        "email": f"{first.lower()}.{last.lower()}+{n}@example.com",
        "phone": f"+1555{n:07d}" if n % 5 == 0 else None,
        "createdAt": _iso(created),
        "updatedAt": _iso(updated),
        "processedAt": _iso(created),
        "cancelledAt": None,
        "cancelReason": None,
        "closedAt": None,
        "test": False,
        "displayFinancialStatus": "PAID",
        "displayFulfillmentStatus": "UNFULFILLED" if state == 0 else "FULFILLED",
        "currencyCode": "USD",
        "totalPriceSet": {"shopMoney": {"amount": f"{total:.2f}", "currencyCode": "USD"},
                          "presentmentMoney": {"amount": f"{total:.2f}", "currencyCode": "USD"}},
        "customer": {"id": f"gid://shopify/Customer/{CUSTOMER_ID_BASE + n % 400}",
                     "firstName": first, "lastName": last},
        "customerLocale": locale,
        "shippingAddress": {"firstName": first, "lastName": last, "address1": f"{n} Main Street", "city": city,
                            "province": None, "zip": f"{10000 + n % 89999}", "country": country,
                            "countryCodeV2": country_code},
        "tags": ["vip"] if n % 10 == 0 else [],
        "lineItems": {"nodes": line_items, "pageInfo": {"hasNextPage": False, "endCursor": None}},
        "fulfillments": fulfillments,
    }
    node.update(overrides)
    return node


# ============================================================================ GraphQL reader

_TOKENS = re.compile(
    r'(?P<skip>[\s,\ufeff]+|\#[^\n\r]*)'
    r'|(?P<block>"""[\s\S]*?""")'
    r'|(?P<str>"(?:[^"\\\n]|\\.)*")'
    r'|(?P<num>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)'
    r'|(?P<name>[_A-Za-z][_0-9A-Za-z]*)'
    r'|(?P<spread>\.\.\.)'
    r'|(?P<punct>[!$&()\[\]{}:=@|])'
)


@dataclass
class _Field:
    alias: str
    name: str
    args: dict


class _Reader:
    """Just enough GraphQL: operations, variable defaults, root fields and their arguments."""

    def __init__(self, text: str, variables: dict):
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        while pos < len(text):
            m = _TOKENS.match(text, pos)
            if not m:
                raise _GraphQLError(f"Parse error on {text[pos:pos + 10]!r} at offset {pos}", "parseError")
            if m.lastgroup != "skip":
                self.tokens.append((m.lastgroup, m.group()))
            pos = m.end()
        self.i = 0
        self.variables = dict(variables)

    def peek(self) -> str | None:
        return self.tokens[self.i][1] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        if self.i >= len(self.tokens):
            raise _GraphQLError("Parse error: unexpected end of document", "parseError")
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def expect(self, value: str) -> None:
        kind, got = self.take()
        if got != value:
            raise _GraphQLError(f"Parse error on {got!r}: expected {value!r}", "parseError")

    def document(self, operation_name: str | None) -> tuple[str, list[_Field]]:
        operations = []
        while self.peek() is not None:
            if self.peek() == "{":
                operations.append(("query", None, self.selection_set(root=True)))
            elif self.peek() in ("query", "mutation", "subscription"):
                op_type = self.take()[1]
                name = self.take()[1] if self.tokens[self.i][0] == "name" else None
                if self.peek() == "(":
                    self.variable_definitions()
                self.skip_directives()
                operations.append((op_type, name, self.selection_set(root=True)))
            elif self.peek() == "fragment":
                self.take(), self.take(), self.expect("on"), self.take()
                self.skip_directives()
                self.selection_set(root=False)
            else:
                raise _GraphQLError(f"Parse error on {self.peek()!r}", "parseError")
        if not operations:
            raise _GraphQLError("No operations in document", "parseError")
        if operation_name:
            for op_type, name, fields in operations:
                if name == operation_name:
                    return op_type, fields
            raise _GraphQLError(f"No operation named {operation_name!r}")
        op_type, _, fields = operations[0]
        return op_type, fields

    def variable_definitions(self) -> None:
        self.expect("(")
        while self.peek() != ")":
            self.expect("$")
            name = self.take()[1]
            self.expect(":")
            self.type_ref()
            if self.peek() == "=":
                self.take()
                default = self.value()
                self.variables.setdefault(name, default)
            self.skip_directives()
        self.expect(")")

    def type_ref(self) -> None:
        if self.peek() == "[":
            self.take()
            self.type_ref()
            self.expect("]")
        else:
            self.take()
        if self.peek() == "!":
            self.take()

    def skip_directives(self) -> None:
        while self.peek() == "@":
            self.take(), self.take()
            if self.peek() == "(":
                self.arguments()

    def selection_set(self, root: bool) -> list[_Field]:
        self.expect("{")
        fields = []
        while self.peek() != "}":
            if self.peek() == "...":
                self.take()
                if self.peek() == "on":
                    self.take(), self.take()
                    self.skip_directives()
                    self.selection_set(root=False)
                elif self.peek() == "{":
                    self.selection_set(root=False)
                else:
                    self.take()
                    self.skip_directives()
                continue
            name = self.take()[1]
            alias = name
            if self.peek() == ":":
                self.take()
                name = self.take()[1]
            args = self.arguments() if self.peek() == "(" else {}
            self.skip_directives()
            if self.peek() == "{":
                self.selection_set(root=False)
            if root:
                fields.append(_Field(alias, name, args))
        self.expect("}")
        return fields

    def arguments(self) -> dict:
        self.expect("(")
        args = {}
        while self.peek() != ")":
            name = self.take()[1]
            self.expect(":")
            args[name] = self.value()
        self.expect(")")
        return args

    def value(self) -> Any:
        kind, tok = self.take()
        if tok == "$":
            return self.variables.get(self.take()[1])
        if kind == "num":
            return float(tok) if any(c in tok for c in ".eE") else int(tok)
        if kind == "str":
            return json.loads(tok)
        if kind == "block":
            return tok[3:-3]
        if tok == "[":
            items = []
            while self.peek() != "]":
                items.append(self.value())
            self.take()
            return items
        if tok == "{":
            obj = {}
            while self.peek() != "}":
                key = self.take()[1]
                self.expect(":")
                obj[key] = self.value()
            self.take()
            return obj
        if kind == "name":
            return {"true": True, "false": False, "null": None}.get(tok, tok)
        raise _GraphQLError(f"Parse error on {tok!r}", "parseError")


def _parse_graphql(query: str, variables: dict, operation_name: str | None = None) -> tuple[str, list[_Field]]:
    return _Reader(query, variables or {}).document(operation_name)


# ============================================================================ connections


def _encode_cursor(key: tuple) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode()


def _decode_cursor(cursor: str) -> tuple:
    try:
        return tuple(json.loads(base64.urlsafe_b64decode(cursor.encode())))
    except (ValueError, TypeError):
        raise _GraphQLError(f"Invalid cursor for current pagination sort. ({cursor!r})", "BAD_REQUEST") from None


def _connection(items: list[dict], key, args: dict, reverse: bool = False) -> dict:
    first, last = args.get("first"), args.get("last")
    if first is None and last is None:
        raise _GraphQLError("you must provide one of first or last", "BAD_REQUEST")
    if last is not None:
        raise _GraphQLError("the fake only paginates forwards (first/after)", "BAD_REQUEST")
    if not isinstance(first, int) or first < 0:
        raise _GraphQLError("Argument 'first' must be a non-negative integer", "argumentLiteralsIncompatible")
    if first > 250:
        raise _GraphQLError("The value of first exceeds the maximum of 250", "MAX_PAGE_SIZE_EXCEEDED")
    ordered = sorted(items, key=key, reverse=reverse)
    if args.get("after"):
        after = _decode_cursor(args["after"])
        ordered = [it for it in ordered if (list(key(it)) < list(after) if reverse else list(key(it)) > list(after))]
    page = ordered[:first]
    edges = [{"cursor": _encode_cursor(key(node)), "node": node} for node in page]
    return {
        "edges": edges,
        "nodes": page,
        "pageInfo": {
            "hasNextPage": len(ordered) > first,
            "hasPreviousPage": bool(args.get("after")),
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


def _gid_number(gid: str) -> int:
    try:
        return int(str(gid).rsplit("/", 1)[-1])
    except ValueError:
        return 0


_SEARCH_TERM = re.compile(r"""(-)?(\w+):(>=|<=|>|<)?('[^']*'|"[^"]*"|\S+)""")


def _order_matches(node: dict, search: str | None) -> bool:
    """A little of Shopify's search syntax: created_at/updated_at comparisons, name, email,
    tag, id, and a few status fields. Unknown terms (e.g. ``status:any``) are ignored."""
    if not search:
        return True
    for negate, fld, op, raw in _SEARCH_TERM.findall(search):
        value = raw.strip("'\"")
        if fld in ("created_at", "updated_at", "processed_at"):
            attr = {"created_at": "createdAt", "updated_at": "updatedAt", "processed_at": "processedAt"}[fld]
            try:
                have = datetime.fromisoformat(node[attr].replace("Z", "+00:00"))
                want = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except (KeyError, ValueError, AttributeError):
                continue
            if want.tzinfo is None:
                want = want.replace(tzinfo=timezone.utc)
            ok = {">": have > want, ">=": have >= want, "<": have < want, "<=": have <= want, "": have == want}[op]
        elif fld == "name":
            ok = node.get("name", "").lstrip("#") == value.lstrip("#")
        elif fld == "email":
            ok = (node.get("email") or "").lower() == value.lower()
        elif fld == "tag":
            ok = value in (node.get("tags") or [])
        elif fld == "id":
            ok = _gid_number(node["id"]) == _gid_number(value)
        elif fld == "financial_status":
            ok = (node.get("displayFinancialStatus") or "").lower() == value.lower()
        elif fld == "fulfillment_status":
            ok = (node.get("displayFulfillmentStatus") or "").lower() == value.lower()
        else:
            continue
        if bool(negate) == ok:
            return False
    return True


# ============================================================================ the server


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeout) or a connection cut by stop(): not worth a traceback.
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive (werkzeug's dev server always closes the connection, and
    Shopify keeps connections alive); each request is handed to the fake's Flask app."""

    protocol_version = "HTTP/1.1"
    fake: FakeShopify  # set on a per-fake subclass

    def setup(self) -> None:
        super().setup()
        self.fake._connections.add(self.connection)

    def finish(self) -> None:
        self.fake._connections.discard(self.connection)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = [(k, v) for k, v in self.headers.items()
                   if k.lower() not in ("content-length", "content-type", "host")]
        client = self.fake.app.test_client()
        response = client.open(self.path, method=self.command, headers=headers, data=body,
                               content_type=self.headers.get("Content-Type"),
                               environ_base={"REMOTE_ADDR": self.client_address[0],
                                             "REMOTE_PORT": self.client_address[1]})
        data = response.get_data()
        response.close()
        self.send_response(response.status_code)
        for name, value in response.headers.items():
            if name.lower() not in ("content-length", "connection", "transfer-encoding", "date", "server"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve


class FakeShopify:
    """See the module docstring. Construct via ``run_fake_shopify`` or call start()/stop()."""

    def __init__(self, api_key: str, api_secret: str, *, host: str = "127.0.0.1", port: int = 0,
                 default_scopes: str | Iterable[str] = DEFAULT_SCOPES):
        self.api_key = api_key
        self.api_secret = api_secret
        self.host = host
        self.port = port
        self.default_scopes = self._scope_str(default_scopes)
        self.access_token_ttl = 3600  # expires_in of expiring access tokens
        self.refresh_token_ttl = 7_776_000  # refresh_token_expires_in (90 days)
        self.refresh_grace_seconds = 0.0  # a used refresh token keeps working this long
        self.bucket_maximum = 2000
        self.restore_rate = 100
        self.enforce_bucket = False  # True: THROTTLED for real when the bucket runs dry
        self.requests: list[Recorded] = []
        self.server_errors: list[str] = []  # tracebacks of bugs in the fake itself
        self._lock = threading.RLock()
        self._shops: dict[str, _ShopState] = {}
        self._tokens: dict[str, _Token] = {}
        self._refresh: dict[str, _Refresh] = {}
        self._faults: list[_Fault] = []
        self._next_id = 1_000_000
        self._connections: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._server = None
        self._thread: threading.Thread | None = None
        self.app = self._make_app()

    # ------------------------------------------------------------------ lifecycle

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The value for SHOPIFY_BASE_URL."""
        return f"{self.root_url}/shops/{{shop}}"

    def shop_url(self, shop: str) -> str:
        return self.base_url.format(shop=shop)

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> FakeShopify:
        """Serve (again): the first start picks a free port, later ones reuse it."""
        if self._server is not None:
            return self
        handler = type("FakeShopifyHandler", (_Handler,), {"fake": self})
        self._stopping.clear()
        self._server = _Server((self.host, self.port), handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name=f"fake-shopify:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving: new connections are refused and open ones are cut. State is kept."""
        if self._server is None:
            return
        self._stopping.set()  # wakes slow_next sleepers
        self._server.shutdown()
        self._server.server_close()
        for conn in list(self._connections):
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(5)
        self._server = None
        self._thread = None

    close = stop

    def __enter__(self) -> FakeShopify:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # ------------------------------------------------------------------ shops, tokens, codes

    @staticmethod
    def _scope_str(scopes: str | Iterable[str] | None) -> str | None:
        if scopes is None:
            return None
        if isinstance(scopes, str):
            parts = scopes.split(",")
        else:
            parts = list(scopes)
        return ",".join(s.strip() for s in parts if s.strip())

    def _shop(self, shop: str) -> _ShopState:
        with self._lock:
            if shop not in self._shops:
                name = shop.split(".")[0].replace("-", " ").title()
                self._shops[shop] = _ShopState(
                    domain=shop,
                    info={"id": f"gid://shopify/Shop/{60_000_000 + len(self._shops)}", "name": name,
                          "email": f"owner@{shop.split('.')[0]}.example", "myshopifyDomain": shop,
                          "primaryDomain": {"host": shop, "url": f"https://{shop}"}, "currencyCode": "USD", "ianaTimezone": "America/New_York",
                          "contactEmail": f"support@{shop.split('.')[0]}.example"})
            return self._shops[shop]

    def set_granted_scopes(self, shop: str, scopes: str | Iterable[str]) -> None:
        """What the merchant grants this shop's installs (may be fewer than requested)."""
        with self._lock:
            self._shop(shop).granted_scopes = self._scope_str(scopes)

    def granted_scopes(self, shop: str) -> str:
        with self._lock:
            return self._shop(shop).granted_scopes or self.default_scopes

    def set_shop_info(self, shop: str, **fields: Any) -> None:
        """Fields of the ``shop`` query (name, email, myshopifyDomain, currencyCode, …)."""
        with self._lock:
            self._shop(shop).info.update(fields)

    def issue_code(self, shop: str, scopes: str | Iterable[str] | None = None) -> str:
        """An authorization code, single use, granting ``scopes`` (default: the shop's granted scopes)."""
        code = secrets.token_hex(16)
        with self._lock:
            self._shop(shop).codes[code] = self._scope_str(scopes) or self.granted_scopes(shop)
        return code

    def issue_token(self, shop: str, scopes: str | Iterable[str] | None = None, *,
                    expires_in: float | None = None, token: str | None = None) -> str:
        """A live access token, without going through OAuth. ``token`` makes a given string
        live (e.g. the one a fixture stored for an installed shop)."""
        with self._lock:
            scope = self._scope_str(scopes) or self.granted_scopes(shop)
            if token is not None:
                self._tokens[token] = _Token(shop, scope, None if expires_in is None else time.time() + expires_in)
                return token
            return self._new_access_token(shop, scope, expires_in)

    def revoke_tokens(self, shop: str) -> None:
        """Every access and refresh token of the shop stops working (an uninstall)."""
        with self._lock:
            for tok in self._tokens.values():
                if tok.shop == shop:
                    tok.revoked = True
            for key in [k for k, r in self._refresh.items() if r.shop == shop]:
                del self._refresh[key]

    def revoke_token(self, token: str) -> None:
        with self._lock:
            if token in self._tokens:
                self._tokens[token].revoked = True

    def expire_token(self, token: str) -> None:
        """Make an access token (or a refresh token) expired now."""
        with self._lock:
            if token in self._tokens:
                self._tokens[token].expires_at = time.time() - 1
            if token in self._refresh:
                self._refresh[token].expires_at = time.time() - 1

    def token_live(self, shop: str, token: str) -> bool:
        with self._lock:
            tok = self._tokens.get(token)
            return bool(tok and tok.live(shop))

    def live_tokens(self, shop: str) -> list[str]:
        with self._lock:
            return [t for t, info in self._tokens.items() if info.live(shop)]

    def session_token(self, shop: str, *, secret: str | None = None, **claims: Any) -> str:
        """A session token for ``shop`` signed with the fake's secret (or ``secret``)."""
        return make_session_token(self.api_key, secret or self.api_secret, shop, **claims)

    def _new_access_token(self, shop: str, scope: str, expires_in: float | None, kind: str = "offline") -> str:
        token = "shpat_" + secrets.token_hex(16) if kind == "offline" else "shpua_" + secrets.token_hex(16)
        self._tokens[token] = _Token(shop, scope, None if expires_in is None else time.time() + expires_in, kind)
        return token

    def _grant(self, shop: str, scope: str, expiring: bool) -> dict:
        if not expiring:
            return {"access_token": self._new_access_token(shop, scope, None), "scope": scope}
        refresh = "shprt_" + secrets.token_hex(16)
        self._refresh[refresh] = _Refresh(shop, scope, time.time() + self.refresh_token_ttl)
        return {
            "access_token": self._new_access_token(shop, scope, self.access_token_ttl),
            "scope": scope,
            "expires_in": self.access_token_ttl,
            "refresh_token": refresh,
            "refresh_token_expires_in": self.refresh_token_ttl,
        }

    # ------------------------------------------------------------------ orders and webhooks

    make_order_node = staticmethod(make_order_node)
    order_gid = staticmethod(order_gid)

    def seed_orders(self, shop: str, orders: Iterable[dict]) -> None:
        """Add orders (GraphQL-shaped nodes); a node with an existing id replaces it."""
        with self._lock:
            state = self._shop(shop)
            for node in orders:
                state.orders[node["id"]] = copy.deepcopy(node)

    def orders(self, shop: str) -> list[dict]:
        with self._lock:
            return copy.deepcopy(sorted(self._shop(shop).orders.values(), key=lambda o: _gid_number(o["id"])))

    def update_order(self, shop: str, gid: str, **changes: Any) -> dict:
        """Change top-level fields of a seeded order; bumps updatedAt unless given."""
        with self._lock:
            node = self._shop(shop).orders[gid]
            node.update(changes)
            if "updatedAt" not in changes:
                node["updatedAt"] = _iso(datetime.now(timezone.utc))
            return copy.deepcopy(node)

    def returns(self, shop: str) -> list[dict]:
        """The shop's returns (see tests/fake_returns.py), oldest first."""
        with self._lock:
            return copy.deepcopy(sorted(self._shop(shop).returns.values(), key=lambda r: _gid_number(r["id"])))

    def refunds(self, shop: str) -> list[dict]:
        """Every refund made on the shop's returns (``returnProcess`` with a refund), oldest first."""
        with self._lock:
            return copy.deepcopy([refund for r in sorted(self._shop(shop).returns.values(),
                                                         key=lambda r: _gid_number(r["id"]))
                                  for refund in r.get("refunds", [])])

    def set_return_status(self, shop: str, gid: str, status: str) -> None:
        """What a merchant does in Shopify's own admin (approve, decline, close…)."""
        with self._lock:
            self._shop(shop).returns[gid]["status"] = status

    def delete_orders(self, shop: str) -> None:
        with self._lock:
            self._shop(shop).orders.clear()

    def add_webhook_subscription(self, shop: str, topic: str, callback_url: str) -> dict:
        """Seed an existing subscription (``topic`` in enum form, e.g. ORDERS_CREATE)."""
        with self._lock:
            return copy.deepcopy(self._create_webhook(self._shop(shop), topic, callback_url))

    def webhook_subscriptions(self, shop: str) -> list[dict]:
        with self._lock:
            return copy.deepcopy(self._shop(shop).webhooks)

    def _create_webhook(self, state: _ShopState, topic: str, uri: str) -> dict:
        self._next_id += 1
        now = _iso(datetime.now(timezone.utc))
        sub = {
            "id": f"gid://shopify/WebhookSubscription/{self._next_id}",
            "topic": topic,
            "format": "JSON",
            "uri": uri,
            "callbackUrl": uri,
            "endpoint": {"__typename": "WebhookHttpEndpoint", "callbackUrl": uri},
            "includeFields": [],
            "filter": None,
            "createdAt": now,
            "updatedAt": now,
        }
        state.webhooks.append(sub)
        return sub

    # ------------------------------------------------------------------ fault knobs

    def throttle_next(self, n: int = 1, mode: str = "graphql", retry_after: float = 0.05, *,
                      currently_available: int | None = None) -> None:
        """The next n GraphQL calls are throttled: mode "graphql" answers 200 with
        ``errors[].extensions.code == "THROTTLED"`` and a low ``currentlyAvailable``
        (``currently_available``, default 10); mode "http429" answers 429 with
        ``Retry-After: <retry_after>``."""
        if mode not in ("graphql", "http429"):
            raise ValueError("mode must be 'graphql' or 'http429'")
        self._add_fault(_Fault("throttle", n, "graphql", mode=mode, retry_after=retry_after,
                               currently_available=currently_available))

    def fail_next(self, n: int = 1, status: int = 500, *, endpoint: str = "any") -> None:
        """The next n requests (to ``endpoint``) answer ``status`` with a JSON error body."""
        self._add_fault(_Fault("fail", n, endpoint, status=status))

    def garbage_next(self, n: int = 1, *, endpoint: str = "any") -> None:
        """The next n requests answer 200 with an HTML (non-JSON) body."""
        self._add_fault(_Fault("garbage", n, endpoint))

    def lose_answer_next(self, n: int = 1, status: int = 502, *, operation: str | None = None) -> None:
        """The next n GraphQL requests (with root field ``operation``, if given) are
        carried out, then answered ``status`` instead: Shopify did it, the app never
        hears so (a proxy timing out, a connection cut after the commit)."""
        self._add_fault(_Fault("lose", n, "graphql", status=status, operation=operation))

    def slow_next(self, n: int = 1, seconds: float = 1.0, *, endpoint: str = "any") -> None:
        """The next n requests wait ``seconds`` before being handled normally."""
        self._add_fault(_Fault("slow", n, endpoint, seconds=seconds))

    def reset(self) -> None:
        """Forget everything: shops, orders, subscriptions, codes, tokens, faults, records
        (for a fake shared by many tests). Settings such as ``access_token_ttl`` stay."""
        with self._lock:
            self._shops.clear()
            self._tokens.clear()
            self._refresh.clear()
            self._faults.clear()
            self.requests.clear()
            self.server_errors.clear()

    def reset_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending_faults(self) -> int:
        with self._lock:
            return sum(f.remaining for f in self._faults)

    def _add_fault(self, fault: _Fault) -> None:
        if fault.endpoint not in ("any", "graphql", "token"):
            raise ValueError("endpoint must be 'any', 'graphql' or 'token'")
        with self._lock:
            self._faults.append(fault)

    def _take_fault(self, endpoint: str, operations: list[str] | None = None) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(endpoint, operations):
                    fault.remaining -= 1
                    self._faults = [f for f in self._faults if f.remaining > 0]
                    return fault
        return None

    # ------------------------------------------------------------------ records

    def calls(self, path_contains: str | None = None, *, shop: str | None = None, endpoint: str | None = None,
              operation: str | None = None) -> list[Recorded]:
        """Recorded requests filtered by path substring, shop, endpoint ("token"/"graphql") or GraphQL root field."""
        with self._lock:
            found = list(self.requests)
        return [r for r in found
                if (path_contains is None or path_contains in r.path)
                and (shop is None or r.shop == shop)
                and (endpoint is None or r.endpoint == endpoint)
                and (operation is None or operation in r.operations)]

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    # ------------------------------------------------------------------ HTTP

    def _make_app(self) -> Flask:
        app = Flask("fake_shopify")
        fake = self

        @app.post("/shops/<shop>/admin/oauth/access_token")
        def access_token(shop: str):
            rec = fake._record("token", shop)
            return fake._respond(rec, lambda: fake._token_endpoint(shop, rec))

        @app.post("/shops/<shop>/admin/api/<version>/graphql.json")
        def graphql(shop: str, version: str):
            rec = fake._record("graphql", shop, version)
            return fake._respond(rec, lambda: fake._graphql_endpoint(shop, version, rec))

        @app.route("/", defaults={"path": ""}, methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
        @app.route("/<path:path>", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
        def not_found(path: str):
            m = re.match(r"shops/([^/]+)/", path)
            rec = fake._record("other", m.group(1) if m else None)
            return fake._respond(rec, lambda: fake._json({"errors": "Not Found"}, 404))

        return app

    def _record(self, endpoint: str, shop: str | None, version: str | None = None) -> Recorded:
        body = request.get_data(cache=True)
        form = request.form.to_dict() if request.mimetype == "application/x-www-form-urlencoded" else None
        try:
            parsed = json.loads(body) if body and request.mimetype == "application/json" else None
        except ValueError:
            parsed = None
        rec = Recorded(method=request.method, path=request.path, shop=shop, endpoint=endpoint,
                       headers=CaseInsensitiveDict(dict(request.headers)), form=form, json=parsed, body=body,
                       api_version=version, client_port=request.environ.get("REMOTE_PORT"))
        if endpoint == "graphql" and isinstance(parsed, dict):
            rec.query = parsed.get("query") if isinstance(parsed.get("query"), str) else None
            rec.variables = parsed.get("variables") if isinstance(parsed.get("variables"), dict) else {}
            if rec.query:
                try:
                    _, fields = _parse_graphql(rec.query, rec.variables, parsed.get("operationName"))
                    rec.operations = [f.name for f in fields]
                except _GraphQLError:
                    pass
        with self._lock:
            self.requests.append(rec)
        return rec

    @staticmethod
    def _json(payload: Any, status: int = 200, headers: dict | None = None) -> Response:
        return Response(json.dumps(payload), status=status, mimetype="application/json", headers=headers)

    def _respond(self, rec: Recorded, handle) -> Response:
        fault = self._take_fault(rec.endpoint, rec.operations) if rec.endpoint in ("graphql", "token") else None
        try:
            if fault is not None and fault.kind == "lose":
                handle()  # done, and the answer lost
                rec.fault = "lost"
                response = self._json({"errors": "Bad Gateway"}, fault.status)
            elif fault is not None and fault.kind != "slow":
                response = self._fault_response(fault, rec)
            else:
                if fault is not None:
                    rec.fault = "slow"
                    self._stopping.wait(fault.seconds)
                response = handle()
        except Exception:  # a bug in the fake: make it visible
            self.server_errors.append(traceback.format_exc())
            response = self._json({"errors": "fake Shopify crashed; see fake.server_errors"}, 500)
        rec.status = response.status_code
        return response

    def _fault_response(self, fault: _Fault, rec: Recorded) -> Response:
        if fault.kind == "fail":
            rec.fault = "fail"
            return self._json({"errors": "Internal Server Error"} if fault.status >= 500
                              else {"errors": f"fake failure {fault.status}"}, fault.status)
        if fault.kind == "garbage":
            rec.fault = "garbage"
            return Response("<html><body><h1>502 Bad Gateway</h1>nginx</body></html>", status=200, mimetype="text/html")
        if fault.mode == "http429":
            rec.fault = "http429"
            return self._json({"errors": "Exceeded 2 calls per second for api client. "
                                         "Reduce request rates to resume uninterrupted service."},
                              429, headers={"Retry-After": f"{fault.retry_after:g}"})
        rec.fault = "throttled"
        requested = self._requested_cost(rec)
        available = 10 if fault.currently_available is None else fault.currently_available
        return self._json(self._throttled_body(requested, available))

    def _throttled_body(self, requested: int, available: float) -> dict:
        return {
            "errors": [{"message": "Throttled", "extensions": {
                "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
            "extensions": {"cost": {"requestedQueryCost": requested, "actualQueryCost": None,
                                    "throttleStatus": {"maximumAvailable": float(self.bucket_maximum),
                                                       "currentlyAvailable": int(available),
                                                       "restoreRate": float(self.restore_rate)}}},
        }

    # ------------------------------------------------------------------ token endpoint

    def _token_endpoint(self, shop: str, rec: Recorded) -> Response:
        params = {k: ("" if v is None else str(v)) for k, v in rec.params.items()}
        if params.get("client_id") != self.api_key or not hmac.compare_digest(
                params.get("client_secret", "").encode(), self.api_secret.encode()):
            return self._json({"error": "invalid_client", "error_description":
                               "Client authentication failed: unknown client_id or wrong client_secret"}, 401)
        expiring = params.get("expiring", "0").lower() in ("1", "true")
        grant_type = params.get("grant_type") or ("authorization_code" if "code" in params else "")
        with self._lock:
            state = self._shop(shop)
            if grant_type == "authorization_code":
                scope = state.codes.pop(params.get("code", ""), None)
                if scope is None:
                    return self._json({"error": "invalid_request",
                                       "error_description": "The authorization code was not found or was already used"},
                                      400)
                return self._json(self._grant(shop, scope, expiring))
            if grant_type == "refresh_token":
                old = self._refresh.get(params.get("refresh_token", ""))
                now = time.time()
                if (old is None or old.shop != shop or old.expires_at <= now
                        or (old.used_at is not None and now - old.used_at > self.refresh_grace_seconds)):
                    return self._json({"error": "invalid_grant",
                                       "error_description": "The refresh token is invalid, expired or already used"},
                                      400)
                old.used_at = old.used_at or now
                return self._json(self._grant(shop, old.scope, True))
            if grant_type == TOKEN_EXCHANGE:
                return self._token_exchange(shop, params, expiring)
        return self._json({"error": "unsupported_grant_type"}, 400)

    def _token_exchange(self, shop: str, params: dict, expiring: bool) -> Response:
        subject, subject_type = params.get("subject_token", ""), params.get("subject_token_type", "")
        requested = params.get("requested_token_type") or OFFLINE_TOKEN
        invalid = self._json({"error": "invalid_subject_token",
                              "error_description": "The subject token is invalid or expired"}, 400)
        if subject_type == OFFLINE_TOKEN:  # migrate a non-expiring offline token to an expiring one
            old = self._tokens.get(subject)
            if old is None or not old.live(shop) or old.expires_at is not None:
                return invalid
            old.revoked = True
            return self._json(self._grant(shop, old.scope, True))
        if subject_type != ID_TOKEN or not _verify_session_token(subject, self.api_key, self.api_secret, shop):
            return invalid
        scope = self.granted_scopes(shop)
        if requested == ONLINE_TOKEN:
            token = self._new_access_token(shop, scope, 86399, kind="online")
            return self._json({"access_token": token, "scope": scope, "expires_in": 86399,
                               "associated_user_scope": scope,
                               "associated_user": {"id": 902541635, "first_name": "John", "last_name": "Smith",
                                                   "email": "john@example.com", "email_verified": True,
                                                   "account_owner": True, "locale": "en", "collaborator": False}})
        if requested != OFFLINE_TOKEN:
            return self._json({"error": "invalid_request", "error_description": "unknown requested_token_type"}, 400)
        return self._json(self._grant(shop, scope, expiring))

    # ------------------------------------------------------------------ GraphQL endpoint

    def _requested_cost(self, rec: Recorded) -> int:
        if not rec.query:
            return 1
        try:
            _, fields = _parse_graphql(rec.query, rec.variables or {})
        except _GraphQLError:
            return 1
        cost = 0
        for f in fields:
            if f.name in _MUTATION_FIELDS:
                cost += 10
            elif f.name in ("orders", "webhookSubscriptions"):
                first = f.args.get("first") if isinstance(f.args.get("first"), int) else 0
                cost += 2 + first * (3 if f.name == "orders" else 1)
            else:
                cost += 1
        return max(cost, 1)

    def _graphql_endpoint(self, shop: str, version: str, rec: Recorded) -> Response:
        if not _VERSION.match(version):
            return self._json({"errors": "Not Found"}, 404)
        token = rec.headers.get("X-Shopify-Access-Token", "")
        if not self.token_live(shop, token):
            return self._json({"errors": INVALID_TOKEN_MESSAGE}, 401)
        payload = rec.json
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str) or not payload["query"].strip():
            return self._json({"errors": {"query": "Required parameter missing or invalid"}}, 400)
        requested = self._requested_cost(rec)
        with self._lock:
            state = self._shop(shop)
            now = time.time()
            if state.bucket is None:
                state.bucket = float(self.bucket_maximum)
            state.bucket = min(float(self.bucket_maximum), state.bucket + (now - state.bucket_at) * self.restore_rate)
            state.bucket_at = now
            if self.enforce_bucket and requested > state.bucket:
                rec.fault = "throttled"
                return self._json(self._throttled_body(requested, state.bucket))
            try:
                op_type, fields = _parse_graphql(payload["query"], rec.variables or {}, payload.get("operationName"))
                data = {}
                for f in fields:
                    data[f.alias] = self._resolve(state, op_type, f)
                body: dict = {"data": data}
            except _GraphQLError as exc:
                err: dict = {"message": exc.message}
                if exc.code:
                    err["extensions"] = {"code": exc.code}
                body = {"errors": [err]}
            actual = requested if "data" in body else 0
            state.bucket = max(0.0, state.bucket - actual)
            body["extensions"] = {"cost": {
                "requestedQueryCost": requested, "actualQueryCost": actual,
                "throttleStatus": {"maximumAvailable": float(self.bucket_maximum),
                                   "currentlyAvailable": int(state.bucket),
                                   "restoreRate": float(self.restore_rate)}}}
            return self._json(body)

    def _resolve(self, state: _ShopState, op_type: str, f: _Field) -> Any:
        allowed = _MUTATION_FIELDS if op_type == "mutation" else _QUERY_FIELDS
        if f.name not in allowed:
            root = "Mutation" if op_type == "mutation" else "QueryRoot"
            raise _GraphQLError(f"Field '{f.name}' doesn't exist on type '{root}'", "undefinedField")
        if f.name == "shop":
            return copy.deepcopy(state.info)
        if f.name == "order":
            node = state.orders.get(str(f.args.get("id")))
            return copy.deepcopy(node)
        if f.name == "orders":
            sort_key = str(f.args.get("sortKey") or "ID")
            attr = {"CREATED_AT": "createdAt", "UPDATED_AT": "updatedAt", "PROCESSED_AT": "processedAt"}.get(sort_key)
            if attr:
                def key(o: dict, attr: str = attr) -> tuple:
                    return (o.get(attr) or "", _gid_number(o["id"]))
            else:
                def key(o: dict) -> tuple:
                    return (_gid_number(o["id"]),)
            items = [o for o in state.orders.values() if _order_matches(o, f.args.get("query"))]
            return copy.deepcopy(_connection(items, key, f.args, bool(f.args.get("reverse"))))
        if f.name == "ordersCount":
            count = sum(1 for o in state.orders.values() if _order_matches(o, f.args.get("query")))
            return {"count": count, "precision": "EXACT"}
        if f.name == "webhookSubscriptions":
            topics = f.args.get("topics")
            uri = f.args.get("uri") or f.args.get("callbackUrl")
            items = [w for w in state.webhooks
                     if (not topics or w["topic"] in topics) and (not uri or w["uri"] == uri)]
            return copy.deepcopy(_connection(items, lambda w: (_gid_number(w["id"]),), f.args))
        if f.name == "webhookSubscriptionCreate":
            return self._webhook_create(state, f.args)
        if f.name == "webhookSubscriptionDelete":
            sub_id = str(f.args.get("id"))
            before = len(state.webhooks)
            state.webhooks = [w for w in state.webhooks if w["id"] != sub_id]
            if len(state.webhooks) == before:
                return {"deletedWebhookSubscriptionId": None,
                        "userErrors": [{"field": ["id"], "message": "Webhook subscription does not exist"}]}
            return {"deletedWebhookSubscriptionId": sub_id, "userErrors": []}
        if f.name in fake_returns.QUERY_FIELDS | fake_returns.MUTATION_FIELDS:
            try:
                return fake_returns.resolve(f.name, state.orders, state.returns, f.args,
                                            connection=_connection, next_id=self._new_id)
            except fake_returns.InvalidVariable as exc:
                raise _GraphQLError(str(exc), "INVALID_VARIABLE") from None
        raise AssertionError(f.name)

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _webhook_create(self, state: _ShopState, args: dict) -> dict:
        topic = args.get("topic")
        if topic not in WEBHOOK_TOPICS:
            raise _GraphQLError("Variable $topic of type WebhookSubscriptionTopic! was provided invalid value "
                                f"({topic!r})",
                                "INVALID_VARIABLE")
        sub_input = args.get("webhookSubscription")
        if not isinstance(sub_input, dict):
            raise _GraphQLError("Variable $webhookSubscription of type WebhookSubscriptionInput! "
                                "was provided invalid value",
                                "INVALID_VARIABLE")
        uri = sub_input.get("uri") or sub_input.get("callbackUrl")
        fmt = sub_input.get("format", "JSON")
        errors = []
        if not uri:
            errors.append({"field": ["webhookSubscription", "callbackUrl"], "message": "Address can't be blank"})
        elif urlsplit(str(uri)).scheme not in ("http", "https"):
            errors.append({"field": ["webhookSubscription", "callbackUrl"], "message": "Address is invalid"})
        elif any(w["topic"] == topic and w["uri"] == uri for w in state.webhooks):
            errors.append({"field": ["webhookSubscription", "callbackUrl"],
                           "message": "Address for this topic has already been taken"})
        if fmt not in ("JSON", "XML"):
            errors.append({"field": ["webhookSubscription", "format"], "message": "Format is invalid"})
        if errors:
            return {"webhookSubscription": None, "userErrors": errors}
        sub = self._create_webhook(state, topic, str(uri))
        sub["format"] = fmt
        return {"webhookSubscription": copy.deepcopy(sub), "userErrors": []}


@contextmanager
def run_fake_shopify(api_key: str, api_secret: str, **kwargs: Any) -> Iterator[FakeShopify]:
    """Start a fake Shopify on 127.0.0.1 (a free port) and stop it afterwards."""
    fake = FakeShopify(api_key, api_secret, **kwargs)
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()
