"""Answers for failures outside any one route.

When the database cannot be reached (restarting, failing over, too many
connections; on SQLite, locked past its busy timeout) every route answers 503
with a JSON message and ``Retry-After`` instead of a 500: Shopify retries a
webhook that was not answered 2xx, and a browser or load balancer knows to try
again. Nothing was stored, so nothing answered 200 is lost. The engine checks
connections before use (pool_pre_ping), so requests recover by themselves once
the database is back.
"""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from .db import describe_error

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5


def init_app(app: Flask) -> None:
    app.register_error_handler(DBAPIError, database_unavailable)


def database_unavailable(exc: DBAPIError):
    if not (isinstance(exc, (OperationalError, InterfaceError)) or exc.connection_invalidated):
        raise exc  # a real bug: let Flask answer 500 and log it
    log.warning("database unavailable: %s", describe_error(exc))
    response = jsonify({"status": "error", "message": "database unavailable; try again shortly"})
    response.status_code = 503
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
