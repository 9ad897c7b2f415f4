"""Notification sending benchmark: N pending "shipped" emails in the outbox,
sent by one `aftercare worker --once` to a local SMTP sink, next to the bare
rate of the same sink (an `smtplib` loop sending N messages of the same size
over one connection) measured in the same run; and the worker's peak RSS.

The sink (aiosmtpd, accepting and discarding) runs in its own process so it
does not share a GIL with the sender being measured. The outbox rows belong
to real orders with a shipped parcel, bulk-inserted (never the API), so
every message goes through the real claim, settle and render_email.

    python -m bench.notifications [--quick] [--postgres-url URL]
    python -m bench.notifications --sink PORT   # the sink process (the harness starts it)
    python -m bench.notifications --worker      # the measured worker process (likewise)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import smtplib
import socket
import subprocess
import sys
import time
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import create_engine, func, insert, select

from .data import ROOT, SHOP, fresh_database, peak_rss_kib

FULL, QUICK = 10_000, 500


def measure(postgres: str | None, count: int) -> dict:
    """Bare smtplib loop, then the worker, against one sink; both rates,
    their ratio, the worker's peak RSS."""
    with fresh_database(postgres) as env, _sink() as port:
        idle = _worker(env, port)  # start-up and an empty round: what every --once pays
        queue_notifications(env, count)
        sample = _sample_message(env)
        bare = _bare_loop(port, sample, count)
        worker = _worker(env, port)
        statuses = _statuses(env)
    if statuses != {"sent": count}:
        raise SystemExit(f"bench: after the worker, notifications are {statuses}, expected {count} sent")
    return {
        "messages": count,
        "message_bytes": len(sample),
        "bare_per_second": count / bare,
        "worker_per_second": count / worker["seconds"],
        "ratio": bare / worker["seconds"],
        "worker_seconds": worker["seconds"],
        "worker_idle_seconds": idle["seconds"],
        "worker_per_second_after_startup": count / max(worker["seconds"] - idle["seconds"], 1e-9),
        "worker_peak_rss_mib": worker["peak_rss_kib"] / 1024,
        "worker_cpu_ms_per_message": (worker["cpu_seconds"] - idle["cpu_seconds"]) * 1000 / count,
    }


def queue_notifications(env: dict[str, str], count: int) -> None:
    """``count`` orders, each with two line items and one shipped parcel,
    and a pending "shipped" email for each, due now; bulk inserts."""
    from plugin.models import Fulfillment, LineItem, Notification, Order, Shop, utcnow

    engine = create_engine(env["AFTERCARE_DATABASE_URL"])
    now = utcnow() - timedelta(seconds=1)
    with engine.begin() as conn:
        shop_id = conn.scalar(select(Shop.id).where(Shop.domain == SHOP))
        for start in range(0, count, 1000):
            ids = range(start + 1, min(start + 1000, count) + 1)
            conn.execute(insert(Order.__table__), [{
                "id": n, "shop_id": shop_id, "shopify_id": 5_000_000 + n, "name": f"#{1000 + n}",
                "number": 1000 + n, "email": f"customer{n}@example.com", "customer_first_name": "Alex",
                "locale": "en", "financial_status": "paid", "fulfillment_status": "fulfilled",
                "currency": "EUR", "total_price": Decimal("84.50"), "subtotal_price": Decimal("79.50"),
                "shipping_city": "Lyon", "shipping_country": "France", "test": False,
                "shopify_created_at": now, "shopify_updated_at": now, "created_at": now, "updated_at": now,
            } for n in ids])
            conn.execute(insert(LineItem.__table__), [{
                "shop_id": shop_id, "order_id": n, "shopify_id": 5_000_000 * 10 + n * 10 + k,
                "title": title, "variant_title": "M", "sku": f"SKU-{k}", "quantity": 1 + k,
                "price": Decimal(price), "requires_shipping": True, "gift_card": False,
            } for n in ids for k, (title, price) in enumerate((("Linen shirt", "49.50"), ("Wool socks", "15.00")))])
            conn.execute(insert(Fulfillment.__table__), [{
                "id": n, "shop_id": shop_id, "order_id": n, "shopify_id": 6_000_000 + n, "name": f"#{1000 + n}.1",
                "status": "success", "tracking_company": "UPS", "tracking_numbers": [f"1Z999AA1{n:010d}"],
                "tracking_urls": [f"https://www.ups.com/track?tracknum=1Z999AA1{n:010d}"],
                "shopify_created_at": now, "shopify_updated_at": now, "created_at": now, "updated_at": now,
            } for n in ids])
            conn.execute(insert(Notification.__table__), [{
                "shop_id": shop_id, "order_id": n, "kind": "shipped", "channel": "email",
                "recipient": f"customer{n}@example.com", "dedupe_key": f"shipped:{n}:email",
                "context": {"fulfillment_id": n, "parcel": 1, "parcels": 1}, "status": "pending",
                "attempts": 0, "next_attempt_at": now, "created_at": now,
            } for n in ids])
    engine.dispose()


