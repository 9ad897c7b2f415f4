"""Tenant isolation, route by route: every route of Flask's URL map and every
`aftercare` command is tried as shop A with shop B's ids, tokens and
signatures (tests/two_shops.py: both have order #1001 by the same email).
Each attempt must be refused (401/404, or the route's own refusal) or answer
A's own data, and never show any of B's words, and B's rows must be exactly
as they were.

A route or command without a case here fails
`test_every_route_has_an_isolation_case` (or `…_command_…`), with the line
to add. The builders below cover each surface; one line per route:

    "GET /s/<token>": signed_link("GET", "/s/{token}", "survey", refused=(404,)),
"""

from __future__ import annotations

import base64
import json
import re
import time
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlencode, urlsplit

import click
import pytest
from sqlalchemy import inspect, text

from plugin import create_app, links, migrate
from plugin.admin import admin_url, tokens
from plugin.db import engine
from plugin.demo import DEMO_SHOP
from plugin.models import Order, WebhookDelivery
from plugin.signatures import proxy_signature

from .conftest import API_KEY, SECRET, _empty_all_tables, db, environ, fresh_database, sign, signed_query
from .fake_shopify import make_session_token
from .two_shops import SHARED_NAME, Side, build, leaked

WRONG_SECRET = "shpss_wrong00000000000000000000000000000"


@dataclass
class Ctx:
    """Shop A (whose credentials every attempt holds) and shop B (whose
    objects it asks for), the app, its test client and the CLI runner."""

    app: object
    client: object
    a: Side
    b: Side
    runner: Callable | None = None
    run_worker: Callable | None = None

    def path(self, template: str) -> str:
        """A path filled in, with an order's "#" escaped (it would start the fragment)."""
        return self.fill(template).replace("#", "%23")

    def fill(self, value):
        """``value`` with {a.…} and {b.…} (the shops' Side fields), {a_token} and
        {b_token} (each shop's own order token) and {crossed_token} (a genuine
        token naming shop A and B's order) filled in, in strings, lists and dicts alike."""
        if isinstance(value, str):
            return value.format(a=self.a, b=self.b, a_token=self.a.order_token(), b_token=self.b.order_token(),
                                crossed_token=self.a.order_token(order_id=self.b.order_id))
        if isinstance(value, dict):
            return {k: self.fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.fill(v) for v in value]
        return value


def no_leak(ctx: Ctx, response, allowed: tuple[int, ...], what: str) -> None:
    """The answer's status is one of ``allowed`` and nothing in it is shop B's."""
    body = response.get_data(as_text=True) if hasattr(response, "get_data") else response.output
    if hasattr(response, "close"):
        response.close()
    status = getattr(response, "status_code", None)
    if status is None:
        status = response.exit_code
    assert status in allowed, f"{what}: answered {status}, expected one of {allowed}: {body[:300]}"
    found = leaked(body, ctx.b)
    assert not found, f"{what}: shop B's data in the answer: {found}"
    for name, value in getattr(response, "headers", {}).items():
        assert not leaked(value, ctx.b), f"{what}: shop B's data in the header {name}"


# --- builders: each returns what one route's case does ---------------------------

@dataclass
class Case:
    run: Callable[[Ctx], None]
    demo: bool = False  # needs the demo app (DEMO=True, shop A is the demo shop)


def public(path: str, status: int = 200, demo: bool = False) -> Case:
    """A route that shows no shop's data to anyone: neither shop's words appear."""
    def run(ctx):
        response = ctx.client.get(ctx.path(path))
        no_leak(ctx, response, (status,), f"GET {path}")
        assert not leaked(response.get_data(as_text=True), ctx.a), f"GET {path} shows shop A's data"
    return Case(run, demo)


def demo(path: str, refused: tuple[int, ...] = (200,)) -> Case:
    """A page of `aftercare demo`, which shows its one demo shop (A) only."""
    def run(ctx):
        no_leak(ctx, ctx.client.get(ctx.path(path)), refused, f"GET {path}")
    return Case(run, demo=True)


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def shows_own(ctx: Ctx, response, what: str) -> None:
    """The answer shows some of A's own data: B's absence from it means something."""
    assert leaked(response.get_data(as_text=True), ctx.a), f"{what}: none of shop A's own data in the answer"


