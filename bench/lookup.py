"""Widget lookup benchmark: `POST /widgets/api/lookup` over HTTP with N orders
in the shop (10,000 and 1,000,000 in the full run), p50 and p99, next to its
baseline measured in the same run: `GET /widgets/api/orders/<token>`, the same
order view reached by its signed token, i.e. everything but the search.

Orders (each with one line item) are made by one INSERT … SELECT per table
(generate_series on PostgreSQL, a recursive CTE on SQLite), never through the
API. The app is served as in production, by gunicorn (one sync worker) in
its own process, asked one request at a time (a new connection each: sync
workers close it after each answer, so each lookup pays a local TCP connect):
this measures the work of one lookup, not throughput. (Served by a thread of
this process, as it first was, the client and the server took turns at the
GIL and a request could wait out Python's 5 ms switch interval: p99 measured
the interpreter, not the lookup.) Two things production adds are switched off here and said so:
the lookup's timing floor (``LOOKUP_SECONDS``, 250 ms, which pads every
answer so a miss cannot be told from a hit) and the rate limit (10 a minute
per client). A tenth of the lookups miss (a wrong email), since misses do
the same work as hits.

    python -m bench.lookup [--quick] [--postgres-url URL]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.exc import ProgrammingError

from .data import ROOT, SHOP, fresh_database
from .ingest import _free_port, _wait_until_up

FULL = {"orders": (10_000, 1_000_000), "lookups": 2_000, "warmup": 200}
QUICK = {"orders": (2_000, 20_000), "lookups": 300, "warmup": 50}
TARGET_P99_MS = 20.0
TARGET_GROWTH = 1.5


def email(n: int) -> str:
    return f"shopper{n}@example.com"


def generate(database_url: str, count: int) -> None:
    """``count`` orders #1001… (number 1000 + n), with their email and one line item."""
    engine = create_engine(database_url)
    with engine.begin() as conn:
        shop_id = conn.execute(text("SELECT id FROM shops WHERE domain = :d"), {"d": SHOP}).scalar()
        if conn.dialect.name == "postgresql":
            series = "SELECT g AS n FROM generate_series(1, :count) g"
            prefix = ""
        else:
            prefix = "WITH RECURSIVE series(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM series WHERE n < :count) "
            series = "SELECT n FROM series"
        conn.execute(text(prefix + f"""
            INSERT INTO orders (shop_id, shopify_id, name, name_key, number, email, customer_first_name, locale,
                                financial_status, currency, total_price, shipping_city, test, created_at, updated_at)
            SELECT :shop, 5000000000000 + n, '#' || (1000 + n), CAST(1000 + n AS TEXT), 1000 + n,
                   'shopper' || n || '@example.com',
                   'Ana', 'en', 'paid', 'USD', 42.00, 'Lisbon', false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP
            FROM ({series}) s"""), {"shop": shop_id, "count": count})
        conn.execute(text("""
            INSERT INTO line_items (shop_id, order_id, shopify_id, title, quantity, price, requires_shipping,
                                    gift_card)
            SELECT shop_id, id, shopify_id * 10, 'Merino Crew Sweater', 1, 42.00, true, false
            FROM orders WHERE shop_id = :shop"""), {"shop": shop_id})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if conn.dialect.name == "postgresql" else "ANALYZE"))
        if conn.dialect.name == "postgresql":
            _checkpoint(conn)
    engine.dispose()


def _checkpoint(conn) -> None:
    """Write out the bulk load now, as a database in its steady state would
    have, rather than while the lookups are timed (a million orders leave
    about a gigabyte of WAL for the checkpointer). CHECKPOINT needs a
    superuser or the pg_checkpoint role; without it, say so and go on."""
    try:
        conn.execute(text("CHECKPOINT"))
    except ProgrammingError:
        print("bench.lookup: no CHECKPOINT (the role lacks pg_checkpoint); "
              "the bulk load may still be written out while lookups are timed", file=sys.stderr)