def _sample_message(env: dict[str, str]) -> bytes:
    """The first outbox row rendered by render_email: what the bare loop sends."""
    from plugin import create_app
    from plugin.db import engine, get_session
    from plugin.models import Notification, Shop
    from plugin.notifications.render import render_email

    app = create_app(environ=env, instance_path=env["AFTERCARE_INSTANCE"])
    with app.app_context():
        session = get_session()
        row = session.scalar(select(Notification).order_by(Notification.id).limit(1))
        message = render_email(session, session.get(Shop, row.shop_id), row)
        message["To"] = row.recipient
        if message["From"] is None:
            message["From"] = app.config["MAIL_FROM"]
        session.rollback()
    engine(app).dispose()
    return message.as_bytes(policy=message.policy.clone(linesep="\r\n"))  # as smtplib's send_message


def _bare_loop(port: int, message: bytes, count: int) -> float:
    """Seconds for ``count`` messages over one smtplib connection."""
    messages = [message.replace(b"customer1@example.com", f"customer{n}@example.com".encode(), 1)
                for n in range(1, count + 1)]
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as server:
        for n, body in enumerate(messages, 1):
            server.sendmail("no-reply@localhost", [f"customer{n}@example.com"], body)
    return time.perf_counter() - started


def _worker(env: dict[str, str], port: int) -> dict:
    """`aftercare worker --once` as a subprocess (``--worker``, below): its
    wall time (start-up included), its CPU time, and its own peak RSS."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.notifications", "--worker"],
        env={**os.environ, **env, "AFTERCARE_SMTP_URL": f"smtp://127.0.0.1:{port}"}, cwd=ROOT,
        stdout=subprocess.PIPE, text=True)
    started = time.perf_counter()
    out, _ = process.communicate()
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"bench: aftercare worker --once failed (exit {process.returncode})")
    return {"seconds": seconds, **json.loads(out.strip().splitlines()[-1])}


def _run_worker() -> None:
    """The worker process: `aftercare worker --once`, then one JSON line with
    its peak RSS (VmHWM: see data.peak_rss_kib) and CPU seconds, its outbox's
    sender processes' included."""
    import resource

    from plugin.cli import cli

    try:
        cli(["worker", "--once"], prog_name="aftercare")
    finally:
        cpu = sum(usage.ru_utime + usage.ru_stime for usage in (
            resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)))
        print(json.dumps({"peak_rss_kib": peak_rss_kib(), "cpu_seconds": cpu}), flush=True)


def _statuses(env: dict[str, str]) -> dict[str, int]:
    from plugin.models import Notification

    engine = create_engine(env["AFTERCARE_DATABASE_URL"])
    with engine.connect() as conn:
        rows = conn.execute(select(Notification.status, func.count()).group_by(Notification.status)).all()
    engine.dispose()
    return dict(rows)


class _sink:
    """The SMTP sink in its own process, for the duration of a with block."""

    def __enter__(self) -> int:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.process = subprocess.Popen([sys.executable, "-m", "bench.notifications", "--sink", str(port)],
                                        cwd=ROOT, stdout=subprocess.PIPE, text=True)
        if self.process.stdout.readline().strip() != "ready":
            self.process.kill()
            raise SystemExit("bench: the SMTP sink did not start")
        return port

    def __exit__(self, *_exc) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def _serve_sink(port: int) -> None:
    """Accept every message and discard it."""
    from aiosmtpd.controller import Controller

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    try:
        asyncio.run(asyncio.Event().wait())
    finally:
        controller.stop()


def print_table(results: dict[str, dict]) -> None:
    first = next(iter(results.values()))
    print(f"\nNotifications: {first['messages']} queued shipped emails (~{first['message_bytes'] // 1024} KB), "
          f"one `aftercare worker --once` against a bare smtplib loop, same SMTP sink")
    print(f"{'database':11} {'smtplib msg/s':>13} {'worker msg/s':>12} {'÷ bare':>7} {'start-up s':>10} "
          f"{'msg/s after':>11} {'worker RSS MiB':>15}")
    for database, r in results.items():
        print(f"{database:11} {r['bare_per_second']:13.0f} {r['worker_per_second']:12.0f} {r['ratio']:6.2f}x "
              f"{r['worker_idle_seconds']:10.2f} {r['worker_per_second_after_startup']:11.0f} "
              f"{r['worker_peak_rss_mib']:15.1f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK} messages instead of {FULL}")
    parser.add_argument("--postgres-url", default=os.environ.get("AFTERCARE_TEST_POSTGRES_URL"))
    parser.add_argument("--sink", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.sink:
        _serve_sink(args.sink)
        return 0
    if args.worker:
        _run_worker()
        return 0
    count = QUICK if args.quick else FULL
    databases = {"sqlite": None, **({"postgresql": args.postgres_url} if args.postgres_url else {})}
    results = {name: measure(url, count) for name, url in databases.items()}
    print_table(results)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
