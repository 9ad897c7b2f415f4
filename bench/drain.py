"""Queue worker benchmarks: N queued deliveries drained by 1, 2 or 4 worker
processes (deliveries/s, peak RSS of a worker), and the correctness check
under load (duplicates and shuffled order across many orders, 4 workers).

Each worker is a separate process running ``plugin.worker.run(app, once=True)``,
as `aftercare worker --once` does. The processes start, import and connect
first, then all begin on one signal, so the time measured is the draining only.

    python -m bench.drain  # one worker process (the harness starts these)
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time

from sqlalchemy import create_engine, func, select

from .data import ROOT, SHOP, distinct_orders, fresh_database, peak_rss_kib, queue_deliveries, shuffled_histories


def drain(env: dict[str, str], workers: int) -> dict:
    """Start ``workers`` processes on the queued inbox, wait until all have
    found nothing left; deliveries/s over the wall time, peak RSS."""
    processes = [
        subprocess.Popen([sys.executable, "-m", "bench.drain"], env={**os.environ, **env}, cwd=ROOT,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for _ in range(workers)
    ]
    try:
        for p in processes:
            if p.stdout.readline().strip() != "ready":
                raise SystemExit("bench: a worker process did not start")
        cpu_before = _cpu_times()
        started = time.time()
        for p in processes:
            p.stdin.write("go\n")
            p.stdin.flush()
        reports = []
        for p in processes:
            out, _ = p.communicate(timeout=900)
            if p.returncode != 0:
                raise SystemExit(f"bench: a worker process failed (exit {p.returncode})")
            reports.append(json.loads(out))
    finally:
        for p in processes:
            if p.poll() is None:
                p.kill()
                p.wait()
    elapsed = max(r["finished"] for r in reports) - started
    busy, total = (after - before for after, before in zip(_cpu_times(), cpu_before))
    processed = sum(r["processed"] for r in reports)
    return {
        "workers": workers,
        "processed": processed,
        "seconds": elapsed,
        "per_second": processed / elapsed,
        "per_worker": [r["processed"] for r in reports],
        "failed_rounds": sum(r["failed_rounds"] for r in reports),
        "peak_rss_mib": max(r["peak_rss_kib"] for r in reports) / 1024,
        # CPU the worker processes spent per delivery, and how busy the whole
        # machine was meanwhile (database server included): when it is near 100 %,
        # more workers cannot go faster.
        "worker_cpu_ms_per_delivery": sum(r["cpu_seconds"] for r in reports) * 1000 / max(processed, 1),
        "machine_cpu_busy": busy / total if total else None,
    }


def _cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs, from /proc/stat."""
    try:
        fields = [int(v) for v in open("/proc/stat").readline().split()[1:]]
    except OSError:
        return 0, 0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


def throughput(postgres: str | None, deliveries: int, workers: int) -> dict:
    """Drain ``deliveries`` orders/create deliveries (one per order) with
    ``workers`` processes, on a fresh database."""
    with fresh_database(postgres) as env:
        queue_deliveries(env, distinct_orders(deliveries))
        result = drain(env, workers)
        statuses = _statuses(env)
    if statuses != {"processed": deliveries}:
        raise SystemExit(f"bench: after draining, deliveries are {statuses}, expected {deliveries} processed")
    return result


