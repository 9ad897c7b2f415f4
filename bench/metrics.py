"""Survey metrics at scale: 1,000,000 answers in PostgreSQL, then the time of
GET /api/admin/metrics over a year (target: < 300 ms with one breakdown) and
the peak memory of the CSV export of a month and of the whole year (target:
the same: the export streams, one row at a time).

The answers are made by INSERT … SELECT generate_series, in a fresh database
on the given server, dropped afterwards, with the daily counts' triggers off
and one recount after (a bulk load). Spread over one
year: five carriers, 200 products, lateness from 2 days early to 4 late (a
tenth unknown), an eighth after returns, 80% of invitations answered with two
questions each.

Seen on 2 shared cores under a load average of 6–8 (PostgreSQL 15, 1M
answers, 2026-12-02), median of 5: a year with no breakdown 9.8 ms, by
carrier 23.5, touchpoint 10.5, lateness 11.3, week 44.2, product 26.3; the
CSV of the year, 999,432 rows in 25 s, peaked at 106.0 MiB, the same as a
month's (+0.0 MiB). Before the daily and monthly counts
(plugin/surveys/rollup.py), on the same machine an hour earlier: 1,213 ms,
1,244, 1,341, 1,126, 2,189 and 8,259: every call read every answer and
invitation of the range.

    python bench/metrics.py [--answers 1000000 | --quick] [--database-url URL]

URL is a PostgreSQL role that may create databases (default:
AFTERCARE_TEST_POSTGRES_URL). `main(argv)` returns the figures as a dict.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
API_KEY = "bench-key"
SECRET = "shpss_bench000000000000000000000000000"
SHOP = "bench-shop.myshopify.com"
YEAR = ("2026-01-01", "2027-01-01")
MONTH = ("2026-06-01", "2026-07-01")
TARGET_MS = 300
QUICK_ANSWERS = 20_000


def environ(database_url: str, instance: str) -> dict[str, str]:
    return {"SHOPIFY_API_KEY": API_KEY, "SHOPIFY_API_SECRET": SECRET, "AFTERCARE_SECRET_KEY": "bench-secret-key-bench-secret-key-0123",
            "AFTERCARE_DATABASE_URL": database_url, "AFTERCARE_INSTANCE": instance}


@contextmanager
def fresh_database(server: str):
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"aftercare_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def make_app(database_url: str, instance: str):
    from plugin import create_app

    return create_app(environ=environ(database_url, instance), instance_path=instance)


def generate(app, answers: int) -> tuple[int, int]:
    """The shop and ``answers`` answers (two per answered invitation); returns
    the shop's id and the number of answers made."""
    from sqlalchemy import text

    from plugin import migrate, shops
    from plugin.db import engine, worker_session
    from plugin.surveys import rollup

    migrate.upgrade(app)
    with worker_session(app) as session, session.begin():
        shop = shops.install(session, SHOP, shops.static_grant("bench-token"))
        session.flush()
        shop_id = shop.id
    invitations = answers * 5 // 8  # 80% answered, two answers each
    params = {"shop": shop_id, "n": invitations, "start": YEAR[0], "end": YEAR[1]}
    with engine(app).begin() as conn:
        # A bulk load: the daily counts' row triggers off, one recount after (rollup.py).
        conn.execute(text("ALTER TABLE survey_invitations DISABLE TRIGGER survey_invitations_days"))
        conn.execute(text("ALTER TABLE survey_responses DISABLE TRIGGER survey_responses_days"))
        conn.execute(text("""
            INSERT INTO orders (shop_id, shopify_id, name, number, created_at, updated_at)
            SELECT :shop, g, '#' || (1000 + g), 1000 + g, now(), now() FROM generate_series(1, :n) g"""), params)
        conn.execute(text("""
            INSERT INTO survey_invitations (shop_id, order_id, touchpoint, kinds, locale, carrier, products,
                days_late, status, due_at, sent_at, expires_at, answered_at, created_at)
            SELECT :shop, o.id, CASE WHEN o.number % 8 = 0 THEN 'return' ELSE 'delivery' END,
                '["csat", "ces", "nps"]'::json, 'en',
                (ARRAY['UPS', 'DHL', 'FedEx', 'USPS', 'La Poste'])[1 + o.number % 5],
                json_build_array('Product ' || (o.number % 200), 'Product ' || ((o.number * 7) % 200)),
                CASE WHEN o.number % 10 = 0 THEN NULL ELSE (o.number % 7) - 2 END,
                CASE WHEN o.number % 5 = 0 THEN 'sent' ELSE 'answered' END,
                t, t, t + interval '30 days', CASE WHEN o.number % 5 = 0 THEN NULL ELSE t + interval '5 hours' END,
                t
            FROM (SELECT id, number, CAST(:start AS timestamptz)
                         + (CAST(:end AS timestamptz) - CAST(:start AS timestamptz)) * (number - 1000) / (:n + 1) AS t
                  FROM orders WHERE shop_id = :shop) o"""), params)
        conn.execute(text("""
            INSERT INTO survey_responses (shop_id, invitation_id, kind, score, comment, order_id, touchpoint,
                carrier, products, days_late, locale, answered_at)
            SELECT i.shop_id, i.id, k.kind,
                CASE k.kind WHEN 'csat' THEN 1 + (i.id * 7) % 5 WHEN 'ces' THEN 1 + (i.id * 3) % 7
                            ELSE (i.id * 11) % 11 END,
                CASE WHEN i.id % 20 = 0 THEN 'The parcel came ' || i.id % 9 || ' days late, box "dented"' END,
                i.order_id, i.touchpoint, i.carrier, i.products, i.days_late, i.locale, i.answered_at
            FROM survey_invitations i
            CROSS JOIN LATERAL (VALUES ('csat'), (CASE WHEN i.id % 2 = 0 THEN 'ces' ELSE 'nps' END)) AS k(kind)
            WHERE i.shop_id = :shop AND i.answered_at IS NOT NULL"""), params)
        count = conn.execute(text("SELECT count(*) FROM survey_responses WHERE shop_id = :shop"), params).scalar()
        rollup.backfill(conn)
        conn.execute(text("ALTER TABLE survey_invitations ENABLE TRIGGER survey_invitations_days"))
        conn.execute(text("ALTER TABLE survey_responses ENABLE TRIGGER survey_responses_days"))
    # What autovacuum does soon after a bulk load: statistics, and the
    # visibility map that lets the metrics read their covering indexes alone.
    with engine(app).connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE orders, survey_invitations, survey_responses, survey_answer_days, "
                          "survey_invitation_days"))
    return shop_id, count