def admin_api(method: str, path: str, json=None, refused: tuple[int, ...] = (404,), own: bool = False) -> Case:
    """/api/admin/…: A's session token with B's ids → ``refused`` (200 for a
    list: A's rows only, some of them when ``own``); a token for B not signed
    with the app's secret → 401."""
    def run(ctx):
        what = f"{method} {path}"
        response = ctx.client.open(ctx.path(path), method=method, json=ctx.fill(json),
                                   headers=_bearer(tokens.mint(ctx.a.domain)))
        no_leak(ctx, response, refused, what + " with A's token and B's ids")
        if own:
            shows_own(ctx, response, what)
        forged = make_session_token(API_KEY, WRONG_SECRET, ctx.b.domain)
        response = ctx.client.open(ctx.path(path), method=method, json=ctx.fill(json), headers=_bearer(forged))
        no_leak(ctx, response, (401,), what + " with a forged token for B")
    return Case(run)


def admin_page(path: str, refused: tuple[int, ...] = (200,), own: bool = False) -> Case:
    """/app/…: A's signed link with B's ids in the query → ``refused`` (A's
    page, without B's data, with some of A's when ``own``); A's link
    presented for shop B → 401."""
    def run(ctx):
        page, _, extra = ctx.path(path).partition("?")
        link = urlsplit(admin_url(ctx.a.domain, page))
        response = ctx.client.get(f"{link.path}?{link.query}" + (f"&{extra}" if extra else ""))
        no_leak(ctx, response, refused, f"GET {path} with A's link")
        if own:
            shows_own(ctx, response, f"GET {path}")
        swapped = link.query.replace(f"shop={ctx.a.domain}", f"shop={ctx.b.domain}")
        no_leak(ctx, ctx.client.get(f"{link.path}?{swapped}"), (401,), f"GET {path} with A's link for shop B")
    return Case(run)


def launch(path: str) -> Case:
    """GET /app: Shopify's signed launch for A with the shop changed to B →
    401; B's session token signed with another secret → 401."""
    def run(ctx):
        query = signed_query(shop=ctx.a.domain, host="YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvYQ")
        query["shop"] = ctx.b.domain
        no_leak(ctx, ctx.client.get(path, query_string=query), (401,), f"GET {path} signed for A, shop B")
        forged = make_session_token(API_KEY, WRONG_SECRET, ctx.b.domain)
        no_leak(ctx, ctx.client.get(path, query_string={"id_token": forged}), (401,), f"GET {path} forged id_token")
    return Case(run)


def _proxy_query(shop: str, params: dict, secret: str = SECRET) -> list[tuple[str, str]]:
    pairs = [("shop", shop), ("logged_in_customer_id", ""), ("path_prefix", "/apps/aftercare"),
             ("timestamp", str(int(time.time())))]
    pairs = [(k, params.pop(k)) if k in params else (k, v) for k, v in pairs] + list(params.items())
    return pairs + [("signature", proxy_signature(secret, pairs))]


def proxy(method: str, path: str, json=None, form=None, query=None, refused: tuple[int, ...] = (404,)) -> Case:
    """/proxy/…: a query Shopify signed for A, with B's ids, tokens or
    customer → ``refused``; a query signed for B with its shop changed to A → 401."""
    def run(ctx):
        what = f"{method} {path}"
        params = {k: str(v) for k, v in (ctx.fill(query) or {}).items()}
        signed = urlencode(_proxy_query(ctx.a.domain, dict(params)))
        response = ctx.client.open(f"{ctx.path(path)}?{signed}", method=method, json=ctx.fill(json),
                                   data=ctx.fill(form))
        no_leak(ctx, response, refused, what + " signed for A with B's ids")
        for_b = urlencode(_proxy_query(ctx.b.domain, dict(params))).replace(
            f"shop={ctx.b.domain}", f"shop={ctx.a.domain}")
        response = ctx.client.open(f"{ctx.path(path)}?{for_b}", method=method, json=ctx.fill(json),
                                   data=ctx.fill(form))
        no_leak(ctx, response, (401,), what + " signed for B, shop changed to A")
    return Case(run)


