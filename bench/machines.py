"""Past one machine: two separate sets of processes, as if on two machines,
each an `aftercare serve` (gunicorn) on a port of its own and an `aftercare
worker`, sharing one PostgreSQL database and loaded at the same time.

The load is the correctness check of bench/drain.py, sent over HTTP: each
order's versions (orders/create, then orders/updated) and one delivered
fulfillment per order, 30 % of them sent twice, everything shuffled and
spread over both machines. A repeat goes to the other machine than the
first send; half the repeats carry the same X-Shopify-Webhook-Id (Shopify
retrying: the inbox must keep one), half a new one (the same event delivered
twice: applying it again must change nothing). Then:

- every request was answered 200;
- every order is in the state of its newest version (drain's own check),
  every delivery stored once per webhook id, processed at its first attempt;
- every customer got exactly one email (`delivered`, their parcel's one
  step), seen by a real SMTP server, and the outbox agrees.

PostgreSQL only: SQLite is one machine's database by nature.
"""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from sqlalchemy import create_engine, func, select

from .data import ROOT, SHOP, order_body, sign, shuffled_histories
from .drain import _order_states

AFTERCARE = str(Path(sys.executable).with_name("aftercare"))
_FULFILLMENT = json.loads((ROOT / "tests" / "payloads" / "fulfillment_update_delivered.json").read_bytes())
MACHINES = 2
CLIENTS = 8  # concurrent HTTP clients, spread over both machines


def email_of(order_id: int) -> str:
    return f"buyer{order_id}@example.com"


def fulfillment_body(order_id: int) -> bytes:
    """The order's one parcel, delivered, for the order's own customer."""
    order = json.loads(order_body(order_id))
    body = {**_FULFILLMENT, "id": order_id + 5_000_000, "order_id": order_id, "name": f"#{order_id}.1",
            "email": email_of(order_id), "admin_graphql_api_id": f"gid://shopify/Fulfillment/{order_id + 5_000_000}",
            "line_items": [{**_FULFILLMENT["line_items"][0], "id": li["id"], "quantity": li["quantity"]}
                           for li in order["line_items"][:1]]}
    return json.dumps(body, separators=(",", ":")).encode()


def with_own_customer(body: bytes) -> bytes:
    """An order body whose customer has an address of their own, so each email
    received can be told apart."""
    order = json.loads(body)
    address = email_of(order["id"])
    order["email"] = order["contact_email"] = address
    if isinstance(order.get("customer"), dict):
        order["customer"] = {**order["customer"], "email": address}
    return json.dumps(order, separators=(",", ":")).encode()


def plan(deliveries: int, orders: int, seed: int = 11) -> tuple[list[dict], dict[int, dict]]:
    """What to send, in order: dicts of topic, body, webhook id and machine.
    ``deliveries`` order versions (drain's shuffled histories, 30 % repeats)
    plus one delivered fulfillment per order, itself repeated 30 % of the time."""
    rng = random.Random(seed)
    histories, expected = shuffled_histories(deliveries, orders, seed=seed)
    events = [(topic, with_own_customer(body)) for topic, body in histories]
    parcels = [("fulfillments/create", fulfillment_body(order_id)) for order_id in expected]
    events += parcels + rng.sample(parcels, round(len(parcels) * 0.3))
    rng.shuffle(events)
    seen: dict[bytes, dict] = {}
    sends = []
    for n, (topic, body) in enumerate(events):
        first = seen.get(body)
        if first is None:
            send = {"topic": topic, "body": body, "webhook_id": str(uuid.uuid4()), "machine": n % MACHINES}
            seen[body] = send
        else:
            webhook_id = first["webhook_id"] if rng.random() < 0.5 else str(uuid.uuid4())
            send = {"topic": topic, "body": body, "webhook_id": webhook_id, "machine": (first["machine"] + 1) % MACHINES}
        sends.append(send)
    return sends, expected


