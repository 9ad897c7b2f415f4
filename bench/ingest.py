"""Webhook receipt benchmark: POST /webhooks under wrk, against two baselines
served the same way in the same run (gunicorn, `sync -w 4`, same database):

- bare:  a Flask endpoint that only reads the body;
- floor: HMAC check + INSERT + COMMIT, the least a correct receiver does;
- app:   Aftercare's POST /webhooks (verify, store with dedupe, commit).

wrk (bench/orders.lua) sends signed 4 KB orders/create bodies with unique
webhook ids over 16 connections; a C client costs little next to the servers.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests

from .data import ROOT, order_body, peak_rss_kib, sign

SERVERS = {"bare": "bench.baselines:bare", "floor": "bench.baselines:floor", "app": "plugin.wsgi:app"}
LUA = Path(__file__).with_name("orders.lua")
CONNECTIONS = 16
GUNICORN_WORKERS = 4


def require_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("bench: wrk is not installed; it loads the HTTP servers "
                         "(Debian/Ubuntu: apt-get install wrk)")
    return wrk


def write_bodies(directory: str, count: int = 500) -> str:
    """The signed bodies wrk cycles through: "signature body" per line."""
    path = Path(directory) / "bodies.txt"
    with path.open("w") as out:
        for n in range(count):
            body = order_body(3_000_000 + n)
            out.write(f"{sign(body)} {body.decode()}\n")
    return str(path)


def measure(env: dict[str, str], bodies: str, seconds: float, warmup: float) -> dict[str, dict]:
    """Each server in turn on the same database: req/s, p50, p99 and the
    peak RSS of its largest worker process."""
    return {name: _measure_one(target, env, bodies, seconds, warmup) for name, target in SERVERS.items()}


def _measure_one(target: str, env: dict[str, str], bodies: str, seconds: float, warmup: float) -> dict:
    port = _free_port()
    with tempfile.TemporaryFile("w+") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--worker-class", "sync", "--workers", str(GUNICORN_WORKERS),
             "--bind", f"127.0.0.1:{port}", "--log-level", "warning", target],
            env={**os.environ, **env}, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            url = f"http://127.0.0.1:{port}/webhooks"
            _wait_until_up(port, server, log)
            _wrk(url, bodies, warmup)
            workers = _children(server.pid)
            cpu_before = sum(_cpu_seconds(pid) for pid in workers)
            result = _wrk(url, bodies, seconds)
            cpu = sum(_cpu_seconds(pid) for pid in workers) - cpu_before
            rss = max(peak_rss_kib(pid) for pid in workers)
        finally:
            server.terminate()
            server.wait(timeout=30)
    if any(result["errors"].values()):
        raise SystemExit(f"bench: {target} answered with errors under load: {result['errors']}")
    return {
        "requests": result["requests"],
        "rps": result["requests"] / (result["duration_us"] / 1e6),
        "p50_ms": result["p50_us"] / 1000,
        "p99_ms": result["p99_us"] / 1000,
        "peak_rss_mib": rss / 1024,
        # CPU the server's worker processes spent per request (Python's share;
        # the database server's is not in it).
        "cpu_ms_per_request": cpu * 1000 / max(result["requests"], 1),
    }


def _wrk(url: str, bodies: str, seconds: float) -> dict:
    run = uuid.uuid4().hex[:12]
    completed = subprocess.run(
        [require_wrk(), "--threads", "2", "--connections", str(CONNECTIONS), "--duration", f"{max(1, round(seconds))}s",
         "--timeout", "10s", "--script", str(LUA), url, "--", bodies, run],
        capture_output=True, text=True, timeout=seconds + 60,
    )
    if completed.returncode != 0:
        raise SystemExit(f"bench: wrk failed: {completed.stderr.strip()}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def _wait_until_up(port: int, server: subprocess.Popen, log) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            requests.get(f"http://127.0.0.1:{port}/", timeout=5)
            return
        except (requests.ConnectionError, requests.Timeout):
            if time.monotonic() > deadline or server.poll() is not None:
                log.seek(0)
                raise SystemExit(f"bench: server did not start:\n{log.read()[-2000:]}") from None
            time.sleep(0.1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc/PID/stat."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

