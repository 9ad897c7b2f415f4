"""Aftercare: the Flask app factory."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta

from flask import Flask
from flask.sessions import SessionInterface

from . import accesslog, db, dbcheck, headers, routing
from .config import load_config

DEMO_SURVEY_SCAN = timedelta(seconds=3)


def create_app(test_config: Mapping | None = None, *, environ: Mapping[str, str] | None = None,
               instance_path: str | None = None) -> Flask:
    """Build the app from the environment (or ``environ``), then ``test_config``.

    Wires extensions and blueprints; no other side effects (the schema is
    Alembic's job: `aftercare db upgrade`)."""
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True)
    app.config.update(load_config(os.environ if environ is None else environ, app.instance_path))
    app.config["SHOPIFY_TIMEOUT"] = 10.0  # seconds for each call to Shopify
    app.config["SHOPIFY_MAX_WAIT"] = 60.0  # seconds one call may spend waiting out throttling and outages
    if test_config:
        app.config.update(test_config)
    # Every Shopify signature (webhooks, OAuth queries, app proxy, session tokens)
    # is checked against the current secret and, during a rotation, the previous one.
    app.config["SHOPIFY_SECRETS"] = tuple(
        s for s in (app.config["SHOPIFY_API_SECRET"], app.config["SHOPIFY_API_SECRET_PREVIOUS"]) if s
    )
    app.json.sort_keys = False
    app.session_interface = NoCookieSession()

    # Jobs the worker runs each round; each takes the app and returns how much it did.
    from . import planner_stats
    app.extensions["aftercare.worker_jobs"] = [planner_stats.process_due]  # first: the others' plans use it

    db.init_app(app)
    accesslog.init_app(app)
    dbcheck.init_app(app)  # an unreachable or unmigrated database: 503, Retry-After and one log line
    headers.init_app(app)
    routing.init_app(app)  # ids in URLs bounded; 404/405 under the JSON APIs answer JSON

    from . import admin, auth, health, openapi
    from .tracking import pages as tracking_pages
    app.register_blueprint(health.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(tracking_pages.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(admin.api)
    from .surveys import api as surveys_api, pages as survey_pages
    app.register_blueprint(surveys_api.bp)
    app.register_blueprint(survey_pages.bp)

    import webhooks
    webhooks.init_app(app)

    import widgets
    widgets.init_app(app)

    from . import notifications, outbox
    app.extensions["aftercare.worker_jobs"].append(outbox.process_due)
    app.extensions["aftercare.worker_jobs"].append(notifications.delay_job())
    from .surveys import sending as survey_sending
    # The demo's clock runs in minutes: it scans for due surveys every few seconds.
    every = DEMO_SURVEY_SCAN if app.config.get("DEMO") else survey_sending.SCAN_EVERY
    app.extensions["aftercare.worker_jobs"].append(survey_sending.job(every=every))

    from . import returns
    app.extensions["aftercare.worker_jobs"].append(returns.process_due)

    from . import retention, subscriptions
    app.extensions["aftercare.worker_jobs"] += [subscriptions.process_due, retention.process_due]

    if app.config.get("DEMO"):
        from . import demo
        app.register_blueprint(demo.bp)
    return app


class NoCookieSession(SessionInterface):
    """No state rides in cookies here (the embedded admin proves itself with
    Shopify's session token on each request), so no request pays for opening
    a signed cookie session; writing to ``flask.session`` raises."""

    def open_session(self, app, request):
        return None  # Flask then uses its null session

    def save_session(self, app, session, response):
        pass


def cli_commands() -> list:
    """The command groups of the packages create_app registers, for the
    `aftercare` command: it lists them before (and without) building an app,
    so that help works with no configuration."""
    import webhooks

    from .admin.cli import settings_cli
    from .notifications.cli import notifications_cli

    return [webhooks.cli, settings_cli, notifications_cli]
