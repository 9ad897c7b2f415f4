"""Benchmark databases and data: a fresh migrated database per measurement
(a SQLite file, or a PostgreSQL database created and dropped on the server
given), the app's environment pointing at it, and fast generators for the
inbox (bulk INSERTs straight into webhook_deliveries, never the API).

Order payloads are Shopify orders/create bodies of about 4 KB, built from the
sample in tests/payloads with a given id, version and line-item quantities.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-secret-bench-secret-bench-secret"
SHOP = "bench-shop.myshopify.com"
_SAMPLE = json.loads((ROOT / "tests" / "payloads" / "order_create.json").read_bytes())
_EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)


def peak_rss_kib(pid: int | str = "self") -> int:
    """VmHWM: the most resident memory the process has had since it started
    its program. Not ru_maxrss: Linux carries that across exec from the
    parent, so a worker started by this harness (which builds its data in
    memory) would report the harness's own peak, growing with the data set."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0


def app_environ(database_url: str, instance: str) -> dict[str, str]:
    """What the app, the baselines and the worker processes run with."""
    return {
        "PYTHONPATH": str(ROOT),
        "SHOPIFY_API_KEY": "bench-key",
        "SHOPIFY_API_SECRET": SECRET,
        "AFTERCARE_SECRET_KEY": "bench-secret-key-bench-secret-key-0123",
        "AFTERCARE_DATABASE_URL": database_url,
        "AFTERCARE_INSTANCE": instance,
    }


@contextmanager
def fresh_database(postgres_server: str | None) -> Iterator[dict[str, str]]:
    """A migrated database with the bench shop installed and the floor's
    table; yields the app environment, removes the database after."""
    with tempfile.TemporaryDirectory(prefix="aftercare-bench-") as tmp:
        if postgres_server is None:
            env = app_environ(f"sqlite:///{tmp}/bench.db", tmp)
            _prepare(env)
            yield env
            return
        name = f"aftercare_bench_{uuid.uuid4().hex[:12]}"
        admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            env = app_environ(make_url(postgres_server).set(database=name).render_as_string(hide_password=False), tmp)
            _prepare(env)
            yield env
        finally:
            _drop(admin, name)
            admin.dispose()


def _drop(admin, name: str) -> None:
    """Drop the database once its last connections have gone. Not WITH
    (FORCE): that may not end the autovacuum worker a bulk insert wakes."""
    for _ in range(50):
        try:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            return
        except OperationalError:  # "being accessed by other users": wait for them
            time.sleep(0.2)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _prepare(env: dict[str, str]) -> None:
    """Migrate, install the shop, create the floor's table (bench/baselines.py)."""
    from plugin import create_app, migrate, shops
    from plugin.db import engine, get_session

    app = create_app(environ=env, instance_path=env["AFTERCARE_INSTANCE"])
    with app.app_context():
        migrate.upgrade(app)
        shops.install(get_session(), SHOP, shops.static_grant("bench-token"))
        get_session().commit()
        with engine(app).begin() as conn:
            blob = "BYTEA" if conn.dialect.name == "postgresql" else "BLOB"
            conn.execute(text(f"CREATE TABLE bench_floor (webhook_id VARCHAR(255), body {blob})"))
    engine(app).dispose()


def sign(body: bytes) -> str:
    return base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()


def order_body(order_id: int, version: int = 0) -> bytes:
    """An orders/create (or orders/updated) body for order ``order_id``;
    ``version`` moves updated_at and the fields that change with it."""
    body = dict(_SAMPLE)
    body["id"] = order_id
    body["name"] = f"#{order_id}"
    body["number"] = body["order_number"] = order_id
    body["updated_at"] = (_EPOCH + timedelta(seconds=version)).isoformat()
    body["financial_status"] = ("pending", "authorized", "paid", "partially_refunded")[version % 4]
    body["tags"] = f"bench, v{version}"
    body["total_price"] = f"{100 + version}.00"
    body["line_items"] = [
        {**item, "id": order_id * 10 + n, "quantity": 1 + (version + n) % 3}
        for n, item in enumerate(_SAMPLE["line_items"])
    ]
    return json.dumps(body, separators=(",", ":")).encode()


def expected_order(order_id: int, version: int) -> dict:
    """What the orders table must hold once the newest version was applied."""
    body = json.loads(order_body(order_id, version))
    return {
        "financial_status": body["financial_status"],
        "tags": body["tags"],
        "total_price": body["total_price"],
        "quantities": sorted((li["id"], li["quantity"]) for li in body["line_items"]),
    }


def queue_deliveries(env: dict[str, str], deliveries: list[tuple[str, bytes]]) -> None:
    """Bulk-insert pending deliveries (topic, body), due now, in batches."""
    from plugin.models import DeliveryStatus, Shop, WebhookDelivery, utcnow

    engine = create_engine(env["AFTERCARE_DATABASE_URL"])
    now = utcnow() - timedelta(seconds=1)
    with engine.begin() as conn:
        shop_id = conn.execute(Shop.__table__.select().where(Shop.domain == SHOP)).first().id
        rows = [
            {"shop_id": shop_id, "webhook_id": str(uuid.uuid4()), "topic": topic, "payload": body,
             "status": DeliveryStatus.PENDING.value, "attempts": 0, "next_attempt_at": now, "received_at": now}
            for topic, body in deliveries
        ]
        for start in range(0, len(rows), 1000):
            conn.execute(insert(WebhookDelivery.__table__), rows[start:start + 1000])
    engine.dispose()


def distinct_orders(count: int) -> list[tuple[str, bytes]]:
    """``count`` orders/create deliveries, one per order: the throughput load."""
    return [("orders/create", order_body(1_000_000 + n)) for n in range(count)]


def shuffled_histories(count: int, orders: int, duplicates: float = 0.3,
                       seed: int = 7) -> tuple[list[tuple[str, bytes]], dict[int, dict]]:
    """``count`` deliveries over ``orders`` orders: each order's versions
    (orders/create then orders/updated), a ``duplicates`` share of them
    delivered twice, everything shuffled. Returns the deliveries and each
    order's expected final state (its newest version applied)."""
    rng = random.Random(seed)
    distinct = round(count / (1 + duplicates))
    versions = [distinct // orders + (1 if n < distinct % orders else 0) for n in range(orders)]
    events = [(2_000_000 + n, v) for n in range(orders) for v in range(versions[n])]
    events += rng.sample(events, count - len(events))
    rng.shuffle(events)
    deliveries = [("orders/create" if v == 0 else "orders/updated", order_body(order_id, v)) for order_id, v in events]
    expected = {2_000_000 + n: expected_order(2_000_000 + n, versions[n] - 1) for n in range(orders) if versions[n]}
    return deliveries, expected
