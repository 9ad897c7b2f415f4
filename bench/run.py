"""Aftercare's benchmarks, with their baselines measured in the same run
(machines are noisy; only ratios are stable). One table, one JSON file:

- ingest: POST /webhooks against a bare Flask endpoint and the floor
  (HMAC + INSERT + COMMIT), under wrk, on SQLite and on PostgreSQL;
- worker: N queued deliveries drained by 1, 2 and 4 worker processes;
- notifications: N outbox emails sent by one `aftercare worker --once` to a
  local SMTP sink, against a bare smtplib loop to the same sink;
- lookup: the widget's order lookup over HTTP with 10,000 and 1,000,000
  orders, against the same order view by its signed token;
- memory: peak RSS of a web worker and of a queue worker;
- correctness: 4 workers, 30 % duplicate deliveries, shuffled, many orders:
  every order ends in its newest state, no delivery runs twice;
- two machines (PostgreSQL, full run only): the same check over HTTP,
  against two sets of web + worker processes sharing the database, with
  every email counted (tests/test_two_machines.py runs a small one).

    python bench/run.py [--quick] [--postgres-url URL] [--json PATH]

PostgreSQL is measured when a server URL is given (--postgres-url, or
AFTERCARE_TEST_POSTGRES_URL) whose role may create databases: each
measurement creates and drops its own. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if __name__ == "__main__":  # `python bench/run.py`: import the project, not bench/'s modules, by name
    sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]

from bench import drain, ingest, lookup, machines, notifications  # noqa: E402
from bench.data import fresh_database  # noqa: E402

FULL = {"ingest_seconds": 20, "warmup_seconds": 3, "deliveries": 20_000,
        "correctness": (20_000, 2_000), "workers": (1, 2, 4), "notifications": notifications.FULL,
        "machines": (2_000, 400), "lookup": lookup.FULL}
QUICK = {"ingest_seconds": 2, "warmup_seconds": 1, "deliveries": 500,
         "correctness": (2_000, 200), "workers": (1, 2, 4), "notifications": notifications.QUICK,
         "machines": None, "lookup": lookup.QUICK}  # machines: tests/test_two_machines.py runs it small


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, under 2 minutes (what the tests run)")
    parser.add_argument("--postgres-url", default=os.environ.get("AFTERCARE_TEST_POSTGRES_URL"),
                        help="PostgreSQL server whose role may create databases "
                             "(default: $AFTERCARE_TEST_POSTGRES_URL; without it, SQLite only)")
    parser.add_argument("--json", default="bench-results.json", help="where to write the figures")
    args = parser.parse_args()
    ingest.require_wrk()
    sizes = QUICK if args.quick else FULL
    databases = {"sqlite": None, **({"postgresql": args.postgres_url} if args.postgres_url else {})}

    results: dict = {
        "run": {"mode": "quick" if args.quick else "full", "started": datetime.now(timezone.utc).isoformat(),
                "cpus": os.cpu_count(), "python": platform.python_version(), "sizes": sizes},
        "ingest": {}, "worker": {}, "correctness": {}, "notifications": {}, "lookup": {},
    }
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="aftercare-bench-") as tmp:
        bodies = ingest.write_bodies(tmp)
        for name, url in databases.items():
            with fresh_database(url) as env:
                results["ingest"][name] = ingest.measure(env, bodies, sizes["ingest_seconds"], sizes["warmup_seconds"])
    for name, url in databases.items():
        results["worker"][name] = [drain.throughput(url, sizes["deliveries"], n) for n in sizes["workers"]]
    for name, url in databases.items():
        results["correctness"][name] = drain.correctness(url, *sizes["correctness"])
    for name, url in databases.items():
        results["notifications"][name] = notifications.measure(url, sizes["notifications"])
    if args.postgres_url and sizes["machines"]:
        with fresh_database(args.postgres_url) as env:
            results["machines"] = machines.run(env, *sizes["machines"])
    for name, url in databases.items():
        results["lookup"][name] = lookup.measure(url, sizes["lookup"])
    results["run"]["seconds"] = round(time.monotonic() - started, 1)

    print_table(results)
    Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nfigures written to {args.json}")
    checks = [*results["correctness"].values(), *([results["machines"]] if "machines" in results else [])]
    return 0 if all(c["ok"] for c in checks) else 1


def print_table(results: dict) -> None:
    run = results["run"]
    print(f"Aftercare benchmarks ({run['mode']}), {run['cpus']} CPUs, Python {run['python']}, "
          f"{run['seconds']:.0f} s")
    print(f"\nIngest: POST /webhooks, wrk {ingest.CONNECTIONS} connections, gunicorn sync -w "
          f"{ingest.GUNICORN_WORKERS}, signed 4 KB orders/create, unique webhook ids")
    print(f"{'database':11} {'server':6} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'CPU ms/req':>11} "
          f"{'RSS MiB':>8} {'req/s ÷ floor':>14} {'p99 ÷ floor':>12}")
    for database, servers in results["ingest"].items():
        floor = servers["floor"]
        for name, r in servers.items():
            print(f"{database:11} {name:6} {r['rps']:7.0f} {r['p50_ms']:7.2f} {r['p99_ms']:7.2f} "
                  f"{r['cpu_ms_per_request']:11.2f} {r['peak_rss_mib']:8.1f} {r['rps'] / floor['rps']:13.2f}x "
                  f"{r['p99_ms'] / floor['p99_ms']:11.2f}x")

    sizes = run["sizes"]
    print(f"\nWorker: {sizes['deliveries']} queued orders/create deliveries (one per order), "
          f"drained by N worker processes")
    print(f"{'database':11} {'workers':>7} {'deliv/s':>8} {'÷ 1 worker':>11} {'CPU ms/deliv':>13} "
          f"{'machine CPU':>12} {'RSS MiB':>8} {'failed rounds':>14}")
    for database, runs in results["worker"].items():
        one = runs[0]["per_second"]
        for r in runs:
            print(f"{database:11} {r['workers']:7} {r['per_second']:8.0f} {r['per_second'] / one:10.2f}x "
                  f"{r['worker_cpu_ms_per_delivery']:13.2f} {r['machine_cpu_busy'] * 100:11.0f}% "
                  f"{r['peak_rss_mib']:8.1f} {r['failed_rounds']:14}")

    deliveries, orders = sizes["correctness"]
    print(f"\nCorrectness: {deliveries} deliveries over {orders} orders, 30 % duplicates, shuffled, 4 workers")
    for database, r in results["correctness"].items():
        verdict = "ok" if r["ok"] else "WRONG: " + "; ".join(r["problems"])
        print(f"{database:11} {verdict} ({r['per_second']:.0f} deliveries/s, per worker {r['per_worker']}, "
              f"failed rounds {r['failed_rounds']})")

    notifications.print_table(results["notifications"])
    if "machines" in results:
        machines.print_table(results["machines"])
    lookup.print_table(results["lookup"])

    print("\nPeak RSS: web worker (app) "
          + ", ".join(f"{db} {s['app']['peak_rss_mib']:.1f} MiB" for db, s in results["ingest"].items())
          + "; queue worker "
          + ", ".join(f"{db} {runs[0]['peak_rss_mib']:.1f} MiB" for db, runs in results["worker"].items()))


if __name__ == "__main__":
    sys.exit(main())