def run(env: dict[str, str], deliveries: int, orders: int, web_workers: int = 2, timeout: float = 300) -> dict:
    """Start both machines on the database of ``env`` (bench.data.fresh_database,
    PostgreSQL), send the plan, wait until all is done, check it."""
    sends, expected = plan(deliveries, orders)
    with tempfile.TemporaryDirectory(prefix="aftercare-machines-") as tmp, _Sink() as sink:
        machine_env = {**env, "AFTERCARE_SMTP_URL": f"smtp://127.0.0.1:{sink.port}",
                       "SHOPIFY_BASE_URL": "http://127.0.0.1:9/{shop}", "PYTHONUNBUFFERED": "1"}
        ports = [_free_port() for _ in range(MACHINES)]
        processes = []
        try:
            for n, port in enumerate(ports):
                processes.append(_start(["serve", "--bind", f"127.0.0.1:{port}", "--workers", str(web_workers)],
                                        machine_env, Path(tmp) / f"web{n}.log"))
                processes.append(_start(["worker", "--poll", "0.1"], machine_env, Path(tmp) / f"worker{n}.log"))
            for port in ports:
                _wait_until_up(port, processes, tmp)
            started = time.monotonic()
            answers = _send(sends, ports)
            sent_seconds = time.monotonic() - started
            settled = _wait_until_settled(env, sink, len({s["webhook_id"] for s in sends}), len(expected), timeout)
            seconds = time.monotonic() - started
            crashed = [p.args[1] for p in processes if p.poll() is not None]
        finally:
            _stop(processes)
        problems = [] if settled else [f"not settled after {timeout:.0f} s"]
        problems += [f"a process stopped early: {name}" for name in crashed]
        problems += _check(env, sends, answers, expected, sink.received)
    return {"machines": MACHINES, "sent": len(sends), "orders": len(expected),
            "stored": len({s["webhook_id"] for s in sends}), "per_machine": dict(Counter(s["machine"] for s in sends)),
            "send_seconds": sent_seconds, "seconds": seconds, "emails": len(sink.received),
            "ok": not problems, "problems": problems}


def _check(env, sends, answers, expected, received) -> list[str]:
    from plugin.models import Notification, WebhookDelivery

    problems = []
    bad = Counter(status for status in answers if status != 200)
    if bad:
        problems.append(f"answers other than 200: {dict(bad)}")
    actual = _order_states(env)
    wrong = sorted(order_id for order_id in expected if actual.get(order_id) != expected[order_id])
    if wrong or set(actual) != set(expected):
        problems.append(f"{len(wrong)} of {len(expected)} orders in the wrong state, {len(actual)} stored")
    engine = create_engine(env["AFTERCARE_DATABASE_URL"])
    with engine.connect() as conn:
        stored = Counter(conn.scalars(select(WebhookDelivery.webhook_id)))
        statuses = dict(conn.execute(select(WebhookDelivery.status, func.count()).group_by(WebhookDelivery.status)).all())
        attempts = dict(conn.execute(select(WebhookDelivery.attempts, func.count())
                                     .group_by(WebhookDelivery.attempts)).all())
        outbox = Counter(conn.execute(select(Notification.recipient, Notification.kind, Notification.status)).all())
    engine.dispose()
    ids = {s["webhook_id"] for s in sends}
    if set(stored) != ids or set(stored.values()) != {1}:
        problems.append(f"{sum(stored.values())} deliveries stored for {len(ids)} webhook ids")
    if statuses != {"processed": len(ids)} or attempts != {1: len(ids)}:
        problems.append(f"deliveries are {statuses}, attempts {attempts}: expected each processed at its first")
    wanted = Counter((email_of(order_id), "delivered") for order_id in expected)
    got = Counter((rcpt, kind) for rcpt, kind in received)
    if got != wanted:
        extra, missing = got - wanted, wanted - got
        problems.append(f"emails: {sum(extra.values())} extra (e.g. {list(extra)[:2]}), "
                        f"{sum(missing.values())} missing (e.g. {list(missing)[:2]})")
    if outbox != Counter({(rcpt, kind, "sent"): 1 for rcpt, kind in wanted}):
        problems.append(f"outbox holds {sum(outbox.values())} messages for {len(wanted)} customers: {list(outbox)[:2]}")
    return problems


