"""Webhook receipt benchmark: throughput, latency and memory of POST /webhooks
against two baselines measured in the same run on the same server (gunicorn,
one process, threads):

- bare:    a Flask endpoint that only reads the body;
- minimal: HMAC check + INSERT + COMMIT into the same database;
- app:     Aftercare's /webhooks (verify, shop lookup, dedupe insert, commit).

Targets: the app's p50 latency within 1.3x of `minimal` and its throughput at
least 0.7x of `minimal` (both databases); memory within 1.5x of `bare`. Seen on
2 cores, 8 concurrent: SQLite 0.71x / 1.11x, PostgreSQL 0.84x / 1.21x.
On SQLite the p99 tail is the single writer's lock queue, for the app and the
minimal baseline alike; production runs on PostgreSQL.

    python bench/webhooks.py [--requests 2000] [--concurrency 8] [--database-url URL]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-secret-bench-secret-bench-secret"
SHOP = "bench-shop.myshopify.com"
BODY = (ROOT / "tests" / "payloads" / "order_create.json").read_bytes()
SIGNATURE = base64.b64encode(hmac.new(SECRET.encode(), BODY, hashlib.sha256).digest()).decode()
TARGETS = {"bare": "bench.baselines:bare", "minimal": "bench.baselines:minimal", "app": "plugin.wsgi:app"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare_database(env: dict) -> None:
    """Migrate, add the shop, and create the minimal baseline's table."""
    from sqlalchemy import text

    from plugin import create_app, migrate, shops
    from plugin.db import engine, get_session

    app = create_app(environ=env, instance_path=env["AFTERCARE_INSTANCE"])
    with app.app_context():
        migrate.upgrade(app)
        shops.install(get_session(), SHOP, shops.static_grant("bench-token"))
        get_session().commit()
        with engine(app).begin() as conn:
            conn.execute(text("CREATE TABLE IF NOT EXISTS bench_minimal (webhook_id VARCHAR(255), body BYTEA)"
                              if conn.dialect.name == "postgresql" else
                              "CREATE TABLE IF NOT EXISTS bench_minimal (webhook_id VARCHAR(255), body BLOB)"))
    engine(app).dispose()


def rss_kib(pid: int) -> int:
    """Resident memory of a process and its children (gunicorn master + worker)."""
    total = 0
    for p in [pid, *children(pid)]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total


def children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def load(url: str, total: int, concurrency: int) -> tuple[list[float], float]:
    latencies: list[float] = []
    lock = threading.Lock()
    per_thread = total // concurrency

    def run():
        mine = []
        with requests.Session() as http:
            for _ in range(per_thread):
                headers = {
                    "Content-Type": "application/json",
                    "X-Shopify-Topic": "orders/create",
                    "X-Shopify-Hmac-Sha256": SIGNATURE,
                    "X-Shopify-Shop-Domain": SHOP,
                    "X-Shopify-Webhook-Id": str(uuid.uuid4()),
                }
                start = time.perf_counter()
                response = http.post(url, data=BODY, headers=headers, timeout=10)
                mine.append(time.perf_counter() - start)
                if response.status_code != 200:
                    raise SystemExit(f"{url} answered {response.status_code}: {response.text[:200]}")
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=run) for _ in range(concurrency)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, time.perf_counter() - start


def measure(name: str, target: str, env: dict, total: int, concurrency: int) -> dict:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "1", "--threads", str(concurrency),
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning", target],
        env=env, cwd=ROOT,
    )
    url = f"http://127.0.0.1:{port}/webhooks"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit(f"{name}: server did not start") from None
                time.sleep(0.1)
        load(url, min(200, total), concurrency)  # warm up
        latencies, elapsed = load(url, total, concurrency)
        memory = rss_kib(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=10)
    latencies.sort()
    return {
        "name": name,
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "rss_mib": memory / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "SHOPIFY_API_KEY": "bench-key",
            "SHOPIFY_API_SECRET": SECRET,
            "AFTERCARE_SECRET_KEY": "bench-secret-key-0123456789abcdef0123",
            "AFTERCARE_DATABASE_URL": args.database_url or f"sqlite:///{tmp}/bench.db",
            "AFTERCARE_INSTANCE": tmp,
        }
        prepare_database(env)
        results = {name: measure(name, target, env, args.requests, args.concurrency) for name, target in TARGETS.items()}

    print(f"POST /webhooks, {args.requests} requests, {args.concurrency} concurrent, "
          f"{'SQLite' if not args.database_url else args.database_url.split(':')[0]}")
    print(f"{'':8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'RSS MiB':>8}")
    for r in results.values():
        print(f"{r['name']:8} {r['rps']:8.0f} {r['p50_ms']:8.2f} {r['p99_ms']:8.2f} {r['rss_mib']:8.1f}")
    app, bare, minimal = results["app"], results["bare"], results["minimal"]
    print(f"app/minimal: throughput {app['rps'] / minimal['rps']:.2f}x, p50 {app['p50_ms'] / minimal['p50_ms']:.2f}x, "
          f"p99 {app['p99_ms'] / minimal['p99_ms']:.2f}x")
    print(f"app/bare:    throughput {app['rps'] / bare['rps']:.2f}x, p50 {app['p50_ms'] / bare['p50_ms']:.2f}x, "
          f"memory {app['rss_mib'] / bare['rss_mib']:.2f}x")
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
