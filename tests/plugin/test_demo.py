"""`aftercare demo`: the real command in a subprocess, and its pages in-process."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import select

from plugin import create_app, demo, migrate, orders, shops, worker
from plugin.db import engine, worker_session
from plugin.demo import install, samples, scenario
from plugin.models import Notification
from plugin.signatures import verify_webhook
from webhooks import payloads

from ..conftest import SECRET, environ, fresh_database

AFTERCARE = Path(sys.executable).parent / "aftercare"
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="signals as on POSIX")


# --------------------------------------------------------------------------- the command

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def demo_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("SHOPIFY_API_KEY", "SHOPIFY_API_SECRET", "AFTERCARE_APP_URL"):
        env.pop(name, None)  # the demo's own defaults, as for a first-time user
    env.update({
        "AFTERCARE_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}",
        "AFTERCARE_SECRET_KEY": "demo-test-secret-key-0123456789abcdef",
        "PYTHONIOENCODING": "utf-8",
        **extra,
    })
    return env


class Demo:
    """`aftercare demo` as a subprocess, its output collected as it comes."""

    def __init__(self, port: int, env: dict[str, str], cwd: Path, program: str = str(AFTERCARE)):
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [program, "demo", "--port", str(port), "--step-seconds", "0.05"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=env, cwd=cwd, text=True, encoding="utf-8",
        )
        # Read continuously: a full pipe would block the demo.
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for_final_states(self, http: requests.Session, timeout: float = 30) -> list[dict]:
        deadline = time.monotonic() + timeout
        states: list[dict] = []
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"demo exited early with {self.proc.returncode}:\n{self.output}")
            try:
                states = http.get(f"{self.base}/demo/orders.json", timeout=5).json()
            except requests.ConnectionError:
                states = []
            if "Demo scenario finished" in self.output and is_final(states):
                return states
            time.sleep(0.1)
        pytest.fail(f"demo did not reach its final states in {timeout}s; last: {summary(states)}\n{self.output}")

    def interrupt(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(timeout=15)
        self.reader.join(timeout=5)
        return code

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.reader.join(timeout=5)
        self.proc.stdout.close()


def by_name(states: list[dict]) -> dict[str, dict]:
    return {s["name"]: s for s in states}


def shipment(state: dict) -> str | None:
    return state["fulfillments"][0]["shipment_status"] if state["fulfillments"] else None


def is_final(states: list[dict]) -> bool:
    o = by_name(states)
    if set(o) != {"#1001", "#1002", "#1003", "#1004", "#1005"}:
        return False
    return (
        shipment(o["#1001"]) == "delivered"
        and shipment(o["#1002"]) == "delayed"
        and shipment(o["#1003"]) == "failure"
        and o["#1004"]["fulfillments"] == []
        and o["#1005"]["cancelled_at"] is not None
    )


def summary(states: list[dict]) -> list:
    """What must be identical from one run to the next (timestamps aside)."""
    return [
        (s["name"], s["customer_first_name"], s["financial_status"], s["cancelled_at"] is not None,
         [(li["title"], li["quantity"]) for li in s["line_items"]],
         [(f["tracking_company"], f["tracking_numbers"], f["shipment_status"], [e["status"] for e in f["events"]])
          for f in s["fulfillments"]])
        for s in states
    ]


def a_checkout_with_a_venv(tmp_path: Path) -> Path:
    """A directory laid out as after the README's set-up command: .venv/bin/aftercare."""
    checkout = tmp_path / "checkout"
    (checkout / ".venv" / "bin").mkdir(parents=True)
    (checkout / ".venv" / "bin" / "aftercare").symlink_to(AFTERCARE)
    return checkout


def path_without_aftercare() -> str:
    return os.pathsep.join(d for d in os.environ.get("PATH", "/usr/bin:/bin").split(os.pathsep)
                           if d and not (Path(d) / "aftercare").exists())