def widget(method: str, path: str, json=None, refused: tuple[int, ...] = (404,)) -> Case:
    """/widgets/api/…: ?shop=A with B's ids or tokens → ``refused``; shop B
    asked from A's storefront origin → a write is 403, a read gets no CORS."""
    def run(ctx):
        what = f"{method} {path}"
        response = ctx.client.open(ctx.path(path), method=method, json=ctx.fill(json),
                                   query_string={"shop": ctx.a.domain})
        no_leak(ctx, response, refused, what + " for A with B's ids")
        response = ctx.client.open(ctx.path(path), method=method, json=ctx.fill(json),
                                   query_string={"shop": ctx.b.domain},
                                   headers={"Origin": f"https://{ctx.a.domain}"})
        if method == "GET":
            assert "Access-Control-Allow-Origin" not in response.headers, what + ": B's answer readable from A's origin"
        else:
            assert response.status_code == 403, f"{what}: shop B written from A's origin ({response.status_code})"
    return Case(run)


def each(*cases: Case) -> Case:
    """Several attempts at one route (e.g. B's token, then A's token with B's item)."""
    def run(ctx):
        for case in cases:
            case.run(ctx)
    return Case(run, demo=any(case.demo for case in cases))


def _return_of(token: str, item: str = "{b.line_item_id}") -> dict:
    """A return request's JSON body: one of ``item`` (B's returnable line item by default)."""
    return {"token": token, "items": [{"line_item_id": item, "quantity": 1, "reason": "DEFECTIVE"}], "key": "k1"}


def _return_form(token: str) -> dict:
    """The proxy page's plain return form, for B's returnable line item."""
    return {"token": token, "line_item_id": "{b.line_item_id}", "quantity": "1", "reason": "DEFECTIVE", "key": "k1"}


def signed_link(method: str, path: str, purpose: str, refused: tuple[int, ...] = (404,)) -> Case:
    """A page opened from a signed link (/t, /u, /s): a genuine token naming
    shop A and B's object (B's order, invitation or address) → ``refused``;
    B's own token with its shop changed to A (so no longer signed) → 404."""
    def run(ctx):
        b = ctx.b
        objects = {"order_id": b.order_id, "invitation_id": b.invitation_id, "address": b.only_email,
                   "category": "shipping", "question": "csat", "score": 4}
        fields = links.PURPOSES[purpose][2]
        crossed = links.dumps(purpose, **{f: ctx.a.id if f == "shop_id" else objects[f] for f in fields})
        response = ctx.client.open(path.format(token=crossed), method=method)
        no_leak(ctx, response, refused, f"{method} {path} with A's token for B's object")
        genuine = links.dumps(purpose, **{f: b.id if f == "shop_id" else objects[f] for f in fields})
        payload, _, signature = genuine.partition(".")
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        data["shop_id"] = ctx.a.id
        tampered = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).rstrip(b"=").decode()
        response = ctx.client.open(path.format(token=f"{tampered}.{signature}"), method=method)
        no_leak(ctx, response, (404,), f"{method} {path} with B's token moved to A")
    return Case(run)


def webhook() -> Case:
    """POST /webhooks: B's order (its Shopify id, its customer) delivered
    under A's headers is accepted, then refused by the worker (Shopify ids
    are global); the same body signed with another secret → 401."""
    def run(ctx):
        body = json.dumps({"id": ctx.b.order_shopify_id, "name": SHARED_NAME, "email": ctx.b.only_email,
                           "updated_at": "2030-01-01T00:00:00Z", "created_at": "2026-11-01T00:00:00Z",
                           "line_items": []}).encode()
        headers = {"X-Shopify-Topic": "orders/updated", "X-Shopify-Shop-Domain": ctx.a.domain,
                   "X-Shopify-Webhook-Id": "isolation-1", "Content-Type": "application/json"}
        forged = ctx.client.post("/webhooks", data=body, headers={**headers, "X-Shopify-Hmac-Sha256":
                                                                 sign(body, WRONG_SECRET)})
        no_leak(ctx, forged, (401,), "POST /webhooks signed with another secret")
        response = ctx.client.post("/webhooks", data=body, headers={**headers, "X-Shopify-Hmac-Sha256": sign(body)})
        no_leak(ctx, response, (200,), "POST /webhooks with B's order under A's headers")
        ctx.run_worker()
        session = db()
        delivery = session.query(WebhookDelivery).filter_by(shop_id=ctx.a.id, webhook_id="isolation-1").one()
        assert delivery.status == "failed" and delivery.error.startswith("Mismatch:"), delivery.error
        assert not session.query(Order).filter_by(shop_id=ctx.a.id, shopify_id=ctx.b.order_shopify_id).count()
    return Case(run)


