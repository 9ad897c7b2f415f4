"""Returns in the fake Shopify (tests/fake_shopify.py): the part of the Admin API
that self-service returns use, answered from the fake's seeded orders.

- ``returnableFulfillments(orderId, first, after)``: per fulfillment not cancelled,
  each fulfillment line item with the quantity not yet in a return (returns that
  are DECLINED or CANCELED give it back); fulfillments with nothing left are left out.
- ``returnRequest(input)`` → a return in REQUESTED; ``returnApproveRequest(input)`` →
  OPEN; ``returnDeclineRequest(input)`` → DECLINED; ``returnClose(id)`` → CLOSED. A
  move Shopify would not make (approving twice, too many items, an unknown return)
  answers ``userErrors`` as Shopify does; an unknown enum value is a GraphQL error.
- ``return(id)``: the return as GraphQL shows it: ``returnLineItems.nodes`` with
  ``processableQuantity`` / ``processedQuantity``, ``refunds.nodes``, and a
  ``suggestedFinancialOutcome`` for every item still processable (the selection's
  arguments are not read: the fake answers whole nodes), whose suggested transaction
  refunds the items' prices against the order's SALE transaction.
- ``returnProcess(input)`` on an OPEN return: processes the given return line items
  (quantity at most what is processable) and, with ``financialTransfer.issueRefund``,
  makes one refund (``gid://shopify/Refund/…``) against the order's SALE transaction,
  never for more than is left unrefunded on it.

An order's transactions are its node's ``transactions`` (``[{id, kind, amount}]``),
or when it has none, one SALE of its total (``sale_gid(order)``); ``transactions: []``
gives an order nothing to refund.

Returns are kept per shop as dicts: ``id``, ``name``, ``status``, ``order`` ``{id}``,
``returnLineItems`` (``id``, ``fulfillmentLineItemId``, ``lineItemId``, ``quantity``,
``processedQuantity``, ``returnReason``, ``customerNote``), ``declineReason``,
``declineNote``, ``notifyCustomer``, ``refunds`` (``id``, ``createdAt``, ``amount``,
``currencyCode``, ``parentId``, ``returnLineItems`` ``[{id, quantity}]``).
"""

from __future__ import annotations

import copy
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

QUERY_FIELDS = frozenset({"returnableFulfillments", "return"})
MUTATION_FIELDS = frozenset({"returnRequest", "returnApproveRequest", "returnDeclineRequest", "returnClose",
                             "returnProcess"})

#: ReturnReason of the pinned version (deprecated in favour of returnReasonDefinitionId, still accepted).
RETURN_REASONS = frozenset({"UNKNOWN", "DEFECTIVE", "NOT_AS_DESCRIBED", "WRONG_ITEM", "UNWANTED",
                            "SIZE_TOO_SMALL", "SIZE_TOO_LARGE", "STYLE", "COLOR", "OTHER"})
DECLINE_REASONS = frozenset({"FINAL_SALE", "RETURN_PERIOD_ENDED", "OTHER"})
CUSTOMER_NOTE_MAX = 300


class InvalidVariable(Exception):
    """A variable Shopify's schema would refuse before running anything."""


def _error(field: list[str], message: str) -> dict:
    return {"return": None, "userErrors": [{"field": field, "message": message, "code": "INVALID"}]}


def _fulfillment_line_items(order: dict) -> list[tuple[dict, dict]]:
    """(fulfillment, fulfillment line item) of every fulfillment not cancelled."""
    out = []
    for fulfillment in order.get("fulfillments") or []:
        if (fulfillment.get("status") or "").upper() in ("CANCELLED", "CANCELED", "ERROR", "FAILURE"):
            continue
        for fli in (fulfillment.get("fulfillmentLineItems") or {}).get("nodes") or []:
            out.append((fulfillment, fli))
    return out


def _in_returns(returns: dict[str, dict], fli_id: str) -> int:
    return sum(line["quantity"] for r in returns.values() if r["status"] not in ("DECLINED", "CANCELED")
               for line in r["returnLineItems"] if line["fulfillmentLineItemId"] == fli_id)


