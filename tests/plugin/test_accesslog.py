"""Request logs keep no session tokens, OAuth codes or signatures from query
strings, on the development server (`aftercare run`, demo) and under gunicorn
(`aftercare serve`)."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from plugin.accesslog import mask_query

from ..conftest import API_KEY, SECRET, SHOP

TOKEN = "eyJhbGciOiJIUzI1NiJ9.SESSION-TOKEN-VALUE.sig"
CODE = "0907a61c0c8d55e99db179b68161bc00"


def test_query_values_are_masked_but_the_shop_is_kept():
    line = f"GET /auth/callback?code={CODE}&shop={SHOP}&state=abc&hmac=def&timestamp=1 HTTP/1.1"
    assert mask_query(line) == f"GET /auth/callback?code=***&shop={SHOP}&state=***&hmac=***&timestamp=1 HTTP/1.1"
    assert mask_query(f"id_token={TOKEN}&shop={SHOP}") == f"id_token=***&shop={SHOP}"
    assert mask_query("GET /healthz HTTP/1.1") == "GET /healthz HTTP/1.1"


def test_development_server_log_masks_id_token_and_code(app, live_server, caplog):
    caplog.set_level(logging.INFO, logger="werkzeug")
    requests.get(f"{live_server}/app", params={"shop": SHOP, "id_token": TOKEN}, timeout=10)
    requests.get(f"{live_server}/auth/callback", params={"code": CODE, "shop": SHOP}, timeout=10)
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert any(f"/app?shop={SHOP}&id_token=***" in line for line in lines), lines
    assert any("/auth/callback?code=***" in line for line in lines), lines
    assert TOKEN not in caplog.text and CODE not in caplog.text


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_gunicorn_access_log_masks_id_token_and_code(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SHOPIFY_", "AFTERCARE_"))}
    env.update(SHOPIFY_API_KEY=API_KEY, SHOPIFY_API_SECRET=SECRET,
               AFTERCARE_SECRET_KEY="access-log-test-secret-key-0123456789abcdef",
               AFTERCARE_DATABASE_URL=f"sqlite:///{tmp_path / 'aftercare.db'}")
    script = Path(sys.executable).parent / "aftercare"
    # serve refuses a database that is not migrated (one line, exit 1).
    subprocess.run([str(script), "db", "upgrade"], env=env, cwd=tmp_path, check=True, capture_output=True)
    server = subprocess.Popen([str(script), "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"], env=env,
                              cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"http://127.0.0.1:{port}/auth/callback", params={"code": CODE, "shop": SHOP},
                             headers={"Referer": f"https://{SHOP}/admin/apps/x?id_token={TOKEN}"}, timeout=5)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline and server.poll() is None, "gunicorn did not start"
                time.sleep(0.2)
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert f"GET /auth/callback?code=***&shop={SHOP}" in output, output
    assert "id_token=***" in output  # the Referer too
    assert CODE not in output and TOKEN not in output