def oauth_install(path: str) -> Case:
    """GET /auth/install: a query signed for A with the shop changed to B → 401."""
    def run(ctx):
        query = signed_query(shop=ctx.a.domain)
        query["shop"] = ctx.b.domain
        response = ctx.client.get(path, query_string=query)
        no_leak(ctx, response, (401,), f"GET {path} signed for A, shop B")
        assert "Location" not in response.headers
    return Case(run)


def oauth_callback(path: str) -> Case:
    """GET /auth/callback: Shopify's callback for B carrying the state of an
    install started for A → 403; a query signed for A with shop B → 401."""
    def run(ctx):
        started = ctx.client.get("/auth/install", query_string=signed_query(shop=ctx.a.domain))
        assert started.status_code == 302
        state = dict(p.split("=", 1) for p in urlsplit(started.headers["Location"]).query.split("&"))["state"]
        query = signed_query(shop=ctx.b.domain, code="code-of-b", state=state)
        no_leak(ctx, ctx.client.get(path, query_string=query), (403,), f"GET {path} for B with A's state")
        query = signed_query(shop=ctx.a.domain, code="code", state=state)
        query["shop"] = ctx.b.domain
        no_leak(ctx, ctx.client.get(path, query_string=query), (401,), f"GET {path} signed for A, shop B")
    return Case(run)


