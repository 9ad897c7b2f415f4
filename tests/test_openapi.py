"""plugin/openapi.yaml, the description of the JSON APIs, against the app.

- it names every JSON route of Flask's URL map, and nothing that is not one;
- its enums are the code's (kinds, locales, statuses, breakdowns);
- schemathesis sends requests generated from it (valid and invalid) to the
  app over real HTTP, with valid credentials so they get past 401: no answer
  is a 5xx, and every answer (status, content type, headers, body) is one the
  description allows;
- a real request with real data to each operation answers as described.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
import schemathesis
from schemathesis.config import SchemathesisConfig
import yaml
from hypothesis import HealthCheck, settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_headers_conformance,
                                               response_schema_conformance, status_code_conformance)

import plugin
from plugin import create_app
from plugin.admin import tokens
from plugin.signatures import proxy_signature
from widgets.limits import limiter

from .conftest import SECRET, environ
from .two_shops import SHARED_EMAIL, Side, build

SPEC_PATH = Path(plugin.__file__).parent / "openapi.yaml"
SPEC = yaml.safe_load(SPEC_PATH.read_text())
# The JSON APIs: every route under these prefixes must be described, and /healthz.
JSON_PREFIXES = ("/api/admin/", "/proxy/api/", "/widgets/api/")
ALSO_DESCRIBED = ("/healthz",)
METHODS = ("get", "put", "post", "patch", "delete")
# Generated examples per operation and database: with 27 operations on two
# databases, about 450 requests in all, in well under two minutes. The longer
# run, `AFTERCARE_FUZZ_EXAMPLES=60 pytest tests/test_openapi.py -k generated`,
# takes a random seed and adds the coverage phase (every boundary of every
# parameter): about 2,000 requests per database.
LONG_RUN = int(os.environ.get("AFTERCARE_FUZZ_EXAMPLES") or 0)
EXAMPLES = LONG_RUN or 8
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]


def openapi_path(rule: str) -> str:
    """Flask's `/orders/<path:name>` as OpenAPI's `/orders/{name}`."""
    out, rest = "", rule
    while "<" in rest:
        before, _, after = rest.partition("<")
        inside, _, rest = after.partition(">")
        out += before + "{" + inside.rsplit(":", 1)[-1] + "}"
    return out + rest


def json_routes(app) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(JSON_PREFIXES) or rule.rule in ALSO_DESCRIBED:
            routes |= {(method, openapi_path(rule.rule)) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return routes


def described() -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in SPEC["paths"].items() for method in item if method in METHODS}


@pytest.fixture(scope="module")
def bare_app(tmp_path_factory):
    """The app, for its URL map only (no database is used)."""
    tmp = tmp_path_factory.mktemp("openapi")
    return create_app({"TESTING": True}, environ=environ(f"sqlite:///{tmp / 'unused.db'}"),
                      instance_path=str(tmp / "instance"))


def test_every_json_route_is_described_and_nothing_else(bare_app):
    routes, paths = json_routes(bare_app), described()
    missing = sorted(routes - paths)
    assert not missing, ("JSON routes missing from plugin/openapi.yaml (add each under `paths:` with its "
                         "parameters, request body and every status it answers): "
                         + ", ".join(f"{m} {p}" for m, p in missing))
    stale = sorted(paths - routes)
    assert not stale, "plugin/openapi.yaml describes routes the app does not have: " + ", ".join(
        f"{m} {p}" for m, p in stale)


def test_the_descriptions_enums_are_the_codes():
    from plugin.admin.returns_queue import STATUSES
    from plugin.locales import LOCALES
    from plugin.notifications.kinds import KINDS
    from plugin.returns import DECLINE_REASONS, TRANSITIONS
    from plugin.surveys.metrics import BREAKDOWNS

    schemas = SPEC["components"]["schemas"]
    paths = SPEC["paths"]

    def param(path, method, name):
        return next(p for p in paths[path][method]["parameters"] if p.get("name") == name)["schema"]["enum"]

    assert schemas["Kind"]["enum"] == list(KINDS)
    assert schemas["LocaleCode"]["enum"] == list(LOCALES)
    assert schemas["ReturnStatus"]["enum"] == list(STATUSES)
    assert param("/api/admin/returns/{request_id}/{action}", "post", "action") == list(TRANSITIONS)
    assert param("/api/admin/metrics", "get", "by") == list(BREAKDOWNS)
    body = paths["/api/admin/returns/{request_id}/{action}"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"]["properties"]["reason"]["enum"] == list(DECLINE_REASONS)


def test_the_description_is_served_as_kept(client):
    response = client.get("/openapi.yaml")
    assert response.status_code == 200 and response.mimetype == "application/yaml"
    assert response.data == SPEC_PATH.read_bytes()


# --- schemathesis against the live app -----------------------------------------------

# The description's examples, then generated requests, valid and invalid
# (and in the longer run the coverage phase, ~60 requests an operation).
schema = schemathesis.openapi.from_dict(SPEC, config=SchemathesisConfig.from_dict(
    {"phases": {"coverage": {"enabled": bool(LONG_RUN)}}}))


class Credentials:
    """What a real caller of each surface holds, for shop A: a session token
    for the admin API, Shopify's signature for the app proxy, the shop's
    name for the widget."""

    def __init__(self, side: Side):
        self.side, self.shop = side, side.domain
        self.bearer = tokens.mint(side.domain)

    def sign(self, path: str, headers: dict | None, query: dict | None) -> tuple[dict, dict]:
        headers, query = dict(headers or {}), dict(query or {})
        if path.startswith("/api/admin/"):
            headers["Authorization"] = f"Bearer {self.bearer}"
        elif path.startswith("/widgets/api/"):
            query["shop"] = self.shop
        elif path.startswith("/proxy/api/"):
            query = self.proxy_query(query)
        return headers, query

    def apply(self, case) -> None:
        case.headers, case.query = self.sign(case.operation.path, case.headers, case.query)
        # A return request's generated token would only ever be refused (404):
        # with a genuine one the items themselves are what is tried.
        if case.operation.path.endswith("/api/returns") and isinstance(case.body, dict) \
                and isinstance(case.body.get("token"), str):
            case.body["token"] = self.side.order_token()

    def proxy_query(self, query: dict) -> dict:
        """The request's own parameters with Shopify's, signed as the app proxy signs them."""
        pairs = [(k, str(v)) for k, v in query.items() if not isinstance(v, (list, dict)) and k not in (
            "shop", "signature", "timestamp", "logged_in_customer_id", "path_prefix")]
        pairs += [("shop", self.shop), ("logged_in_customer_id", ""), ("path_prefix", "/apps/aftercare"),
                  ("timestamp", str(int(time.time())))]
        return dict(pairs + [("signature", proxy_signature(SECRET, pairs))])


@pytest.fixture
def world(app, smtp):
    """Two shops with data, a mail server (test sends reach the SMTP sink),
    lookups without their timing floor, no rate limits (a 429 would hide what
    the request would have answered), and shop A's credentials."""
    a, _b = build(app)
    app.config["LOOKUP_SECONDS"] = 0.0
    limiter.enabled = False
    yield Credentials(a)
    limiter.enabled = True
    app.config.pop("LOOKUP_SECONDS", None)


