"""The two baselines the webhook endpoint is measured against, served by the
same server in the same run (see bench/ingest.py):

- ``bare``: a Flask endpoint that reads the body and answers 200;
- ``floor``: HMAC check + one INSERT + COMMIT into the same database, the
  least any correct webhook receiver must do.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from flask import Flask, request
from sqlalchemy import text

from plugin.db import make_engine  # same database settings as the app: a fair baseline

bare = Flask("bare")


@bare.post("/webhooks")
def bare_endpoint():
    request.get_data()
    return "ok"


floor = Flask("floor")
_engine = None
_SECRET = os.environ.get("SHOPIFY_API_SECRET", "").encode()


def _db():
    global _engine
    if _engine is None:
        _engine = make_engine(os.environ["AFTERCARE_DATABASE_URL"])
    return _engine


@floor.post("/webhooks")
def floor_endpoint():
    body = request.get_data()
    expected = base64.b64encode(hmac.new(_SECRET, body, hashlib.sha256).digest()).decode()
    if not hmac.compare_digest(expected, request.headers.get("X-Shopify-Hmac-Sha256", "")):
        return "unauthorized", 401
    with _db().begin() as conn:
        conn.execute(text("INSERT INTO bench_floor (webhook_id, body) VALUES (:w, :b)"),
                     {"w": request.headers.get("X-Shopify-Webhook-Id"), "b": body})
    return "ok"
