"""Shopify webhooks: verification and receipt, the inbox, a handler per topic."""

from __future__ import annotations

from flask import Flask

from . import inbox
from .cli import cli
from .receive import bp


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.cli.add_command(cli)
    app.extensions["aftercare.worker_jobs"].append(inbox.process_due)
    # The admin's Replay button runs a delivery through the same function as `webhooks replay`.
    app.extensions["aftercare.replay_delivery"] = inbox.replay
