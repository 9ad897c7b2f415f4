"""Returns in the fake Shopify (tests/fake_shopify.py): the part of the Admin API
that self-service returns use, answered from the fake's seeded orders.

- ``returnableFulfillments(orderId, first, after)``: per fulfillment not cancelled,
  each fulfillment line item with the quantity not yet in a return (returns that
  are DECLINED or CANCELED give it back); fulfillments with nothing left are left out.
- ``returnRequest(input)`` → a return in REQUESTED; ``returnApproveRequest(input)`` →
  OPEN; ``returnDeclineRequest(input)`` → DECLINED; ``returnClose(id)`` → CLOSED. A
  move Shopify would not make (approving twice, too many items, an unknown return)
  answers ``userErrors`` as Shopify does; an unknown enum value is a GraphQL error.

Returns are kept per shop as dicts: ``id``, ``name``, ``status``, ``order`` ``{id}``,
``returnLineItems`` (``fulfillmentLineItemId``, ``lineItemId``, ``quantity``,
``returnReason``, ``customerNote``), ``declineReason``, ``declineNote``,
``notifyCustomer``.
"""

from __future__ import annotations

import copy
from typing import Any

QUERY_FIELDS = frozenset({"returnableFulfillments"})
MUTATION_FIELDS = frozenset({"returnRequest", "returnApproveRequest", "returnDeclineRequest", "returnClose"})

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
        stored.append({"fulfillmentLineItemId": fli["id"], "lineItemId": fli["lineItem"]["id"],
                       "quantity": quantity, "returnReason": reason, "customerNote": note})
    count = sum(1 for r in returns.values() if r["order"]["id"] == order["id"]) + 1
    ret = {"id": f"gid://shopify/Return/{next_id()}", "name": f"{order.get('name')}-R{count}", "status": "REQUESTED",
           "order": {"id": order["id"]}, "returnLineItems": stored, "declineReason": None, "declineNote": None,
           "notifyCustomer": None}
    returns[ret["id"]] = ret
    return {"return": copy.deepcopy(ret), "userErrors": []}


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
