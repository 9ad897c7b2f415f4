"""Every URL of the embedded admin, in one list.

`bp` serves the pages (and their static files under /app/static); `api`
the JSON under /api/admin, every call of which must carry a session token.
"""

from __future__ import annotations

from flask import Blueprint

from . import api as json_api
from . import launch, ops_pages, pages
from . import returns_views, template_editor

bp = Blueprint("admin", __name__, template_folder="templates", static_folder="static",
               static_url_path="/app/static")
api = Blueprint("admin_api", __name__, url_prefix="/api/admin")

PAGES = [
    ("/app", launch.launch, ["GET"]),
    ("/app/home", pages.home, ["GET"]),
    ("/app/settings/<section>", pages.settings_page, ["GET"]),
    ("/app/outbox", pages.outbox, ["GET"]),
    ("/app/orders", ops_pages.orders_page, ["GET"]),
    ("/app/health", ops_pages.health_page, ["GET"]),
]
# Returns queue and email templates (issue 11, third slice).
PAGES += [
    ("/app/returns", returns_views.returns_page, ["GET"]),
    ("/app/templates", template_editor.templates_page, ["GET"]),
]

API = [
    ("/settings", json_api.get_settings, ["GET"]),
    ("/settings", json_api.put_settings, ["PUT"]),
    ("/notifications", json_api.notifications, ["GET"]),
    ("/session-token", json_api.session_token, ["POST"]),
    ("/orders/<path:name>", json_api.order, ["GET"]),
    ("/health", json_api.health, ["GET"]),
    ("/webhooks/<delivery_id>/replay", json_api.replay_delivery, ["POST"]),
    ("/data-exports", launch.data_exports, ["GET"]),
    ("/data-exports/<int:export_id>", launch.data_export, ["GET"]),
]
# Returns queue, template preview and test send, outbox retry (issue 11, third slice).
API += [
    ("/returns", returns_views.list_returns, ["GET"]),
    ("/returns/<int:request_id>/<action>", returns_views.act_on_return, ["POST"]),
    ("/notifications/preview", template_editor.preview, ["POST"]),
    ("/notifications/test", template_editor.send_test, ["POST"]),
    ("/notifications/<int:notification_id>/retry", json_api.retry_notification, ["POST"]),
]

for rule, view, methods in PAGES:
    bp.add_url_rule(rule, view_func=view, methods=methods)
for rule, view, methods in API:
    api.add_url_rule(rule, endpoint=f"{view.__name__}", view_func=view, methods=methods)
api.before_request(launch.require_session_token)