@schema.parametrize()
@hypothesis_settings(max_examples=EXAMPLES, deadline=None, derandomize=not LONG_RUN,
                     suppress_health_check=list(HealthCheck))
def test_generated_requests_are_answered_as_described(case, world, live_server):
    world.apply(case)
    case.call_and_validate(base_url=live_server, checks=CHECKS)


# --- real requests with real data ------------------------------------------------

# One request per operation that succeeds with shop A's data (``a``), so that
# the answers generated requests rarely reach (an order found, a return
# declined) are checked against the description too. path: its parameters;
# query, json: the request's own.
REAL = {
    ("GET", "/healthz"): {},
    ("GET", "/api/admin/settings"): {},
    ("PUT", "/api/admin/settings"): {"json": {"notifications.quiet_hours": "21:00-08:00"}},
    ("GET", "/api/admin/notifications"): {"query": {"per_page": 1}},
    ("POST", "/api/admin/notifications/{notification_id}/retry"): {
        "path": lambda a: {"notification_id": a.notification_id}},
    ("POST", "/api/admin/notifications/preview"): {"json": {"kind": "shipped", "locale": "fr", "order": "#1001"}},
    ("POST", "/api/admin/notifications/test"): {"json": {"kind": "delivered", "to": "owner@example.com"}},
    ("POST", "/api/admin/session-token"): {},
    ("GET", "/api/admin/orders/{name}"): {"path": lambda a: {"name": "1001"}},
    ("GET", "/api/admin/health"): {},
    ("POST", "/api/admin/webhooks/{delivery_id}/replay"): {"path": lambda a: {"delivery_id": a.delivery_id}},
    ("GET", "/api/admin/data-exports"): {},
    ("GET", "/api/admin/data-exports/{export_id}"): {"path": lambda a: {"export_id": a.export_id}},
    ("GET", "/api/admin/returns"): {"query": {"status": "requested"}},
    ("POST", "/api/admin/returns/{request_id}/{action}"): {
        "path": lambda a: {"request_id": a.return_id, "action": "decline"}, "json": {"reason": "OTHER", "note": "No"}},
    ("GET", "/api/admin/metrics"): {"query": {"by": "carrier"}},
    ("GET", "/api/admin/surveys/responses.csv"): {},
    ("GET", "/api/admin/surveys/low-answers"): {"query": {"followed_up": "no", "per_page": 5}},
    ("POST", "/api/admin/surveys/low-answers/{answer_id}/follow-up"): {"path": lambda a: {"answer_id": a.answer_id}},
    ("POST", "/proxy/api/lookup"): {"json": {"order": "#1001", "email": SHARED_EMAIL}},
    ("GET", "/proxy/api/orders/{token}"): {"path": lambda a: {"token": a.order_token()}, "query": {"locale": "de"}},
    ("POST", "/proxy/api/contact"): {"json": lambda a: {"token": a.order_token(), "message": "Where is it?"}},
    ("POST", "/proxy/api/returns"): {"json": lambda a: {
        "token": a.order_token(), "key": "form-1", "note": "Too small", "locale": "fr",
        "items": [{"line_item_id": str(a.line_item_id), "quantity": 1, "reason": "DEFECTIVE", "note": "Cracked"}]}},
    ("POST", "/widgets/api/lookup"): {"json": {"order": "1001", "email": SHARED_EMAIL.upper()}},
    ("GET", "/widgets/api/orders/{token}"): {"path": lambda a: {"token": a.order_token()}},
    ("POST", "/widgets/api/contact"): {"json": lambda a: {"token": a.order_token(), "message": "Hello"}},
    ("POST", "/widgets/api/returns"): {"json": lambda a: {
        "token": a.order_token(),
        "items": [{"line_item_id": str(a.line_item_id), "quantity": 1, "reason": "unwanted"}]}},
}