ROUTES: dict[str, Case] = {
    # operator and static: no shop's data
    "GET /healthz": public("/healthz"),
    "GET /openapi.yaml": public("/openapi.yaml"),
    "GET /static/<path:filename>": public("/static/aftercare.css", status=404),  # nothing is served there
    "GET /app/static/<path:filename>": public("/app/static/admin.css"),
    "GET /widgets/<any('aftercare.js', 'aftercare.css'):name>": public("/widgets/aftercare.js"),
    # Shopify
    "POST /webhooks": webhook(),
    "GET /auth/install": oauth_install("/auth/install"),
    "GET /auth/callback": oauth_callback("/auth/callback"),
    # admin pages
    "GET /app": launch("/app"),
    "GET /app/home": admin_page("/app/home"),
    "GET /app/settings/<section>": admin_page("/app/settings/notifications"),
    "GET /app/outbox": admin_page("/app/outbox", own=True),
    "GET /app/orders": admin_page("/app/orders?q={b.only_order_name}"),
    "GET /app/health": admin_page("/app/health", own=True),
    "GET /app/returns": admin_page("/app/returns", own=True),
    "GET /app/templates": admin_page("/app/templates?kind=shipped"),
    # admin API: B's ids with A's token
    "GET /api/admin/settings": admin_api("GET", "/api/admin/settings", refused=(200,), own=True),
    "PUT /api/admin/settings": admin_api("PUT", "/api/admin/settings", json={"mail.from": "A <a@a.example>"},
                                         refused=(200,), own=True),
    "GET /api/admin/notifications": admin_api("GET", "/api/admin/notifications", refused=(200,), own=True),
    "POST /api/admin/notifications/<int:notification_id>/retry":
        admin_api("POST", "/api/admin/notifications/{b.notification_id}/retry"),
    "POST /api/admin/notifications/preview":
        admin_api("POST", "/api/admin/notifications/preview", json={"kind": "shipped", "order": "{b.only_order_name}"}),
    "POST /api/admin/notifications/test":
        admin_api("POST", "/api/admin/notifications/test", json={"kind": "shipped", "to": "x"}, refused=(422,)),
    "POST /api/admin/session-token": admin_api("POST", "/api/admin/session-token", refused=(200,)),
    "GET /api/admin/orders/<path:name>": admin_api("GET", "/api/admin/orders/{b.only_order_name}"),
    "GET /api/admin/health": admin_api("GET", "/api/admin/health", refused=(200,), own=True),
    "POST /api/admin/webhooks/<delivery_id>/replay": admin_api("POST", "/api/admin/webhooks/{b.delivery_id}/replay"),
    "GET /api/admin/data-exports": admin_api("GET", "/api/admin/data-exports", refused=(200,)),
    "GET /api/admin/data-exports/<int:export_id>": admin_api("GET", "/api/admin/data-exports/{b.export_id}"),
    "GET /api/admin/returns": admin_api("GET", "/api/admin/returns", refused=(200,), own=True),
    "POST /api/admin/returns/<int:request_id>/<action>":
        admin_api("POST", "/api/admin/returns/{b.return_id}/decline", json={"reason": "OTHER"}),
    "GET /api/admin/metrics": admin_api("GET", "/api/admin/metrics?by=carrier", refused=(200,), own=True),
    "GET /api/admin/surveys/responses.csv": admin_api("GET", "/api/admin/surveys/responses.csv", refused=(200,),
                                                      own=True),
    "GET /api/admin/surveys/low-answers": admin_api("GET", "/api/admin/surveys/low-answers?followed_up=no",
                                                    refused=(200,), own=True),
    "POST /api/admin/surveys/low-answers/<int:answer_id>/follow-up":
        admin_api("POST", "/api/admin/surveys/low-answers/{b.answer_id}/follow-up"),
    # storefront through the app proxy
    "GET /proxy/": proxy("GET", "/proxy/", query={"order": "{b_token}", "logged_in_customer_id": "602"}),
    "POST /proxy/": proxy("POST", "/proxy/", form={"order": "{b.only_order_name}", "email": "{b.only_email}"}),
    "POST /proxy/api/lookup": proxy("POST", "/proxy/api/lookup",
                                    json={"order": "{b.only_order_name}", "email": "{b.only_email}"}),
    "GET /proxy/api/orders/<token>": proxy("GET", "/proxy/api/orders/{crossed_token}"),
    "POST /proxy/api/contact": proxy("POST", "/proxy/api/contact", json={"token": "{b_token}", "message": "Hi"}),
    # returns: B's token, a token naming A with B's order, or A's own order with B's line item
    "POST /proxy/api/returns": each(proxy("POST", "/proxy/api/returns", json=_return_of("{b_token}")),
                                    proxy("POST", "/proxy/api/returns", json=_return_of("{crossed_token}")),
                                    proxy("POST", "/proxy/api/returns", json=_return_of("{a_token}"), refused=(422,))),
    "POST /proxy/returns": each(proxy("POST", "/proxy/returns", form=_return_form("{crossed_token}")),
                                proxy("POST", "/proxy/returns", form=_return_form("{a_token}"), refused=(422,))),
    # storefront by script tag
    "POST /widgets/api/lookup": widget("POST", "/widgets/api/lookup",
                                       json={"order": "{b.only_order_name}", "email": "{b.only_email}"}),
    "GET /widgets/api/orders/<token>": widget("GET", "/widgets/api/orders/{b_token}"),
    "POST /widgets/api/contact": widget("POST", "/widgets/api/contact", json={"token": "{crossed_token}",
                                                                              "message": "Hi"}),
    "POST /widgets/api/returns": each(widget("POST", "/widgets/api/returns", json=_return_of("{b_token}")),
                                      widget("POST", "/widgets/api/returns", json=_return_of("{crossed_token}")),
                                      widget("POST", "/widgets/api/returns", json=_return_of("{a_token}"),
                                             refused=(422,))),
    # pages opened from messages' signed links
    "GET /t/<token>": signed_link("GET", "/t/{token}", "track"),
    "GET /u/<token>": signed_link("GET", "/u/{token}", "unsubscribe", refused=(200,)),
    "POST /u/<token>": signed_link("POST", "/u/{token}", "unsubscribe", refused=(200,)),
    "GET /s/<token>": signed_link("GET", "/s/{token}", "survey"),
    "POST /s/<token>": signed_link("POST", "/s/{token}", "survey"),
    # `aftercare demo` only: its one demo shop
    "GET /demo": demo("/demo"),
    "GET /demo/storefront": demo("/demo/storefront"),
    "GET /demo/orders.json": demo("/demo/orders.json"),
    "GET /demo/webhooks.json": demo("/demo/webhooks.json"),
    "GET /demo/messages/<int:notification_id>": demo("/demo/messages/{b.notification_id}", refused=(404,)),
    "GET /demo/messages/<int:notification_id>.txt": demo("/demo/messages/{b.notification_id}.txt", refused=(404,)),
}