def test_demo_runs_the_lifecycle_over_http_stops_on_ctrl_c_and_runs_again(tmp_path):
    port = free_port()
    checkout = a_checkout_with_a_venv(tmp_path)
    # Started as the README says, from the checkout, with `aftercare` not on the PATH.
    env = demo_env(tmp_path, PATH=path_without_aftercare())
    runs = []
    with requests.Session() as http:
        for _ in (1, 2):
            d = Demo(port, env, checkout, program=".venv/bin/aftercare")
            try:
                states = d.wait_for_final_states(http)
                assert len(states) == 5, summary(states)  # no duplicates on the second run either
                assert [s["name"] for s in states] == ["#1005", "#1004", "#1003", "#1002", "#1001"]  # newest first
                o = by_name(states)
                kenta = o["#1002"]
                assert kenta["customer_first_name"] == "健太"
                delayed = kenta["fulfillments"][0]["events"][-1]
                assert (delayed["status"], delayed["source"]) == ("delayed", "carrier")
                assert delayed["message"]
                assert [e["status"] for e in o["#1003"]["fulfillments"][0]["events"]] == [
                    "attempted_delivery", "failure"]
                ups = o["#1001"]["fulfillments"][0]
                assert ups["tracking_company"] == "UPS" and ups["tracking_numbers"] and ups["tracking_urls"]
                assert ups["delivered_at"] is not None
                assert [e["status"] for e in ups["events"]] == ["in_transit", "out_for_delivery", "delivered"]
                assert o["#1001"]["financial_status"] == "paid"

                page = http.get(f"{d.base}/demo", timeout=5)
                assert page.status_code == 200
                assert page.headers["Content-Type"].startswith("text/html")
                assert "Tea &amp; Biscuits Gift Set" in page.text
                assert "Tea & Biscuits" not in page.text
                assert "健太" in page.text
                assert '<meta http-equiv="refresh" content="3">' in page.text
                assert http.get(f"{d.base}/healthz", timeout=5).status_code == 200
                inbox = http.get(f"{d.base}/demo/webhooks.json", timeout=5).json()
                assert (inbox["failed"], inbox["pending"], inbox["failed_deliveries"]) == (0, 0, [])
                assert inbox["processed"] >= 27

                # The printed admin link opens the admin in a plain browser, no store needed.
                [admin_line] = [line for line in d.lines if "Admin (signed link): " in line]
                admin = http.get(admin_line.split("Admin (signed link): ", 1)[1].strip(), timeout=5)
                assert admin.status_code == 200 and "aftercare-demo.myshopify.com" in admin.text

                # The printed command works as printed, pasted into a new terminal in the same directory.
                [try_line] = [line for line in d.lines if "Try, in another terminal here: " in line]
                command = try_line.split("Try, in another terminal here: ", 1)[1].strip()
                assert ".venv/bin/aftercare orders show --shop aftercare-demo.myshopify.com 1001" in command
                fresh_terminal = {"PATH": env["PATH"], "HOME": str(tmp_path)}
                shown = subprocess.run(["bash", "-c", command], cwd=checkout, env=fresh_terminal,
                                       capture_output=True, text=True, encoding="utf-8", timeout=60)
                assert shown.returncode == 0, shown.stderr
                assert json.loads(shown.stdout)["name"] == "#1001"

                code = d.interrupt()
                out = d.output
                assert code == 0, out
                assert "Stopped." in out
                assert "Traceback" not in out
                assert f"Aftercare demo running on http://127.0.0.1:{port}" in out
                assert f"http://127.0.0.1:{port}/demo" in out
                assert "#1001 out for delivery" in out
                assert out.index("Demo scenario finished") < out.index("Stopped.")
                runs.append(summary(states))
            finally:
                d.close()
    assert runs[0] == runs[1]


def test_demo_says_in_one_line_that_the_port_is_taken(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [str(AFTERCARE), "demo", "--port", str(port)], env=demo_env(tmp_path), cwd=tmp_path,
            capture_output=True, text=True, encoding="utf-8", timeout=30,
        )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip() == f"aftercare: port {port} is in use; try --port {port + 1}"