def returnable_fulfillments(orders: dict, returns: dict, args: dict, connection) -> dict:
    order = orders.get(str(args.get("orderId")))
    if order is None:
        raise InvalidVariable(f"Order does not exist ({args.get('orderId')!r})")
    nodes = []
    for fulfillment in order.get("fulfillments") or []:
        rows = []
        for f, fli in _fulfillment_line_items(order):
            if f is not fulfillment:
                continue
            left = fli["quantity"] - _in_returns(returns, fli["id"])
            if left > 0:
                rows.append({"quantity": left, "fulfillmentLineItem": {
                    "id": fli["id"], "quantity": fli["quantity"], "lineItem": copy.deepcopy(fli["lineItem"])}})
        if rows:
            number = str(fulfillment["id"]).rsplit("/", 1)[1]
            nodes.append({"id": f"gid://shopify/ReturnableFulfillment/{number}",
                          "fulfillment": {"id": fulfillment["id"]},
                          "returnableFulfillmentLineItems": {
                              "nodes": rows, "pageInfo": {"hasNextPage": False, "endCursor": None}}})
    return connection(nodes, lambda n: (int(n["id"].rsplit("/", 1)[1]),), args)


def return_request(orders: dict, returns: dict, args: dict, next_id) -> dict:
    data = args.get("input")
    if not isinstance(data, dict):
        raise InvalidVariable("Variable $input of type ReturnRequestInput! was provided invalid value")
    order = orders.get(str(data.get("orderId")))
    if order is None:
        return _error(["input", "orderId"], "Order does not exist.")
    lines = data.get("returnLineItems")
    if not isinstance(lines, list) or not lines:
        return _error(["input", "returnLineItems"], "Return must have at least one line item.")
    known = {fli["id"]: fli for _f, fli in _fulfillment_line_items(order)}
    stored = []
    for i, line in enumerate(lines):
        reason = line.get("returnReason")
        if reason is not None and reason not in RETURN_REASONS:
            raise InvalidVariable(f"Variable $input.returnLineItems.{i}.returnReason of type ReturnReason "
                                  f"was provided invalid value ({reason!r})")
        fli = known.get(str(line.get("fulfillmentLineItemId")))
        if fli is None:
            return _error(["input", "returnLineItems", str(i), "fulfillmentLineItemId"],
                          "Fulfillment line item does not exist.")
        quantity = line.get("quantity")
        if not isinstance(quantity, int) or quantity < 1 or quantity > fli["quantity"] - _in_returns(returns, fli["id"]):
            return _error(["input", "returnLineItems", str(i), "quantity"],
                          "Quantity is not available for return.")
        note = line.get("customerNote")
        if note is not None and len(note) > CUSTOMER_NOTE_MAX:
            return _error(["input", "returnLineItems", str(i), "customerNote"],
                          f"Customer note is too long (maximum is {CUSTOMER_NOTE_MAX} characters).")
        stored.append({"id": f"gid://shopify/ReturnLineItem/{next_id()}", "fulfillmentLineItemId": fli["id"],
                       "lineItemId": fli["lineItem"]["id"], "quantity": quantity, "processedQuantity": 0,
                       "returnReason": reason, "customerNote": note})
    count = sum(1 for r in returns.values() if r["order"]["id"] == order["id"]) + 1
    ret = {"id": f"gid://shopify/Return/{next_id()}", "name": f"{order.get('name')}-R{count}", "status": "REQUESTED",
           "order": {"id": order["id"]}, "returnLineItems": stored, "declineReason": None, "declineNote": None,
           "notifyCustomer": None, "refunds": []}
    returns[ret["id"]] = ret
    return {"return": copy.deepcopy(ret), "userErrors": []}


# --- processing and refunds ---------------------------------------------------------------

def sale_gid(order: dict) -> str:
    return f"gid://shopify/OrderTransaction/{order['id'].rsplit('/', 1)[1]}1"