# --- commands -----------------------------------------------------------------------

@dataclass
class Command:
    run: Callable[[Ctx, click.Command], None]


def command(*args: str, exit_codes: tuple[int, ...] = (1,)) -> Command:
    """`aftercare …` naming shop A (``--shop``) and B's objects → ``exit_codes``
    and none of B's words in what it prints."""
    def run(ctx, _cmd):
        filled = [ctx.fill(arg) for arg in args]
        no_leak(ctx, ctx.runner(*filled), exit_codes, "aftercare " + " ".join(filled))
    return Command(run)


def operator(reason: str) -> Command:
    """A command that serves every shop by design (the operator's): it must
    not take --shop, or it needs a real case."""
    def run(_ctx, cmd):
        options = {opt for param in cmd.params for opt in getattr(param, "opts", [])}
        assert "--shop" not in options, f"{cmd.name} takes --shop now: give it a command(...) case ({reason})"
    return Command(run)


COMMANDS: dict[str, Command] = {
    "demo": operator("its own demo shop on its own database"),
    "run": operator("starts the web app"),
    "serve": operator("starts the web app"),
    "worker": operator("works for every shop"),
    "db upgrade": operator("the schema"),
    "db downgrade": operator("the schema"),
    "shops add": operator("registers a shop by hand"),
    "shops list": operator("lists every shop"),
    "webhooks failed": operator("the inbox of every shop, each row naming its shop"),
    "webhooks replay": operator("replays any stored delivery by id"),
    "notifications retry": operator("retries any failed message by id"),
    "shell": operator("a developer's Python shell"),
    "routes": operator("lists the URL map"),
    "orders show": command("orders", "show", "--shop", "{a.domain}", "{b.only_order_name}"),
    "backfill": command("backfill", "--shop", "{a.domain}", "--days", "1", exit_codes=(0, 1)),
    "settings get": command("settings", "get", "--shop", "{a.domain}", exit_codes=(0,)),
    "settings set": command("settings", "set", "--shop", "{a.domain}", "mail.from=A <a@a.example>", exit_codes=(0,)),
    "notifications preview": command("notifications", "preview", "--shop", "{a.domain}", "shipped",
                                     "--order", "{b.only_order_name}"),
    "notifications send-test": command("notifications", "send-test", "--shop", "{a.domain}", "shipped",
                                       "--order", "{b.only_order_name}", "--to", "me@example.com"),
}


# --- the walk ---------------------------------------------------------------------

def _bare_app(tmp_path_factory, **config):
    tmp = tmp_path_factory.mktemp("walk")
    return create_app({"TESTING": True, **config}, environ=environ(f"sqlite:///{tmp / 'unused.db'}"),
                      instance_path=str(tmp / "instance"))