def test_every_operation_has_a_real_request():
    missing = sorted(described() - set(REAL))
    assert not missing, "add a request that succeeds to REAL in tests/test_openapi.py for: " + ", ".join(
        f"{m} {p}" for m, p in missing)


@pytest.mark.parametrize("operation", sorted(REAL), ids=" ".join)
def test_real_requests_are_answered_as_described(operation, world, live_server):
    method, template = operation
    spec = REAL[operation]
    a = world.side

    def value(key):
        found = spec.get(key)
        return found(a) if callable(found) else found

    path = template.format(**{k: quote(str(v), safe="") for k, v in (value("path") or {}).items()})
    headers, query = world.sign(path, {}, value("query"))
    response = requests.request(method, f"{live_server}{path}", params=query, headers=headers,
                                json=value("json"), timeout=30)
    assert 200 <= response.status_code < 300, (response.status_code, response.text[:500])
    schema[template][method].validate_response(response)


# --- answers generated requests cannot reach (they hold no valid token) ------------

def _call(world, live_server, method: str, path: str, **kwargs) -> requests.Response:
    headers, query = world.sign(path, {}, kwargs.pop("query", None))
    return requests.request(method, f"{live_server}{path}", params=query, headers=headers, timeout=30, **kwargs)


@pytest.mark.parametrize("path", ["/proxy/api/returns", "/widgets/api/returns"])
def test_return_requests_repeated_and_refused_are_answered_as_described(path, world, live_server):
    """The same key again (200), the key reused for other items (409), an
    item with none left to return (422 not_returnable) and a bad quantity
    (422 naming its field): each as described, and only the first stored."""
    a = world.side
    token, item = a.order_token(), str(a.line_item_id)

    def ask(key, quantity=1, reason="DEFECTIVE"):
        body = {"token": token, "key": key, "items": [{"line_item_id": item, "quantity": quantity, "reason": reason}]}
        response = _call(world, live_server, "POST", path, json=body)
        schema[path]["post"].validate_response(response)
        return response

    first = ask("k1")
    assert first.status_code == 201, first.text
    again = ask("k1")
    assert again.status_code == 200 and again.json()["return"]["id"] == first.json()["return"]["id"]
    reused = ask("k1", reason="UNWANTED")
    assert reused.status_code == 409 and reused.json()["error"] == "key_reused", reused.text
    none_left = ask("k2")
    assert none_left.status_code == 422, none_left.text
    assert none_left.json() | {"message": ""} == {"error": "not_returnable", "why": "already_returned",
                                                  "field": "items[0].line_item_id", "message": ""}
    too_many = ask("k3", quantity=0)
    assert too_many.status_code == 422 and too_many.json()["field"] == "items[0].quantity", too_many.text
    assert [r["id"] for r in first.json()["returns"]["requests"]] == [first.json()["return"]["id"],
                                                                      str(a.return_id)]
    listed = ask("k1").json()["returns"]["requests"]
    assert len(listed) == 2, "a refused request was stored"


