"""The worker job that passes return requests, and the admin's decisions on
them, to Shopify.

A request whose ``next_attempt_at`` has come is out of step with Shopify:
not created there yet, or its ``status`` asks for a Shopify status it does
not have (``shopify_status``). Each round takes one such request through
three steps, so no database transaction is open while Shopify is called:

1. claim: lock the row (FOR UPDATE SKIP LOCKED / BEGIN IMMEDIATE), push its
   ``next_attempt_at`` a lease ahead (a worker that dies mid-call leaves it
   due again after the lease), count the attempt, commit;
2. call Shopify, outside any transaction (a token refresh commits on its own);
3. record the answer in a new transaction: Shopify's return id and status,
   due again at once if more steps remain; or the error, due again after a
   backoff. Nothing is ever given up: the request stays and is retried.

Mutations: ``returnRequest`` (fulfillment line items found through
``returnableFulfillments``), ``returnApproveRequest``, ``returnDeclineRequest``,
``returnProcess`` for a refund, ``returnClose``. Received is Shopify's OPEN:
nothing to push. Shopify is asked not to email the customer
(``notifyCustomer: false``): our own return emails tell them
(notifications/return_mail.py), once.

A refund (the admin's ``refund``, ``refund_requested_at``) is owed until
Shopify's refund id is known (``shopify_refund_id``). The pinned version
(2026-07) refunds a return with ``returnProcess`` and its
``financialTransfer.issueRefund``, the amounts taken from Shopify's own
``suggestedFinancialOutcome``. ``returnProcess`` takes no idempotency key, so
a refund is never sent twice blindly: the mutation is sent once per attempt
(the client does not repeat it after a timeout or a 5xx, since Shopify may
have run it), and every attempt first reads the return. When its items are
already processed and it carries a refund (our answer was lost, or the
merchant refunded it in Shopify), that refund is recorded instead of making
another. The shopper's "refunded" email is queued only once Shopify has the
refund (here, or from the refunds/create webhook).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import select

# plugin.worker as a module, not its names: it imports the models, which import this module.
from .. import shops, worker
from ..db import worker_session
from ..models import Order, Shop, utcnow
from ..shopify.client import AdminClient, ShopifyAPIError
from . import notify
from .models import ReturnRequest, ReturnStatus

log = logging.getLogger(__name__)

S = ReturnStatus
LEASE = timedelta(minutes=10)
RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
                timedelta(hours=6))
#: Seconds one call may spend waiting out Shopify's throttling and 5xx before this
#: attempt gives up (the request is retried later; a worker must not stall on one shop).
DEFAULT_MAX_WAIT = 10.0
CUSTOMER_NOTE_MAX = 300  # Shopify's limit for ReturnRequestLineItemInput.customerNote

# The Shopify ReturnStatus each of our statuses asks for.
SHOPIFY_STATUS = {
    S.REQUESTED: "REQUESTED", S.APPROVED: "OPEN", S.RECEIVED: "OPEN", S.REFUNDED: "OPEN",
    S.DECLINED: "DECLINED", S.CLOSED: "CLOSED", S.CANCELLED: "CANCELED",
}
# Shopify may close a return itself once every item is processed: refunded agrees with that too.
ALSO_AGREES = {S.REFUNDED: frozenset({"CLOSED"})}

RETURNABLE_FULFILLMENTS = """
query AftercareReturnableFulfillments($orderId: ID!, $first: Int!, $after: String) {
  returnableFulfillments(orderId: $orderId, first: $first, after: $after) {
    nodes {
      id
      returnableFulfillmentLineItems(first: 250) {
        nodes { quantity fulfillmentLineItem { id lineItem { id } } }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""

RETURN_FIELDS = "return { id status } userErrors { field message }"
RETURN_REQUEST = ("mutation AftercareReturnRequest($input: ReturnRequestInput!) "
                  "{ returnRequest(input: $input) { %s } }" % RETURN_FIELDS)
RETURN_APPROVE = ("mutation AftercareReturnApprove($input: ReturnApproveRequestInput!) "
                  "{ returnApproveRequest(input: $input) { %s } }" % RETURN_FIELDS)
RETURN_DECLINE = ("mutation AftercareReturnDecline($input: ReturnDeclineRequestInput!) "
                  "{ returnDeclineRequest(input: $input) { %s } }" % RETURN_FIELDS)
RETURN_CLOSE = "mutation AftercareReturnClose($id: ID!) { returnClose(id: $id) { %s } }" % RETURN_FIELDS

# What a refund needs to know first: which items Shopify can still process, and
# whether the return already carries a refund (a lost answer, or the merchant's).
RETURN_FOR_REFUND = """
query AftercareReturnForRefund($id: ID!) {
  return(id: $id) {
    id status
    returnLineItems(first: 250) { nodes { id quantity processableQuantity processedQuantity } }
    refunds(first: 10) { nodes { id createdAt } }
  }
}
"""
REFUND_SUGGESTION = """
query AftercareReturnRefundSuggestion($id: ID!, $lines: [SuggestedOutcomeReturnLineItemInput!]!) {
  return(id: $id) {
    suggestedFinancialOutcome(returnLineItems: $lines, exchangeLineItems: []) {
      financialTransfer {
        ... on RefundReturnOutcome {
          amount { presentmentMoney { amount currencyCode } }
          suggestedTransactions {
            amountSet { presentmentMoney { amount currencyCode } }
            parentTransaction { id }
          }
        }
      }
    }
  }
}
"""
RETURN_PROCESS = ("mutation AftercareReturnProcess($input: ReturnProcessInput!) { returnProcess(input: $input) "
                  "{ return { id status refunds(first: 10) { nodes { id createdAt } } } "
                  "userErrors { field message code } } }")


class ShopifyRefused(Exception):
    """Shopify answered, but would not do it (userErrors, or not enough to return)."""


def target_status(request: ReturnRequest) -> str | None:
    """The Shopify status to push toward; None when there is nothing to push
    (declined or cancelled before it ever reached Shopify)."""
    if request.shopify_return_id is None and request.state in (S.DECLINED, S.CANCELLED):
        return None
    return SHOPIFY_STATUS[request.state]


def refund_owed(request: ReturnRequest) -> bool:
    """The admin asked for a refund that Shopify is not known to have made."""
    return request.refund_requested_at is not None and request.shopify_refund_id is None


def _agrees(request: ReturnRequest, target: str) -> bool:
    return request.shopify_status == target or request.shopify_status in ALSO_AGREES.get(request.state, ())


def needs_push(request: ReturnRequest) -> bool:
    target = target_status(request)
    if target is None:
        return False
    if request.shopify_return_id is None or not _agrees(request, target):
        return True
    return refund_owed(request) and request.state not in (S.DECLINED, S.CANCELLED)


def process_due(app: Flask, limit: int = 20) -> int:
    """Worker job: push up to ``limit`` due requests one step each."""
    done = 0
    while done < limit:
        claimed = _claim(app)
        if claimed is None:
            break
        with app.app_context():  # the worker may run in a thread of its own (shops reads current_app)
            _push(app, *claimed)
        done += 1
    return done


def _claim(app: Flask) -> tuple[int, int] | None:
    with worker_session(app) as session, session.begin():
        claimed = worker.claim_due(session, ReturnRequest, 1, utcnow())  # names its shop, see claim_due
        if not claimed:
            return None
        request = claimed[0]
        request.next_attempt_at = utcnow() + LEASE
        request.sync_attempts += 1
        return request.shop_id, request.id


def _push(app: Flask, shop_id: int, request_id: int) -> None:
    with worker_session(app) as session:
        with session.begin():
            shop = session.get(Shop, shop_id)
            request = session.scalar(select(ReturnRequest).where(
                ReturnRequest.shop_id == shop_id, ReturnRequest.id == request_id))
            order = session.scalar(select(Order).where(Order.shop_id == shop_id, Order.id == request.order_id))
            step = _next_step(request, order)
        # The transaction is over: nothing is locked while Shopify answers.
        try:
            if step is None:
                result = None
            elif not shops.has_usable_token(shop):
                raise shops.NotInstalled(f"{shop.domain} is not installed")
            else:
                result = shops.call_admin_api(session, shop, lambda client: step(_patient(client, app)))
        except (ShopifyAPIError, ShopifyRefused, shops.NotInstalled) as exc:
            _record_failure(session, shop_id, request_id, f"{type(exc).__name__}: {exc}"[:2000])
            return
        _record(session, shop_id, request_id, result)


def _patient(client: AdminClient, app: Flask) -> AdminClient:
    client.max_wait = float(app.config.get("RETURNS_SYNC_MAX_WAIT", DEFAULT_MAX_WAIT))
    return client


def _next_step(request: ReturnRequest, order: Order):
    """The one call that brings Shopify a step closer to the request, as a
    function of the client returning (shopify id, Shopify status); None if
    Shopify already agrees. Reads everything it needs now, inside the
    transaction."""
    if not needs_push(request):
        return None
    target = target_status(request)
    gid = f"gid://shopify/Return/{request.shopify_return_id}"
    if request.shopify_return_id is None:
        order_gid = f"gid://shopify/Order/{order.shopify_id}"
        items = [(item.line_item_shopify_id, item.quantity, item.reason, item.note) for item in request.items]
        return lambda client: _create(client, order_gid, items)
    if request.shopify_status == "REQUESTED" and target in ("OPEN", "CLOSED"):
        return lambda client: _mutate(client, RETURN_APPROVE, "returnApproveRequest",
                                      {"input": {"id": gid, "notifyCustomer": False}})
    if request.shopify_status == "REQUESTED" and target == "DECLINED":
        decline = {"id": gid, "declineReason": request.decline_reason or "OTHER", "notifyCustomer": False}
        if request.decline_note:
            decline["declineNote"] = request.decline_note
        return lambda client: _mutate(client, RETURN_DECLINE, "returnDeclineRequest", {"input": decline})
    if request.shopify_status == "OPEN" and refund_owed(request):  # before closing: a closed return is not refunded
        return lambda client: _refund(client, gid)
    if request.shopify_status == "OPEN" and target == "CLOSED":
        return lambda client: _mutate(client, RETURN_CLOSE, "returnClose", {"id": gid})
    problem = f"no Shopify mutation takes a return from {request.shopify_status} to {target}"
    if refund_owed(request):
        problem = f"Shopify's return is {request.shopify_status}: it cannot be refunded from here"

    def refuse(client: AdminClient):
        raise ShopifyRefused(problem)
    return refuse


def _create(client: AdminClient, order_gid: str, items: list[tuple]) -> tuple[int, str]:
    available: list[list] = []  # [fulfillment line item id, line item id, quantity left]
    for node in client.paginate(RETURNABLE_FULFILLMENTS, {"orderId": order_gid, "first": 50},
                                ["returnableFulfillments"]):
        for row in (node.get("returnableFulfillmentLineItems") or {}).get("nodes") or []:
            fli = row.get("fulfillmentLineItem") or {}
            line_item = _gid_number((fli.get("lineItem") or {}).get("id"))
            available.append([fli.get("id"), line_item, int(row.get("quantity") or 0)])
    return_lines = []
    for line_item, quantity, reason, note in items:
        wanted = quantity
        for slot in available:
            if wanted and slot[1] == line_item and slot[2] > 0:
                take = min(wanted, slot[2])
                slot[2] -= take
                wanted -= take
                line = {"fulfillmentLineItemId": slot[0], "quantity": take, "returnReason": reason}
                if note:
                    line["customerNote"] = note[:CUSTOMER_NOTE_MAX]
                return_lines.append(line)
        if wanted:
            raise ShopifyRefused(f"Shopify can return only {quantity - wanted} of line item {line_item}, "
                                 f"not {quantity}")
    return _mutate(client, RETURN_REQUEST, "returnRequest",
                   {"input": {"orderId": order_gid, "returnLineItems": return_lines}})


def _mutate(client: AdminClient, query: str, field: str, variables: dict) -> tuple[int, str]:
    answer = client.graphql(query, variables).get(field) or {}
    _refuse_user_errors(answer)
    returned = answer.get("return") or {}
    if not returned.get("id") or not returned.get("status"):
        raise ShopifyRefused(f"{field} answered without a return")
    return _gid_number(returned["id"]), str(returned["status"]).upper()


def _refund(client: AdminClient, gid: str) -> tuple[int, str, int]:
    """Refund the return's items that Shopify can still process, unless it
    already carries a refund for them: (return id, status, refund id)."""
    current = client.graphql(RETURN_FOR_REFUND, {"id": gid}).get("return")
    if not current:
        raise ShopifyRefused("Shopify does not have this return any more")
    lines = [{"id": node["id"], "quantity": int(node.get("processableQuantity") or 0)}
             for node in (current.get("returnLineItems") or {}).get("nodes") or []
             if int(node.get("processableQuantity") or 0) > 0]
    earlier = _refund_ids(current)
    if not lines:
        if earlier:  # already done: by an attempt whose answer was lost, or by the merchant in Shopify
            return _gid_number(current["id"]), str(current["status"]).upper(), earlier[-1]
        raise ShopifyRefused("Shopify has no item of this return left to refund")
    suggestion = (client.graphql(REFUND_SUGGESTION, {"id": gid, "lines": lines}).get("return") or {})
    transfer = ((suggestion.get("suggestedFinancialOutcome") or {}).get("financialTransfer") or {})
    transactions = [{"parentId": (t.get("parentTransaction") or {}).get("id"),
                     "transactionAmount": {"amount": t["amountSet"]["presentmentMoney"]["amount"],
                                           "currencyCode": t["amountSet"]["presentmentMoney"]["currencyCode"]}}
                    for t in transfer.get("suggestedTransactions") or []]
    if not transactions or not all(t["parentId"] for t in transactions):
        raise ShopifyRefused("Shopify suggests no payment to refund for this return")
    process = {"returnId": gid, "returnLineItems": lines, "notifyCustomer": False,
               "financialTransfer": {"issueRefund": {"orderTransactions": transactions}}}
    answer = client.graphql(RETURN_PROCESS, {"input": process}, repeat=False).get("returnProcess") or {}
    _refuse_user_errors(answer)
    returned = answer.get("return") or {}
    made = [r for r in _refund_ids(returned) if r not in earlier]
    if not returned.get("id") or not made:
        raise ShopifyRefused("returnProcess answered without a refund")
    return _gid_number(returned["id"]), str(returned.get("status") or "OPEN").upper(), made[-1]


def _refund_ids(returned: dict) -> list[int]:
    nodes = (returned.get("refunds") or {}).get("nodes") or []
    return [n for n in (_gid_number(node.get("id")) for node in nodes) if n is not None]


def _refuse_user_errors(answer: dict) -> None:
    errors = answer.get("userErrors") or []
    if errors:
        raise ShopifyRefused("; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e)
                                       for e in errors)[:1000])


def _gid_number(gid: str | None) -> int | None:
    try:
        return int(str(gid).rsplit("/", 1)[-1]) if gid else None
    except ValueError:
        return None


def _locked(session, shop_id: int, request_id: int) -> ReturnRequest | None:
    """The row as it is now (the admin or a webhook may have changed it during the call)."""
    return session.scalar(select(ReturnRequest).where(
        ReturnRequest.shop_id == shop_id, ReturnRequest.id == request_id)
        .with_for_update().execution_options(populate_existing=True))


def _record(session, shop_id: int, request_id: int, result: tuple | None) -> None:
    with session.begin():
        request = _locked(session, shop_id, request_id)
        if request is None:  # erased meanwhile (shop/redact)
            return
        if result is not None:
            request.shopify_return_id, request.shopify_status = result[:2]
            if len(result) > 2 and request.shopify_refund_id is None:
                request.shopify_refund_id = result[2]
                notify.refunded(session, shop_id, request)
        request.sync_error = None
        request.sync_attempts = 0
        # The admin may have acted while we were calling: then there is more to push.
        request.next_attempt_at = utcnow() if needs_push(request) else None


def _record_failure(session, shop_id: int, request_id: int, error: str) -> None:
    with session.begin():
        request = _locked(session, shop_id, request_id)
        if request is None:
            return
        request.sync_error = error
        request.next_attempt_at = retry_at(request.sync_attempts, utcnow())
    log.warning("return request %s of shop %s not passed to Shopify (attempt %s): %s",
                request_id, shop_id, request.sync_attempts, error)


def retry_at(attempts: int, now: datetime) -> datetime:
    """Backoff that never ends: the last delay repeats."""
    return now + RETRY_DELAYS[min(max(attempts, 1), len(RETRY_DELAYS)) - 1]