def _send(sends: list[dict], ports: list[int]) -> list[int]:
    """Post every send to its machine, CLIENTS at a time; the status of each."""
    sessions: dict[int, requests.Session] = {}

    def post(send: dict) -> int:
        http = sessions.setdefault(threading.get_ident(), requests.Session())
        body = send["body"]
        response = http.post(f"http://127.0.0.1:{ports[send['machine']]}/webhooks", data=body, timeout=30, headers={
            "Content-Type": "application/json", "X-Shopify-Topic": send["topic"], "X-Shopify-Hmac-Sha256": sign(body),
            "X-Shopify-Shop-Domain": SHOP, "X-Shopify-Webhook-Id": send["webhook_id"],
            "X-Shopify-API-Version": "2026-07"})
        return response.status_code

    with ThreadPoolExecutor(CLIENTS) as pool:
        return list(pool.map(post, sends))


def _wait_until_settled(env, sink, deliveries: int, orders: int, timeout: float) -> bool:
    """Every delivery processed, nothing left due in the outbox, and the sink
    has had one email per order (or the timeout)."""
    from plugin.models import Notification, WebhookDelivery

    engine = create_engine(env["AFTERCARE_DATABASE_URL"])
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                processed = conn.scalar(select(func.count()).select_from(WebhookDelivery)
                                        .where(WebhookDelivery.status == "processed"))
                due = conn.scalar(select(func.count()).select_from(Notification)
                                  .where(Notification.next_attempt_at.is_not(None)))
            if processed >= deliveries and due == 0 and len(sink.received) >= orders:
                time.sleep(1)  # anything still to come (a message twice) arrives now
                return True
            time.sleep(0.2)
        return False
    finally:
        engine.dispose()


class _Sink:
    """A real SMTP server in this process that keeps (recipient, kind) of each message."""

    def __enter__(self) -> _Sink:
        from email import message_from_bytes
        from email.policy import default

        from aiosmtpd.controller import Controller

        self.received: list[tuple[str, str]] = []
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                message = message_from_bytes(envelope.original_content or envelope.content, policy=default)
                for rcpt in envelope.rcpt_tos:
                    sink.received.append((rcpt, message["X-Aftercare-Kind"]))
                return "250 OK"

        self.port = _free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.controller.stop()


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("wb") as out:
        return subprocess.Popen([AFTERCARE, *args], env={**os.environ, **env}, cwd=ROOT, stdout=out,
                                stderr=subprocess.STDOUT)


def _stop(processes: list[subprocess.Popen]) -> None:
    """SIGTERM to all at once (gunicorn and the worker stop cleanly on it), then wait."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_up(port: int, processes: list[subprocess.Popen], tmp: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
            return
        except (requests.ConnectionError, requests.Timeout):
            if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
                logs = "\n".join(f"{log.name}: {log.read_text()[-1500:]}" for log in Path(tmp).glob("*.log"))
                raise SystemExit(f"bench: a machine did not start:\n{logs}") from None
            time.sleep(0.1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def print_table(result: dict) -> None:
    print(f"\nTwo machines: {MACHINES} x (`aftercare serve` + `aftercare worker`) on one PostgreSQL, loaded at once; "
          f"30 % repeats, shuffled")
    verdict = "ok" if result["ok"] else "WRONG: " + "; ".join(result["problems"])
    print(f"{'postgresql':11} sent {result['sent']} webhooks ({result['stored']} distinct) over {result['orders']} "
          f"orders, per machine {result['per_machine']}, {result['emails']} emails, all done in "
          f"{result['seconds']:.1f} s: {verdict}")