def app_routes(app) -> dict[str, str]:
    """"METHOD rule" → endpoint, for every route (OPTIONS is CORS preflight,
    answered before any shop is looked at; HEAD is GET)."""
    return {f"{method} {rule.rule}": rule.endpoint for rule in app.url_map.iter_rules()
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"})}


def cli_commands(group: click.Group, prefix: str = "") -> dict[str, click.Command]:
    found = {}
    for name, cmd in group.commands.items():
        full = f"{prefix} {name}".strip()
        found.update(cli_commands(cmd, full) if isinstance(cmd, click.Group) else {full: cmd})
    return found


def _suggestion(route: str) -> str:
    method, rule = route.split(" ", 1)
    if "<token>" in rule and not rule.startswith(("/proxy/", "/widgets/")):
        return f'signed_link("{method}", "{rule.replace("<token>", "{token}")}", "<its links.PURPOSES purpose>")'
    # B's object for each URL variable (add it to Side in tests/two_shops.py if missing).
    path = re.sub(r"<(?:[^:>]+:)?(\w+)>",
                  lambda m: "{b_token}" if m.group(1) == "token" else "{b.%s}" % m.group(1), rule)
    if rule.startswith("/api/admin/"):
        return f'admin_api("{method}", "{path}")'
    if rule.startswith("/app"):
        return f'admin_page("{path}")'
    if rule.startswith("/proxy/"):
        return f'proxy("{method}", "{path}", json={{...B\'s ids...}})'
    if rule.startswith("/widgets/api/"):
        return f'widget("{method}", "{path}", json={{...B\'s ids...}})'
    if rule.startswith("/demo"):
        return f'demo("{path}")'
    return f'public("{path}")  # only if it shows no shop\'s data; else a builder of its own'


def test_every_route_has_an_isolation_case(tmp_path_factory):
    routes = {}
    for app in (_bare_app(tmp_path_factory), _bare_app(tmp_path_factory, DEMO=True)):
        routes.update(app_routes(app))
    missing = sorted(set(routes) - set(ROUTES))
    assert not missing, "No tenant-isolation case for " + "; ".join(
        f"route {r!r} (endpoint {routes[r]})" for r in missing) + (
        ".\nAdd one line per route to ROUTES in tests/test_isolation.py, trying it as shop A with shop B's ids, "
        "tokens or signatures, e.g.:\n" + "\n".join(f'    "{r}": {_suggestion(r)},' for r in missing))
    stale = sorted(set(ROUTES) - set(routes))
    assert not stale, f"ROUTES in tests/test_isolation.py names routes the app no longer has: {stale}"


def test_every_command_has_an_isolation_case():
    from plugin.cli import cli

    commands = cli_commands(cli)
    missing = sorted(set(commands) - set(COMMANDS))
    assert not missing, "No tenant-isolation case for the command(s) " + ", ".join(
        f"`aftercare {c}`" for c in missing) + (
        ". Add one line per command to COMMANDS in tests/test_isolation.py: "
        'command("group", "name", "--shop", "{a.domain}", "<B\'s id>") when it takes --shop, '
        'else operator("why it serves every shop").')
    stale = sorted(set(COMMANDS) - set(commands))
    assert not stale, f"COMMANDS in tests/test_isolation.py names commands that no longer exist: {stale}"


def shop_rows(app, shop_id: int) -> dict[str, list]:
    """Every row the shop owns, table by table: what must not change when
    another shop's credentials are used."""
    rows = {}
    with engine(app).connect() as conn:
        for table in inspect(conn).get_table_names():
            columns = {c["name"] for c in inspect(conn).get_columns(table)}
            key = "shop_id" if "shop_id" in columns else "id" if table == "shops" else None
            if key is None:
                continue
            found = conn.execute(text(f"SELECT * FROM {table} WHERE {key} = :shop"), {"shop": shop_id})
            # Sorted whole: tables keyed by more than an id (the survey counts) come back in any order.
            rows[table] = sorted(tuple(map(str, row)) for row in found)
    return rows


@pytest.fixture
def ctx(app, client, runner, run_worker):
    a, b = build(app)
    app.config["LOOKUP_SECONDS"] = 0.0
    yield Ctx(app, client, a, b, runner, run_worker)
    app.config.pop("LOOKUP_SECONDS", None)


@pytest.fixture(scope="module")
def demo_app(backend, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("demo")
    with fresh_database(backend, tmp) as url:
        app = create_app({"TESTING": True, "DEMO": True}, environ=environ(url), instance_path=str(tmp / "instance"))
        migrate.upgrade(app)
        yield app
        engine(app).dispose()


@pytest.fixture
def demo_ctx(demo_app):
    with demo_app.app_context():
        a, b = build(demo_app, a_domain=DEMO_SHOP)
        yield Ctx(demo_app, demo_app.test_client(), a, b)
    _empty_all_tables(demo_app)


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_route_refuses_the_other_shop(route, backend, request):
    case = ROUTES[route]
    ctx = request.getfixturevalue("demo_ctx" if case.demo else "ctx")
    before = shop_rows(ctx.app, ctx.b.id)
    case.run(ctx)
    assert shop_rows(ctx.app, ctx.b.id) == before, f"{route} changed shop B's rows"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_command_refuses_the_other_shop(name, ctx):
    from plugin.cli import cli

    before = shop_rows(ctx.app, ctx.b.id)
    COMMANDS[name].run(ctx, cli_commands(cli)[name])
    assert shop_rows(ctx.app, ctx.b.id) == before, f"aftercare {name} changed shop B's rows"