def _transactions(order: dict) -> list[dict]:
    if "transactions" in order:
        return order["transactions"] or []
    total = order["totalPriceSet"]["presentmentMoney"]
    return [{"id": sale_gid(order), "kind": "SALE", "amount": total["amount"], "currencyCode": total["currencyCode"]}]


def _unit_price(order: dict, line_item_gid: str) -> Decimal:
    for li in order["lineItems"]["nodes"]:
        if li["id"] == line_item_gid:
            return Decimal(li["originalUnitPriceSet"]["shopMoney"]["amount"])
    return Decimal(0)


def _refunded(returns: dict, parent_id: str) -> Decimal:
    return sum((Decimal(refund["amount"]) for r in returns.values() for refund in r.get("refunds", [])
                if refund["parentId"] == parent_id), Decimal(0))


def return_view(orders: dict, returns: dict, ret: dict) -> dict:
    """The return as the GraphQL ``Return`` object shows it."""
    order = orders.get(ret["order"]["id"]) or {}
    lines = [{"id": line["id"], "quantity": line["quantity"],
              "processedQuantity": line.get("processedQuantity", 0),
              "processableQuantity": line["quantity"] - line.get("processedQuantity", 0),
              "returnReason": line["returnReason"], "customerNote": line["customerNote"],
              "fulfillmentLineItem": {"id": line["fulfillmentLineItemId"], "lineItem": {"id": line["lineItemId"]}}}
             for line in ret["returnLineItems"]]
    amount = sum((_unit_price(order, line["lineItemId"]) * (line["quantity"] - line.get("processedQuantity", 0))
                  for line in ret["returnLineItems"]), Decimal(0))
    currency = order.get("currencyCode", "USD")
    suggested = []
    for tx in _transactions(order):
        if tx["kind"] in ("SALE", "CAPTURE") and amount > 0:
            take = min(amount, Decimal(tx["amount"]) - _refunded(returns, tx["id"]))
            if take > 0:
                suggested.append({"amountSet": {"presentmentMoney": {"amount": f"{take:.2f}",
                                                                     "currencyCode": tx["currencyCode"]}},
                                  "parentTransaction": {"id": tx["id"]}})
    view = {k: copy.deepcopy(v) for k, v in ret.items() if k not in ("returnLineItems", "refunds")}
    view["returnLineItems"] = {"nodes": lines, "pageInfo": {"hasNextPage": False, "endCursor": None}}
    view["refunds"] = {"nodes": [{"id": r["id"], "createdAt": r["createdAt"]} for r in ret.get("refunds", [])],
                       "pageInfo": {"hasNextPage": False, "endCursor": None}}
    view["suggestedFinancialOutcome"] = {"financialTransfer": {
        "__typename": "RefundReturnOutcome",
        "amount": {"presentmentMoney": {"amount": f"{amount:.2f}", "currencyCode": currency}},
        "suggestedTransactions": suggested}}
    return view


