"""Plays the scenario against the running demo: each step's webhooks posted,
signed as Shopify signs them, to the demo's own ``POST /webhooks`` over HTTP."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

import requests
from flask import Flask

from .. import shops
from ..db import get_session
from ..models import DeliveryStatus
from .console import command_line
from .pages import inbox_counts
from .scenario import DEMO_SHOP, scenario, webhook_headers


def run_scenario(app: Flask, base_url: str, step_seconds: float, stop: threading.Event,
                 say: Callable[[str], None]) -> None:
    """Post every step's webhooks to ``base_url``/webhooks, ``step_seconds`` apart."""
    secret = app.config["SHOPIFY_API_SECRET"]
    api_version = app.config["SHOPIFY_API_VERSION"]
    url = f"{base_url}/webhooks"
    with requests.Session() as http:
        for step in scenario():
            if stop.wait(step_seconds):
                return
            for topic, payload in step.deliveries:
                raw = json.dumps(payload, ensure_ascii=False).encode("utf-8")
                try:
                    response = http.post(url, data=raw, headers=webhook_headers(topic, raw, secret, api_version),
                                         timeout=10)
                except requests.RequestException as exc:
                    if not stop.is_set():
                        say(f"  ! {topic} could not be posted: {exc}")
                    return
                if response.status_code != 200:
                    say(f"  ! {topic} answered {response.status_code}: {response.text.strip()[:200]}")
            say(f"  {step.label}")
    _wait_for_inbox(app, stop)
    failed = _inbox_counts(app).get(DeliveryStatus.FAILED.value, 0)
    if failed:
        say(f"  ! {failed} webhook deliveries failed: see {base_url}/demo, or {command_line('webhooks', 'failed')}")
    say("Demo scenario finished; the server keeps running.")


def _inbox_counts(app: Flask) -> dict[str, int]:
    # A fresh app context each time, so the session and its transaction end with it.
    with app.app_context():
        session = get_session()
        shop = shops.by_domain(session, DEMO_SHOP)
        return inbox_counts(session, shop.id) if shop is not None else {}


def _wait_for_inbox(app: Flask, stop: threading.Event, timeout: float = 15.0) -> None:
    """Until the worker has taken every delivery the scenario posted (bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not stop.is_set():
        if not _inbox_counts(app).get(DeliveryStatus.PENDING.value):
            return
        stop.wait(0.1)