def test_demo_reports_a_configuration_error_in_one_line(tmp_path):
    result = subprocess.run(
        [str(AFTERCARE), "demo", "--port", str(free_port())],
        env=demo_env(tmp_path, AFTERCARE_DATABASE_URL="mysql://u:p@localhost/db"), cwd=tmp_path,
        capture_output=True, text=True, encoding="utf-8", timeout=30,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "AFTERCARE_DATABASE_URL" in result.stderr and "Traceback" not in result.stderr


# --------------------------------------------------------------------------- the scenario

def test_scenario_timestamps_only_move_forward_and_are_in_the_past():
    now = datetime(2026, 11, 5, 12, 0, tzinfo=timezone.utc)
    steps = scenario.scenario(now)
    assert 15 <= len(steps) <= 20
    seen: dict[tuple[str, int], datetime] = {}
    for step in steps:
        for topic, body in step.deliveries:
            kind = "fulfillment" if topic.startswith("fulfillments/") else topic.split("/")[0]
            if kind == "fulfillment_events":
                continue
            updated = datetime.fromisoformat(body["updated_at"])
            assert updated <= now
            key = (kind, body["id"])
            assert key not in seen or updated > seen[key], (step.label, topic)
            seen[key] = updated
        # every body parses as its topic promises
        for topic, body in step.deliveries:
            parse = {"orders": payloads.order, "fulfillments": payloads.fulfillment,
                     "fulfillment_events": payloads.tracking_event}[topic.split("/")[0]]
            parse(body)


def test_webhook_headers_are_signed_like_shopify():
    body = '{"id": 1, "title": "Tea & Biscuits — 健太"}'.encode()
    headers = scenario.webhook_headers("orders/create", body, "a-secret", "2026-07")
    assert verify_webhook(body, headers["X-Shopify-Hmac-Sha256"], ["a-secret"])
    assert headers["X-Shopify-Shop-Domain"] == demo.DEMO_SHOP
    again = scenario.webhook_headers("orders/create", body, "a-secret", "2026-07")
    assert headers["X-Shopify-Webhook-Id"] != again["X-Shopify-Webhook-Id"]
    for name in ("X-Shopify-Topic", "X-Shopify-Event-Id", "X-Shopify-Triggered-At", "X-Shopify-API-Version"):
        assert headers[name]


# --------------------------------------------------------------------------- the pages

@pytest.fixture
def demo_app(backend, tmp_path):
    with fresh_database(backend, tmp_path) as url:
        app = create_app({"TESTING": True, "DEMO": True}, environ=environ(url),
                         instance_path=str(tmp_path / "instance"))
        migrate.upgrade(app)
        try:
            yield app
        finally:
            engine(app).dispose()


def _add_order(app, domain: str, body: dict, fulfillment: dict | None = None) -> None:
    with app.app_context(), worker_session(app) as session, session.begin():
        shop = shops.by_domain(session, domain) or shops.install(session, domain, shops.static_grant("t"))
        session.flush()
        orders.apply_order(session, shop.id, payloads.order(body))
        if fulfillment:
            orders.apply_fulfillment(session, shop.id, payloads.fulfillment(fulfillment))


def test_demo_page_escapes_markup_and_shows_only_the_demo_shop(demo_app):
    client = demo_app.test_client()
    assert "No orders yet" in client.get("/demo").text
    assert client.get("/demo/orders.json").json == []

    t = datetime(2026, 11, 1, 10, 0, tzinfo=timezone.utc)
    body = samples.order_body(scenario.MAYA, created_at=t, updated_at=t)
    body["customer"]["first_name"] = "<script>alert(1)</script>"
    body["line_items"][0]["title"] = "<b>Bold</b> & Co"
    evil = samples.Carrier("Evil <Post>", "X1", "javascript:alert(1)")
    ship = samples.fulfillment_body(scenario.MAYA, evil, created_at=t, updated_at=t,
                                          shipment_status="in_transit")
    _add_order(demo_app, demo.DEMO_SHOP, body, ship)
    other = samples.order_body(scenario.AMARA, created_at=t, updated_at=t)
    other["email"] = "someone@other-shop.example"
    _add_order(demo_app, "other-shop.myshopify.com", other)

    html = client.get("/demo").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html
    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; Co" in html
    assert "Evil &lt;Post&gt;" in html
    assert "javascript:" not in html  # a tracking URL that is not http(s) is shown as text, never linked
    assert "X1" in html
    assert "someone@other-shop.example" not in html and "#1004" not in html
    assert [o["name"] for o in client.get("/demo/orders.json").json] == ["#1001"]


def _post(client, topic: str, body: bytes, domain: str = demo.DEMO_SHOP):
    headers = scenario.webhook_headers(topic, body, SECRET, "2026-07")
    headers["X-Shopify-Shop-Domain"] = domain
    return client.post("/webhooks", data=body, headers=headers)


def test_demo_page_lists_failed_deliveries_with_their_error(demo_app):
    client = demo_app.test_client()
    assert "Failed webhook deliveries" not in client.get("/demo").text
    assert client.get("/demo/webhooks.json").json == {"pending": 0, "processed": 0, "failed": 0,
                                                      "failed_deliveries": []}
    for domain in (demo.DEMO_SHOP, "other-shop.myshopify.com"):
        with demo_app.app_context(), worker_session(demo_app) as session, session.begin():
            shops.install(session, domain, shops.static_grant("t"))
    t = datetime(2026, 11, 1, 10, 0, tzinfo=timezone.utc)
    good = json.dumps(samples.order_body(scenario.MAYA, created_at=t, updated_at=t)).encode()
    bad = json.dumps({"id": "<b>1001</b>", "updated_at": 5}).encode()
    assert _post(client, "orders/create", good).json["status"] == "accepted"
    assert _post(client, "orders/create", bad).json["status"] == "accepted"
    assert _post(client, "orders/create", b'{"id": "other shop\'s"}', "other-shop.myshopify.com").status_code == 200
    worker.run(demo_app, once=True)

    inbox = client.get("/demo/webhooks.json").json
    assert (inbox["processed"], inbox["failed"]) == (1, 1)  # counts and list are the demo shop's only
    [failed] = inbox["failed_deliveries"]
    assert failed["topic"] == "orders/create" and failed["attempts"] == 1
    assert failed["error"].startswith("PayloadError: id: expected a positive 64-bit integer id")
    assert failed["next_attempt_at"] is None  # an unparsable body is not retried
    assert failed["replay"].endswith(f"aftercare webhooks replay {failed['id']}")

    html = client.get("/demo").text
    assert '<a class="bad" href="#failed">1 failed</a>' in html
    assert "Failed webhook deliveries" in html
    # The stored error describes the bad value by its length, never its text.
    assert "got a string of 11 characters" in html and "1001</b>" not in html
    assert f"webhooks replay {failed['id']}" in html
    assert "other shop" not in html


# --------------------------------------------------------------------------- the messages

def _play_scenario(app, client) -> None:
    """The demo's webhooks, step by step, each step handled by the worker."""
    with app.app_context(), worker_session(app) as session, session.begin():
        shops.install(session, demo.DEMO_SHOP, shops.static_grant(install.DEMO_TOKEN, "read_orders"))
    for step in scenario.scenario():
        for topic, payload in step.deliveries:
            assert _post(client, topic, json.dumps(payload).encode()).json["status"] == "accepted"
        with app.app_context():  # as the demo runs its worker
            worker.run(app, once=True)


def test_demo_lists_each_orders_messages_and_shows_each_email_with_a_working_tracking_link(demo_app):
    client = demo_app.test_client()
    _play_scenario(demo_app, client)

    maya = by_name(client.get("/demo/orders.json").json)["#1001"]
    assert shipment(maya) == "delivered"  # the rest of the order's shape is as before
    kinds = {m["kind"]: m for m in maya["messages"]}
    assert {"shipped", "delivered"} <= set(kinds)
    assert {(m["channel"], m["status"]) for m in maya["messages"]} == {("email", "pending")}  # no mail server
    delivered = kinds["delivered"]

    page = client.get("/demo").text
    assert f'href="/demo/messages/{delivered["id"]}"' in page
    assert f'href="/demo/messages/{delivered["id"]}.txt"' in page
    assert scenario.MAYA.customer.email in page

    email = client.get(f"/demo/messages/{delivered['id']}")
    assert email.status_code == 200 and email.mimetype == "text/html"
    csp = email.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp and "sandbox" in csp
    assert "#1001" in email.text and scenario.MAYA.customer.first_name in email.text
    text = client.get(f"/demo/messages/{delivered['id']}.txt")
    assert text.mimetype == "text/plain" and "#1001" in text.text

    [link] = set(re.findall(r'href="(http[^"]*/t/[^"]+)"', email.text))
    assert link.startswith(demo_app.config["APP_URL"] + "/t/")
    tracking = client.get(urlsplit(link).path)
    assert tracking.status_code == 200
    assert maya["fulfillments"][0]["tracking_numbers"][0] in tracking.text

    assert client.get(f"/demo/messages/{delivered['id'] + 1000}").status_code == 404
    assert client.get(f"/demo/messages/{delivered['id'] + 1000}.txt").status_code == 404


def test_demo_messages_escape_markup_and_show_only_the_demo_shops(demo_app):
    client = demo_app.test_client()
    t = datetime(2026, 11, 1, 10, 0, tzinfo=timezone.utc)
    ids = {}
    for domain, customer in ((demo.DEMO_SHOP, scenario.MAYA), ("other-shop.myshopify.com", scenario.AMARA)):
        with demo_app.app_context(), worker_session(demo_app) as session, session.begin():
            shops.install(session, domain, shops.static_grant("t"))
        body = samples.order_body(customer, created_at=t, updated_at=t)
        body["customer"]["first_name"] = body["shipping_address"]["first_name"] = "<script>alert(1)</script>"
        body["line_items"][0]["title"] = "<b>Bold</b> & Co"
        carrier = samples.Carrier("Evil <Post>", "X1", "https://carrier.example/t?n=X1")
        ship = samples.fulfillment_body(customer, carrier, created_at=t, updated_at=t,
                                              shipment_status="in_transit")
        for topic, payload in (("orders/create", body), ("fulfillments/create", ship)):
            assert _post(client, topic, json.dumps(payload).encode(), domain).json["status"] == "accepted"
        with demo_app.app_context():
            worker.run(demo_app, once=True)
        with demo_app.app_context(), worker_session(demo_app) as session:
            shop = shops.by_domain(session, domain)
            ids[domain] = session.scalar(select(Notification.id).where(Notification.shop_id == shop.id))
    assert None not in ids.values()

    [order] = client.get("/demo/orders.json").json
    assert order["messages"][0] == {"id": ids[demo.DEMO_SHOP], "kind": "shipped", "channel": "email",
                                    "status": "pending"}
    assert ids["other-shop.myshopify.com"] not in [m["id"] for m in order["messages"]]
    email = client.get(f"/demo/messages/{ids[demo.DEMO_SHOP]}").text
    assert "<script>" not in email and "&lt;script&gt;alert(1)&lt;/script&gt;" in email
    assert "<b>Bold</b>" not in email and "&lt;b&gt;Bold&lt;/b&gt; &amp; Co" in email
    assert "Evil &lt;Post&gt;" in email
    assert "<script>" not in client.get("/demo").text
    # Another shop's message is not the demo's: not listed, not shown.
    assert f"/demo/messages/{ids['other-shop.myshopify.com']}" not in client.get("/demo").text
    assert client.get(f"/demo/messages/{ids['other-shop.myshopify.com']}").status_code == 404
    assert client.get(f"/demo/messages/{ids['other-shop.myshopify.com']}.txt").status_code == 404


def test_demo_delivered_orders_get_a_survey_whose_answer_counts_and_alerts(demo_app):
    from plugin import settings
    from plugin.surveys import SurveyResponse, summary

    client = demo_app.test_client()
    with demo_app.app_context(), worker_session(demo_app) as session, session.begin():
        shop = shops.install(session, demo.DEMO_SHOP, shops.static_grant(install.DEMO_TOKEN, "read_orders"))
        session.flush()
        settings.update(session, shop.id, install.DEMO_SETTINGS)
        shop_id = shop.id
    for step in scenario.scenario():
        for topic, payload in step.deliveries:
            assert _post(client, topic, json.dumps(payload).encode()).json["status"] == "accepted"
        with demo_app.app_context():
            worker.run(demo_app, once=True)
    demo_app.extensions.pop("aftercare.surveys.last_scan", None)  # the next scan, a few seconds later
    with demo_app.app_context():
        worker.run(demo_app, once=True)

    states = by_name(client.get("/demo/orders.json").json)
    surveys = {name: [m for m in order["messages"] if m["kind"] == "survey"] for name, order in states.items()}
    # Maya's parcel was delivered; Kenta's is held at customs and Zoe's failed: theirs wait.
    assert [len(surveys[name]) for name in ("#1001", "#1002", "#1003")] == [1, 0, 0]
    [invitation] = surveys["#1001"]
    assert invitation["status"] == "pending"  # no mail server: it waits in the outbox, readable on /demo
    assert f'href="/demo/messages/{invitation["id"]}"' in client.get("/demo").text
    email = client.get(f"/demo/messages/{invitation['id']}.txt").text
    assert "How satisfied are you with your order?" in email
    links = re.findall(r"(http\S+/s/\S+)", email)
    assert len(links) == 5

    # Read in the demo's outbox view (its inbox), answering 2 by its link counts and queues the alert.
    answer = urlsplit(links[1]).path
    assert client.get(answer).status_code == 200
    assert client.post(answer, data={"step": "score", "csat": "2"}).status_code == 200
    with demo_app.app_context(), worker_session(demo_app) as session:
        assert [r.score for r in session.scalars(select(SurveyResponse))] == [2]
        figures = summary(session, shop_id, datetime(2000, 1, 1, tzinfo=timezone.utc),
                          datetime(2100, 1, 1, tzinfo=timezone.utc))
        assert (figures["csat"]["count"], figures["csat"]["share"]) == (1, 0.0)
        alert = session.scalar(select(Notification).where(Notification.kind == "low_score_alert"))
        assert alert.recipient == install.DEMO_SETTINGS["alerts.low_score_email"]