def session_token() -> str:
    import jwt

    now = int(time.time())
    return jwt.encode({"iss": f"https://{SHOP}/admin", "dest": f"https://{SHOP}", "aud": API_KEY, "sub": "1",
                       "exp": now + 3600, "nbf": now - 1, "iat": now - 1, "jti": uuid.uuid4().hex,
                       "sid": uuid.uuid4().hex}, SECRET, algorithm="HS256")


def time_metrics(app, by: str | None, runs: int) -> dict:
    client = app.test_client()
    headers = {"Authorization": f"Bearer {session_token()}"}
    query = {"from": YEAR[0], "to": YEAR[1], **({"by": by} if by else {})}
    timings = []
    for _ in range(runs + 1):  # the first warms the caches up
        start = time.perf_counter()
        response = client.get("/api/admin/metrics", query_string=query, headers=headers)
        timings.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"metrics answered {response.status_code}: {response.get_data(as_text=True)[:300]}")
    return {"by": by or "-", "median_ms": statistics.median(timings[1:]), "max_ms": max(timings[1:]),
            "answers": response.json["csat"]["count"] + response.json["ces"]["count"] + response.json["nps"]["count"]}


def export_child(database_url: str, instance: str, start: str, end: str) -> None:
    """Runs in a process of its own: stream the CSV, print rows and peak RSS."""
    import resource

    app = make_app(database_url, instance)
    client = app.test_client()
    response = client.get("/api/admin/surveys/responses.csv", query_string={"from": start, "to": end},
                          headers={"Authorization": f"Bearer {session_token()}"})
    lines = size = 0
    began = time.perf_counter()
    for chunk in response.response:
        lines += 1
        size += len(chunk)
    response.close()
    print(json.dumps({"rows": lines - 1, "mib": size / 2**20, "seconds": time.perf_counter() - began,
                      "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def measure_export(database_url: str, instance: str, span: tuple[str, str]) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, "--export-child", database_url, instance, *span],
        capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"CSV export failed: {result.stderr[-1500:]}")
    return {"range": f"{span[0]}..{span[1]}", **json.loads(result.stdout.splitlines()[-1])}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_ANSWERS:,} answers: a smoke run")
    parser.add_argument("--runs", type=int, default=5, help="timed requests per breakdown")
    parser.add_argument("--database-url", default=os.environ.get("AFTERCARE_TEST_POSTGRES_URL"),
                        help="a PostgreSQL role that may create databases")
    parser.add_argument("--export-child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.export_child:
        export_child(*args.export_child)
        return {}
    if not args.database_url or not args.database_url.startswith("postgresql"):
        raise SystemExit("bench/metrics.py needs PostgreSQL: --database-url or AFTERCARE_TEST_POSTGRES_URL")
    answers = QUICK_ANSWERS if args.quick else args.answers

    from plugin.db import engine

    with tempfile.TemporaryDirectory() as instance, fresh_database(args.database_url) as url:
        app = make_app(url, instance)
        try:
            with app.app_context():
                began = time.perf_counter()
                _, count = generate(app, answers)
                generated = time.perf_counter() - began
                print(f"{count:,} answers generated in {generated:.1f} s")
                timings = [time_metrics(app, by, args.runs) for by in (None, "carrier", "touchpoint", "lateness",
                                                                        "week", "product")]
        finally:
            engine(app).dispose()
        exports = [measure_export(url, instance, MONTH), measure_export(url, instance, YEAR)]

    print(f"GET /api/admin/metrics over {YEAR[0]}..{YEAR[1]}, median of {args.runs} (target < {TARGET_MS} ms)")
    print(f"{'by':12} {'median ms':>10} {'max ms':>8} {'answers':>10}")
    for t in timings:
        print(f"{t['by']:12} {t['median_ms']:10.1f} {t['max_ms']:8.1f} {t['answers']:10,}")
    print("GET /api/admin/surveys/responses.csv (own process each)")
    print(f"{'range':24} {'rows':>10} {'MiB':>8} {'seconds':>8} {'peak RSS MiB':>13}")
    for e in exports:
        print(f"{e['range']:24} {e['rows']:10,} {e['mib']:8.1f} {e['seconds']:8.1f} {e['peak_rss_mib']:13.1f}")
    growth = exports[1]["peak_rss_mib"] - exports[0]["peak_rss_mib"]
    print(f"export memory, year minus month: {growth:+.1f} MiB")
    return {"answers": count, "generate_seconds": generated, "metrics": timings, "exports": exports,
            "export_growth_mib": growth}


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