def test_low_answers_marked_twice_and_bad_filters_are_answered_as_described(world, live_server):
    """The second mark (409, showing the first), an answer the shop does not
    have as low (404) and a filter that is neither yes nor no (422)."""
    a = world.side
    mark = f"/api/admin/surveys/low-answers/{a.answer_id}/follow-up"
    first = _call(world, live_server, "POST", mark)
    assert first.status_code == 200 and first.json()["followed_up_at"], first.text
    second = _call(world, live_server, "POST", mark)
    assert second.status_code == 409 and second.json()["answer"] == first.json(), second.text
    schema["/api/admin/surveys/low-answers/{answer_id}/follow-up"]["post"].validate_response(second)
    missing = _call(world, live_server, "POST", f"/api/admin/surveys/low-answers/{a.answer_id + 1000}/follow-up")
    assert missing.status_code == 404, missing.text
    schema["/api/admin/surveys/low-answers/{answer_id}/follow-up"]["post"].validate_response(missing)
    listed = "/api/admin/surveys/low-answers"
    bad = _call(world, live_server, "GET", listed, query={"followed_up": "maybe"})
    assert bad.status_code == 422 and bad.json()["field"] == "followed_up", bad.text
    schema[listed]["get"].validate_response(bad)
    done = _call(world, live_server, "GET", listed, query={"followed_up": "yes"})
    assert [answer["id"] for answer in done.json()["items"]] == [a.answer_id], done.text
    schema[listed]["get"].validate_response(done)
