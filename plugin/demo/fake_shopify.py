"""A stand-in for Shopify's Admin GraphQL API, for `aftercare demo` only.

The demo shop does not exist on Shopify, so the demo starts this on
127.0.0.1 (a free port, in a thread) and points its ``SHOPIFY_BASE_URL`` at
it: the returns worker then takes a return all the way (requested, approved
or declined, refunded, closed) over real HTTP, through the real client.

It is deliberately small: state in memory, one lock, and each request
answered by its operation name (``AftercareReturnApprove`` ...), not by a
GraphQL engine. It knows only the operations the app sends: the returns
queries and mutations of returns/sync.py (``returnProcess`` included), the
webhook subscriptions made at install, and the anonymous ``shop`` query. Any
other operation is a GraphQL error naming it, so a new call the demo needs
shows up at once rather than as a silent wrong answer.

Its orders are registered by the demo (``add_order``): the scenario's, as
shipped, and the history's. Only ``run.py`` (which starts it) and
``install.py`` (which stocks it) import it.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from .samples import DEMO_SHOP_SHOPIFY_ID, SampleOrder
from .scenario import DEMO_SHOP

SHOP_NAME = "Aftercare Demo Store"
SHOP_EMAIL = "owner@aftercare-demo.example"
_OPERATION = re.compile(r"^\s*(query|mutation)\s+(\w+)")
_ANONYMOUS_SHOP = re.compile(r"^\s*(query\s*)?\{\s*shop\s*\{")
_PATH = re.compile(r"^/shops/(?P<shop>[^/]+)/admin/api/[^/]+/graphql\.json$")


@dataclass
class Line:
    """A line item of an order as the stand-in sells it."""
    id: int
    quantity: int
    price: Decimal


@dataclass
class DemoOrder:
    id: int
    name: str
    currency: str
    lines: list[Line]
    total: Decimal
    fulfillment_id: int | None  # None: not shipped, nothing returnable

    @property
    def gid(self) -> str:
        return f"gid://shopify/Order/{self.id}"

    @property
    def sale_gid(self) -> str:
        return f"gid://shopify/OrderTransaction/{self.id}1"


@dataclass
class DemoReturn:
    id: int
    order: DemoOrder
    status: str = "REQUESTED"
    lines: list[dict] = field(default_factory=list)  # {id, line_item_id, quantity, processed}
    refunds: list[dict] = field(default_factory=list)  # {id, createdAt, amount}

    @property
    def gid(self) -> str:
        return f"gid://shopify/Return/{self.id}"


def _user_error(message: str, *fields: str) -> dict:
    return {"return": None, "userErrors": [{"field": list(fields), "message": message}]}


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


class DemoShopify:
    """The stand-in's state and its answers; ``start()`` serves it over HTTP."""

    def __init__(self, access_token: str):
        self.access_token = access_token
        self.orders: dict[str, DemoOrder] = {}
        self.returns: dict[str, DemoReturn] = {}
        self.subscriptions: list[dict] = []
        self._ids = iter(range(900_000_001, 10**15))
        self._lock = threading.Lock()
        self._server = None
        self._thread: threading.Thread | None = None
        # Operation name → answer (the anonymous shop query as "shop"); anything else is an error.
        self.operations = {
            "shop": self._shop,
            "AftercareWebhookSubscriptions": self._subscriptions,
            "AftercareWebhookSubscriptionCreate": self._subscribe,
            "AftercareReturnableFulfillments": self._returnable_fulfillments,
            "AftercareReturnRequest": self._return_request,
            "AftercareReturnApprove": self._approve,
            "AftercareReturnDecline": self._decline,
            "AftercareReturnClose": self._close,
            "AftercareReturnForRefund": self._return_for_refund,
            "AftercareReturnRefundSuggestion": self._refund_suggestion,
            "AftercareReturnProcess": self._process,
        }

    # ----------------------------------------------------------------- orders

    def add_order(self, order: DemoOrder) -> None:
        with self._lock:
            self.orders[order.gid] = order

    def add_sample(self, sample: SampleOrder, *, shipped: bool) -> None:
        """One of the scenario's orders, in the state the scenario ends in."""
        lines = [Line(sample.line_item_id(i), item.quantity, item.price) for i, item in enumerate(sample.items)]
        subtotal = sum((line.price * line.quantity for line in lines), Decimal(0))
        total = subtotal + sample.shipping + (subtotal * sample.tax_rate).quantize(Decimal("0.01"))
        self.add_order(DemoOrder(sample.id, sample.name, sample.customer.currency, lines, total,
                                 sample.fulfillment_id if shipped else None))

    def return_status(self, return_id: int) -> str | None:
        """Shopify's status of a return, as this stand-in reports it."""
        ret = self.returns.get(f"gid://shopify/Return/{return_id}")
        return ret.status if ret else None

    # ----------------------------------------------------------------- serving

    @property
    def base_url_template(self) -> str:
        """The value for SHOPIFY_BASE_URL."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/shops/{{shop}}"

    def start(self) -> DemoShopify:
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="aftercare-demo-shopify", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _wsgi(self, environ, start_response):
        request = Request(environ)
        match = _PATH.match(request.path)
        if request.method != "POST" or match is None:
            response = Response(json.dumps({"errors": "Not Found"}), 404, content_type="application/json")
        elif match["shop"] != DEMO_SHOP or request.headers.get("X-Shopify-Access-Token") != self.access_token:
            response = Response(json.dumps({"errors": "[API] Invalid API key or access token"}), 401,
                                content_type="application/json")
        else:
            try:
                body = request.get_json(force=True)
                query, variables = body["query"], body.get("variables") or {}
            except (ValueError, TypeError, KeyError):
                body = {"errors": [{"message": "the body is not a GraphQL request"}]}
            else:
                with self._lock:
                    body = self.answer(query, variables)
            response = Response(json.dumps(body), 200, content_type="application/json")
        return response(environ, start_response)

    # ----------------------------------------------------------------- GraphQL

    def answer(self, query: str, variables: dict) -> dict:
        """The response body for one GraphQL request."""
        match = _OPERATION.match(query)
        name = match.group(2) if match else ("shop" if _ANONYMOUS_SHOP.match(query) else None)
        handler = self.operations.get(name) if name else None
        if handler is None:
            return {"errors": [{"message": f"the demo's stand-in Shopify does not answer {name or 'this query'}"}]}
        return {"data": handler(variables)}

    def _shop(self, _variables: dict) -> dict:
        return {"shop": {"id": f"gid://shopify/Shop/{DEMO_SHOP_SHOPIFY_ID}", "name": SHOP_NAME, "email": SHOP_EMAIL}}

    def _subscriptions(self, _variables: dict) -> dict:
        return {"webhookSubscriptions": {"nodes": list(self.subscriptions),
                                         "pageInfo": {"hasNextPage": False, "endCursor": None}}}

    def _subscribe(self, variables: dict) -> dict:
        made = {"id": f"gid://shopify/WebhookSubscription/{next(self._ids)}", "topic": variables.get("topic"),
                "endpoint": {"__typename": "WebhookHttpEndpoint",
                             "callbackUrl": (variables.get("webhookSubscription") or {}).get("callbackUrl")}}
        self.subscriptions.append(made)
        return {"webhookSubscriptionCreate": {"webhookSubscription": {"id": made["id"], "topic": made["topic"]},
                                              "userErrors": []}}

    def _in_returns(self, order: DemoOrder, line_item_id: int) -> int:
        return sum(line["quantity"] for r in self.returns.values()
                   if r.order is order and r.status not in ("DECLINED", "CANCELED")
                   for line in r.lines if line["line_item_id"] == line_item_id)

    def _returnable_fulfillments(self, variables: dict) -> dict:
        order = self.orders.get(str(variables.get("orderId")))
        nodes = []
        if order is not None and order.fulfillment_id is not None:
            items = [{"quantity": line.quantity - self._in_returns(order, line.id),
                      "fulfillmentLineItem": {"id": f"gid://shopify/FulfillmentLineItem/{line.id}",
                                              "lineItem": {"id": f"gid://shopify/LineItem/{line.id}"}}}
                     for line in order.lines]
            nodes.append({"id": f"gid://shopify/Fulfillment/{order.fulfillment_id}",
                          "returnableFulfillmentLineItems": {"nodes": [i for i in items if i["quantity"] > 0]}})
        return {"returnableFulfillments": {"nodes": nodes, "pageInfo": {"hasNextPage": False, "endCursor": None}}}

    def _return_request(self, variables: dict) -> dict:
        data = variables.get("input") or {}
        order = self.orders.get(str(data.get("orderId")))
        if order is None:
            return {"returnRequest": _user_error("Order does not exist.", "input", "orderId")}
        ret = DemoReturn(next(self._ids), order)
        for i, wanted in enumerate(data.get("returnLineItems") or []):
            line_id = str(wanted.get("fulfillmentLineItemId")).rsplit("/", 1)[-1]
            line = next((line for line in order.lines if str(line.id) == line_id), None)
            quantity = wanted.get("quantity")
            if line is None or order.fulfillment_id is None:
                return {"returnRequest": _user_error("Fulfillment line item does not exist.",
                                                     "input", "returnLineItems", str(i), "fulfillmentLineItemId")}
            if not isinstance(quantity, int) or not 0 < quantity <= line.quantity - self._in_returns(order, line.id):
                return {"returnRequest": _user_error("Quantity is more than can be returned.",
                                                     "input", "returnLineItems", str(i), "quantity")}
            ret.lines.append({"id": f"gid://shopify/ReturnLineItem/{next(self._ids)}", "line_item_id": line.id,
                              "quantity": quantity, "processed": 0})
        if not ret.lines:
            return {"returnRequest": _user_error("A return needs at least one item.", "input", "returnLineItems")}
        self.returns[ret.gid] = ret
        return {"returnRequest": {"return": {"id": ret.gid, "status": ret.status}, "userErrors": []}}

    def _move(self, field: str, return_id: object, allowed: str, to: str) -> dict:
        ret = self.returns.get(str(return_id))
        if ret is None:
            return {field: _user_error("Return does not exist.", "id")}
        if ret.status != allowed:
            return {field: _user_error(f"Return is {ret.status}; it must be {allowed}.", "id")}
        ret.status = to
        return {field: {"return": {"id": ret.gid, "status": ret.status}, "userErrors": []}}

    def _approve(self, variables: dict) -> dict:
        return self._move("returnApproveRequest", (variables.get("input") or {}).get("id"), "REQUESTED", "OPEN")

    def _decline(self, variables: dict) -> dict:
        return self._move("returnDeclineRequest", (variables.get("input") or {}).get("id"), "REQUESTED", "DECLINED")

    def _close(self, variables: dict) -> dict:
        return self._move("returnClose", variables.get("id"), "OPEN", "CLOSED")

    # --- refunds (returnProcess, as returns/sync.py sends it) -----------------

    def _view(self, ret: DemoReturn) -> dict:
        return {"id": ret.gid, "status": ret.status,
                "returnLineItems": {"nodes": [{"id": line["id"], "quantity": line["quantity"],
                                               "processedQuantity": line["processed"],
                                               "processableQuantity": line["quantity"] - line["processed"]}
                                              for line in ret.lines]},
                "refunds": {"nodes": [{"id": r["id"], "createdAt": r["createdAt"]} for r in ret.refunds]}}

    def _refundable(self, order: DemoOrder) -> Decimal:
        return order.total - sum((Decimal(r["amount"]) for ret in self.returns.values() if ret.order is order
                                  for r in ret.refunds), Decimal(0))

    def _return_for_refund(self, variables: dict) -> dict:
        ret = self.returns.get(str(variables.get("id")))
        return {"return": self._view(ret) if ret else None}

    def _refund_suggestion(self, variables: dict) -> dict:
        ret = self.returns.get(str(variables.get("id")))
        if ret is None:
            return {"return": None}
        prices = {line.id: line.price for line in ret.order.lines}
        by_id = {line["id"]: line for line in ret.lines}
        amount = sum((prices[by_id[w["id"]]["line_item_id"]] * int(w.get("quantity") or 0)
                      for w in variables.get("lines") or [] if w.get("id") in by_id), Decimal(0))
        amount = min(amount, self._refundable(ret.order))
        money = {"amount": _money(amount), "currencyCode": ret.order.currency}
        transactions = [{"amountSet": {"presentmentMoney": money}, "parentTransaction": {"id": ret.order.sale_gid}}]
        return {"return": {"suggestedFinancialOutcome": {"financialTransfer": {
            "amount": {"presentmentMoney": money}, "suggestedTransactions": transactions if amount > 0 else []}}}}

    def _process(self, variables: dict) -> dict:
        data = variables.get("input") or {}
        ret = self.returns.get(str(data.get("returnId")))
        if ret is None or ret.status != "OPEN":
            return {"returnProcess": _user_error("Return must exist and be open to be processed.", "input", "returnId")}
        by_id = {line["id"]: line for line in ret.lines}
        wanted = data.get("returnLineItems") or []
        for i, w in enumerate(wanted):
            line = by_id.get(w.get("id"))
            if line is None or not isinstance(w.get("quantity"), int) \
                    or not 0 < w["quantity"] <= line["quantity"] - line["processed"]:
                return {"returnProcess": _user_error("Quantity exceeds the processable quantity.",
                                                     "input", "returnLineItems", str(i))}
        transactions = ((data.get("financialTransfer") or {}).get("issueRefund") or {}).get("orderTransactions") or []
        try:
            amount = sum((Decimal(str(t["transactionAmount"]["amount"])) for t in transactions
                          if t.get("parentId") == ret.order.sale_gid), Decimal(0))
        except (KeyError, TypeError, ArithmeticError):
            return {"returnProcess": _user_error("Refund amount is not a decimal.", "input", "financialTransfer")}
        if transactions and not 0 < amount <= self._refundable(ret.order):
            return {"returnProcess": _user_error("Refund amount exceeds the amount that can be refunded.",
                                                 "input", "financialTransfer")}
        for w in wanted:
            by_id[w["id"]]["processed"] += w["quantity"]
        if transactions:
            ret.refunds.append({"id": f"gid://shopify/Refund/{next(self._ids)}", "amount": _money(amount),
                                "createdAt": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")})
        return {"returnProcess": {"return": self._view(ret), "userErrors": []}}