def app_for_bench():
    """The app as gunicorn serves it here: production's, with the lookup's
    timing floor and the rate limit off (see the module's docstring)."""
    from plugin import create_app

    return create_app({"LOOKUP_SECONDS": 0, "RATELIMIT_ENABLED": False})


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def measure_one(postgres_url: str | None, count: int, lookups: int, warmup: int) -> dict:
    with fresh_database(postgres_url) as env:
        began = time.monotonic()
        generate(env["AFTERCARE_DATABASE_URL"], count)
        generated = time.monotonic() - began
        port = _free_port()
        with tempfile.TemporaryFile("w+") as log:
            server = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--worker-class", "sync", "--workers", "1",
                 "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "bench.lookup:app_for_bench()"],
                env={**os.environ, **env}, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
            )
            try:
                _wait_until_up(port, server, log)
                timings, statuses = _timed_lookups(f"http://127.0.0.1:{port}/widgets/api", count, lookups, warmup)
            finally:
                server.terminate()
                server.wait(timeout=30)
    expected = {200: (warmup + lookups) - (warmup + lookups) // 10, 404: (warmup + lookups) // 10}
    if statuses != expected:
        raise SystemExit(f"bench.lookup: answers {statuses}, expected {expected}")
    figures = {"orders": count, "lookups": lookups, "generate_seconds": round(generated, 1)}
    for name, values in timings.items():
        figures[f"{name}_p50_ms"] = round(statistics.median(values), 2)
        figures[f"{name}_p99_ms"] = round(_percentile(values, 0.99), 2)
    return figures


def _timed_lookups(base: str, count: int, lookups: int, warmup: int) -> tuple[dict, dict]:
    """Lookups (a tenth with a wrong email) and, for each hit, the same order
    by its token; the timings after the warm-up, and the answers' statuses."""
    http = requests.Session()
    rng = random.Random(count)
    timings: dict[str, list[float]] = {"lookup": [], "token": []}
    statuses: dict[int, int] = {}
    try:
        for i in range(warmup + lookups):
            n = rng.randint(1, count)
            miss = i % 10 == 9
            body = {"order": f"#{1000 + n}", "email": "nobody@example.com" if miss else email(n).upper()}
            start = time.perf_counter()
            response = http.post(f"{base}/lookup", params={"shop": SHOP}, json=body)
            elapsed = (time.perf_counter() - start) * 1000
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if i >= warmup:
                timings["lookup"].append(elapsed)
            if response.status_code == 200:
                token = response.json()["token"]
                start = time.perf_counter()
                again = http.get(f"{base}/orders/{token}", params={"shop": SHOP})
                if i >= warmup:
                    timings["token"].append((time.perf_counter() - start) * 1000)
                assert again.status_code == 200, again.status_code
    finally:
        http.close()
    return timings, statuses


def measure(postgres_url: str | None, sizes: dict) -> list[dict]:
    """Each size in a fresh database; the growth of p99 from the first size."""
    runs = [measure_one(postgres_url, count, sizes["lookups"], sizes["warmup"]) for count in sizes["orders"]]
    for run in runs:
        run["p99_growth"] = round(run["lookup_p99_ms"] / runs[0]["lookup_p99_ms"], 2)
    return runs


def print_table(results: dict[str, list[dict]]) -> None:
    first = next(iter(results.values()), [])
    lookups = first[0]["lookups"] if first else 0
    print(f"\nLookup: POST /widgets/api/lookup over HTTP, one at a time, {lookups} lookups (a tenth missing), "
          f"timing floor and rate limit off; baseline GET …/orders/<token> (target p99 < {TARGET_P99_MS:g} ms, "
          f"growth < {TARGET_GROWTH:g}x)")
    print(f"{'database':11} {'orders':>9} {'p50 ms':>7} {'p99 ms':>7} {'token p50':>10} {'token p99':>10} "
          f"{'p99 growth':>11}")
    for database, runs in results.items():
        for r in runs:
            print(f"{database:11} {r['orders']:9} {r['lookup_p50_ms']:7.2f} {r['lookup_p99_ms']:7.2f} "
                  f"{r['token_p50_ms']:10.2f} {r['token_p99_ms']:10.2f} {r['p99_growth']:10.2f}x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--postgres-url", default=os.environ.get("AFTERCARE_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    databases = {"sqlite": None, **({"postgresql": args.postgres_url} if args.postgres_url else {})}
    print_table({name: measure(url, sizes) for name, url in databases.items()})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