def return_process(orders: dict, returns: dict, args: dict, next_id) -> dict:
    data = args.get("input")
    if not isinstance(data, dict) or not data.get("returnId"):
        raise InvalidVariable("Variable $input of type ReturnProcessInput! was provided invalid value")
    ret = returns.get(str(data["returnId"]))
    if ret is None:
        return _error(["input", "returnId"], "Return does not exist.")
    if ret["status"] != "OPEN":
        return _error(["input", "returnId"], f"Return must be open to be processed; it is {ret['status']}.")
    by_id = {line["id"]: line for line in ret["returnLineItems"]}
    wanted = data.get("returnLineItems") or []
    for i, line in enumerate(wanted):
        stored = by_id.get(str(line.get("id")))
        if stored is None:
            return _error(["input", "returnLineItems", str(i), "id"], "Return line item does not exist.")
        quantity = line.get("quantity")
        if not isinstance(quantity, int) or quantity < 1 or quantity > stored["quantity"] - stored["processedQuantity"]:
            return _error(["input", "returnLineItems", str(i), "quantity"],
                          "Quantity exceeds the processable quantity.")
    order = orders.get(ret["order"]["id"]) or {}
    refunds = []
    issue = ((data.get("financialTransfer") or {}).get("issueRefund"))
    if issue is not None:
        sales = {tx["id"]: tx for tx in _transactions(order) if tx["kind"] in ("SALE", "CAPTURE")}
        for i, tx in enumerate(issue.get("orderTransactions") or []):
            parent = sales.get(str(tx.get("parentId")))
            if parent is None:
                return _error(["input", "financialTransfer", "issueRefund", "orderTransactions", str(i), "parentId"],
                              "Parent transaction does not exist or cannot be refunded.")
            money = tx.get("transactionAmount") or {}
            try:
                amount = Decimal(str(money.get("amount")))
            except ArithmeticError:
                raise InvalidVariable("transactionAmount.amount is not a decimal") from None
            if amount <= 0 or amount > Decimal(parent["amount"]) - _refunded(returns, parent["id"]):
                return _error(["input", "financialTransfer", "issueRefund", "orderTransactions", str(i),
                               "transactionAmount"], "Refund amount exceeds the amount that can be refunded.")
            refunds.append({"parentId": parent["id"], "amount": f"{amount:.2f}",
                            "currencyCode": money.get("currencyCode")})
        if not refunds:
            return _error(["input", "financialTransfer"], "A refund needs at least one transaction.")
    for line in wanted:
        by_id[str(line["id"])]["processedQuantity"] += line["quantity"]
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    for refund in refunds:
        refund.update(id=f"gid://shopify/Refund/{next_id()}", createdAt=now,
                      returnLineItems=[{"id": line["id"], "quantity": line["quantity"]} for line in wanted])
        ret["refunds"].append(refund)
    ret["notifyCustomer"] = data.get("notifyCustomer")
    return {"return": return_view(orders, returns, ret), "userErrors": []}


def _move(returns: dict, return_id: Any, field: list[str], allowed: str, to: str, **changes: Any) -> dict:
    ret = returns.get(str(return_id))
    if ret is None:
        return _error(field, "Return does not exist.")
    if ret["status"] != allowed:
        return _error(field, f"Return is not in the {allowed} status; it is {ret['status']}.")
    ret["status"] = to
    ret.update(changes)
    return {"return": copy.deepcopy(ret), "userErrors": []}


def resolve(name: str, orders: dict, returns: dict, args: dict, *, connection, next_id) -> Any:
    if name == "returnableFulfillments":
        return returnable_fulfillments(orders, returns, args, connection)
    if name == "returnRequest":
        return return_request(orders, returns, args, next_id)
    if name == "return":
        ret = returns.get(str(args.get("id")))
        return None if ret is None else return_view(orders, returns, ret)
    if name == "returnProcess":
        return return_process(orders, returns, args, next_id)
    data = args.get("input") if name != "returnClose" else {"id": args.get("id")}
    if not isinstance(data, dict):
        raise InvalidVariable(f"Variable $input of {name} was provided invalid value")
    if name == "returnApproveRequest":
        return _move(returns, data.get("id"), ["input", "id"], "REQUESTED", "OPEN",
                     notifyCustomer=data.get("notifyCustomer"))
    if name == "returnDeclineRequest":
        if data.get("declineReason") not in DECLINE_REASONS:
            raise InvalidVariable(f"Variable $input.declineReason of type ReturnDeclineReason! was provided "
                                  f"invalid value ({data.get('declineReason')!r})")
        return _move(returns, data.get("id"), ["input", "id"], "REQUESTED", "DECLINED",
                     declineReason=data["declineReason"], declineNote=data.get("declineNote"),
                     notifyCustomer=data.get("notifyCustomer"))
    if name == "returnClose":
        return _move(returns, data.get("id"), ["id"], "OPEN", "CLOSED")
    raise AssertionError(name)