def correctness(postgres: str | None, deliveries: int, orders: int, workers: int = 4) -> dict:
    """``deliveries`` over ``orders`` orders, 30 % delivered twice, shuffled,
    drained by ``workers`` processes: every order must end in the state of its
    newest version and every delivery must have run exactly once."""
    queued, expected = shuffled_histories(deliveries, orders)
    with fresh_database(postgres) as env:
        queue_deliveries(env, queued)
        result = drain(env, workers)
        actual = _order_states(env)
        statuses = _statuses(env)
        attempts = _attempts(env)
    wrong = sorted(order_id for order_id in expected if actual.get(order_id) != expected[order_id])
    problems = []
    if wrong:
        problems.append(f"{len(wrong)} of {len(expected)} orders in the wrong state (e.g. {wrong[:3]})")
    if set(actual) != set(expected):
        problems.append(f"{len(actual)} orders stored, {len(expected)} expected")
    if statuses != {"processed": deliveries}:
        problems.append(f"deliveries are {statuses}, expected {deliveries} processed")
    if attempts != {1: deliveries}:
        problems.append(f"attempts per delivery are {attempts}, expected each exactly once")
    return {**result, "deliveries": deliveries, "orders": orders, "ok": not problems, "problems": problems}


def _engine(env):
    return create_engine(env["AFTERCARE_DATABASE_URL"])


def _statuses(env) -> dict[str, int]:
    from plugin.models import WebhookDelivery

    engine = _engine(env)
    with engine.connect() as conn:
        rows = conn.execute(select(WebhookDelivery.status, func.count()).group_by(WebhookDelivery.status)).all()
    engine.dispose()
    return dict(rows)


def _attempts(env) -> dict[int, int]:
    from plugin.models import WebhookDelivery

    engine = _engine(env)
    with engine.connect() as conn:
        rows = conn.execute(select(WebhookDelivery.attempts, func.count()).group_by(WebhookDelivery.attempts)).all()
    engine.dispose()
    return dict(rows)


def _order_states(env) -> dict[int, dict]:
    from plugin.models import LineItem, Order, Shop

    engine = _engine(env)
    with engine.connect() as conn:
        shop_id = conn.scalar(select(Shop.id).where(Shop.domain == SHOP))
        orders = conn.execute(
            select(Order.id, Order.shopify_id, Order.financial_status, Order.tags, Order.total_price)
            .where(Order.shop_id == shop_id)
        ).all()
        items = conn.execute(
            select(LineItem.order_id, LineItem.shopify_id, LineItem.quantity).where(LineItem.shop_id == shop_id)
        ).all()
    engine.dispose()
    quantities: dict[int, list] = {}
    for order_id, shopify_id, quantity in items:
        quantities.setdefault(order_id, []).append((shopify_id, quantity))
    return {
        o.shopify_id: {"financial_status": o.financial_status, "tags": o.tags,
                       "total_price": f"{o.total_price:.2f}", "quantities": sorted(quantities.get(o.id, []))}
        for o in orders
    }


def _worker_process() -> None:
    """One worker: build the app, say ready, wait for go, drain, report.

    Like `aftercare worker`, a round that fails (on SQLite, a worker can wait
    out the 30 s busy timeout while others keep the write lock) is retried,
    not fatal; the worker stops once a round finds nothing due, as with
    --once. The rounds that failed are counted in the report."""
    from sqlalchemy.exc import OperationalError

    from plugin import create_app, worker
    from plugin.db import engine
    from webhooks import inbox

    app = create_app(instance_path=os.environ["AFTERCARE_INSTANCE"])
    processed = 0
    run_batch = inbox._run_batch

    def counting(session, deliveries):  # counts survive a later round's failure
        nonlocal processed
        ran = run_batch(session, deliveries)
        processed += ran
        return ran

    inbox._run_batch = counting
    with engine(app).connect():
        pass  # connect before the clock starts
    print("ready", flush=True)
    sys.stdin.readline()
    before = resource.getrusage(resource.RUSAGE_SELF)
    failed_rounds = 0
    while True:
        try:
            worker.run(app, once=True)
            break
        except OperationalError:
            failed_rounds += 1
    finished = time.time()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime - before.ru_utime - before.ru_stime
    print(json.dumps({"processed": processed, "finished": finished, "peak_rss_kib": peak_rss_kib(),
                      "cpu_seconds": cpu, "failed_rounds": failed_rounds}))


if __name__ == "__main__":
    _worker_process()
