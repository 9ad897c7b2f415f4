"""/widgets/…: the embeddable script and style sheet, the API they call from
a page that embeds them, and the theme app extension."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest

from tests.conftest import SHOP, database_dump
from tests.notifications.orders import add_order

from .conftest import OTHER_SHOP, proxy_query

WIDGETS = Path(__file__).resolve().parents[2] / "widgets"
SHOP_ORIGIN = f"https://{SHOP}"
BODY = {"order": "#1001", "email": "ana@example.com"}


def test_script_and_style_fit_in_15_kb_gzipped():
    size = sum(len(gzip.compress((WIDGETS / "static" / name).read_bytes(), 9))
               for name in ("aftercare.js", "aftercare.css"))
    assert size <= 15 * 1024, f"{size} bytes gzipped"


def test_the_script_is_one_guarded_element_that_renders_text_only():
    source = (WIDGETS / "static" / "aftercare.js").read_text()
    assert re.search(r"class AftercareWidget extends HTMLElement", source)
    assert "if (!customElements.get('aftercare-widget'))" in source
    assert "innerHTML" not in source and "insertAdjacentHTML" not in source and "eval(" not in source
    assert "disconnectedCallback" in source and "signal: this.abort.signal" in source
    assert "bubbles: true, composed: true" in source
    # Every string in each of the four locales.
    catalogs = dict(re.findall(r"\n    (en|fr|de|es): \{(.*)\},?(?=\n)", source))
    keys = {locale: set(re.findall(r"(\w+): '", body)) for locale, body in catalogs.items()}
    assert set(keys) == {"en", "fr", "de", "es"} and len(keys["en"]) > 30
    assert all(k == keys["en"] for k in keys.values())


def test_assets_are_served_with_a_content_hash_and_long_caching(client, shop):
    page = client.get("/proxy/?" + proxy_query())
    urls = re.findall(r'(?:href|src)="http://127\.0\.0\.1:8000(/widgets/aftercare\.(?:js|css)\?v=[0-9a-f]{16})"',
                      page.get_data(as_text=True))
    assert len(urls) == 2
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        etag = response.headers["ETag"]
        assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    js = client.get("/widgets/aftercare.js")  # the merchant's unversioned tag: revalidated soon
    assert js.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert js.headers["Cache-Control"] == "public, max-age=300" and js.data.startswith(b"/* <aftercare-widget>")
    assert client.get("/widgets/aftercare.css").headers["Content-Type"] == "text/css; charset=utf-8"
    assert client.get("/widgets/other.js").status_code == 404
    assert client.get("/widgets/..%2Fproxy.py").status_code == 404


def test_the_shops_own_origin_may_look_up_and_read(app, client, shop):
    add_order(app, shop)
    preflight = client.options(f"/widgets/api/lookup?shop={SHOP}", headers={
        "Origin": SHOP_ORIGIN, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == SHOP_ORIGIN
    assert "Content-Type" in preflight.headers["Access-Control-Allow-Headers"]
    response = client.post(f"/widgets/api/lookup?shop={SHOP}", json=BODY, headers={"Origin": SHOP_ORIGIN})
    assert response.status_code == 200 and response.headers["Access-Control-Allow-Origin"] == SHOP_ORIGIN
    assert "Origin" in response.headers["Vary"] and "Access-Control-Allow-Credentials" not in response.headers
    token = response.get_json()["token"]
    again = client.get(f"/widgets/api/orders/{token}?shop={SHOP}", headers={"Origin": SHOP_ORIGIN})
    assert again.status_code == 200 and again.get_json()["order"]["order_name"] == "#1001"


@pytest.mark.parametrize("origin", ["https://evil.example", f"https://{OTHER_SHOP}", "null",
                                    f"http://{SHOP}", f"https://{SHOP}.evil.example"])
def test_a_foreign_origin_gets_no_cors_and_cannot_write(app, client, shop, other_shop, origin):
    add_order(app, shop)
    before = database_dump(app)
    preflight = client.options(f"/widgets/api/lookup?shop={SHOP}", headers={
        "Origin": origin, "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 403 and "Access-Control-Allow-Origin" not in preflight.headers
    for path in ("lookup", "contact"):
        response = client.post(f"/widgets/api/{path}?shop={SHOP}", json={**BODY, "message": "hi"},
                               headers={"Origin": origin})
        assert response.status_code == 403 and response.get_json() == {"error": "forbidden_origin"}
        assert "Access-Control-Allow-Origin" not in response.headers
    assert database_dump(app) == before


def test_the_api_needs_a_known_shop(client, shop):
    assert client.post("/widgets/api/lookup", json=BODY).status_code == 404
    assert client.post("/widgets/api/lookup?shop=nobody.myshopify.com", json=BODY).status_code == 404
    assert client.post("/widgets/api/lookup?shop=evil.example/x", json=BODY).status_code == 404


def test_embedded_lookups_are_rate_limited_per_client_and_shop(app, client, shop, other_shop):
    add_order(app, other_shop, shopify_id=555, name="#2002")
    statuses = [client.post(f"/widgets/api/lookup?shop={SHOP}", json={"order": str(n), "email": "x@example.com"}).status_code
                for n in range(100)]
    assert statuses.count(404) == 10 and statuses.count(429) == 90
    last = client.post(f"/widgets/api/lookup?shop={SHOP}", json=BODY, headers={"Origin": SHOP_ORIGIN})
    assert last.status_code == 429 and int(last.headers["Retry-After"]) > 0
    assert last.headers["Access-Control-Allow-Origin"] == SHOP_ORIGIN  # the widget can read the wait
    other = client.post(f"/widgets/api/lookup?shop={OTHER_SHOP}", json={"order": "2002", "email": "ana@example.com"})
    assert other.status_code == 200


@pytest.mark.parametrize("block", ["tracking", "returns"])
def test_the_theme_extension_blocks_have_a_valid_schema(block):
    extension = WIDGETS / "theme-extension"
    toml = (extension / "shopify.extension.toml").read_text()
    assert 'type = "theme"' in toml and "handle = " in toml
    liquid = (extension / "blocks" / f"{block}.liquid").read_text()
    schema = json.loads(re.search(r"\{% schema %\}(.*)\{% endschema %\}", liquid, re.S).group(1))
    assert schema["name"] and schema["target"] == "section"
    for asset in (schema["javascript"], schema["stylesheet"]):
        assert (extension / "assets" / asset).read_bytes() == (WIDGETS / "static" / asset).read_bytes(), \
            f"assets/{asset} is out of date: copy widgets/static/{asset}"
    ids = [s["id"] for s in schema["settings"]]
    assert len(ids) == len(set(ids)) and "proxy_path" in ids
    for setting in schema["settings"]:
        assert {"type", "id", "label"} <= set(setting)
    assert "<aftercare-widget" in liquid and "{{ block.shopify_attributes }}" in liquid
    for locale in ("en.default", "fr", "de", "es"):
        assert json.loads((extension / "locales" / f"{locale}.json").read_text())["blocks"][block]["open"]


def test_the_demo_prints_a_storefront_page_that_embeds_the_widget(tmp_path):
    from plugin import create_app, demo
    from plugin.demo.console import print_urls
    from tests.conftest import environ

    lines = []
    print_urls("http://127.0.0.1:8123", lines.append)
    assert "  Storefront widget:   http://127.0.0.1:8123/demo/storefront" in lines
    app = create_app({"TESTING": True, "DEMO": True}, environ=environ(f"sqlite:///{tmp_path / 'd.db'}"),
                     instance_path=str(tmp_path))
    page = app.test_client().get("/demo/storefront").get_data(as_text=True)
    assert f'<script src="/widgets/aftercare.js" data-shop="{demo.DEMO_SHOP}" defer></script>' in page
    assert "<aftercare-widget></aftercare-widget>" in page and "maya.thompson@example.com" in page
    assert "for a return of one of its items" in page


def test_the_rate_limit_storage_comes_from_the_environment(tmp_path):
    from plugin import create_app
    from plugin.config import ConfigError
    from tests.conftest import environ

    env = environ(f"sqlite:///{tmp_path / 'c.db'}")
    app = create_app(environ=env, instance_path=str(tmp_path))
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"
    with pytest.raises(ConfigError, match="^AFTERCARE_RATELIMIT_STORAGE_URL: must be a storage URL"):
        create_app(environ={**env, "AFTERCARE_RATELIMIT_STORAGE_URL": "localhost:6379"}, instance_path=str(tmp_path))


# --- the shop's primary (custom) domain -------------------------------------------

STORE_ORIGIN = "https://www.ana-store.example"


def learn_primary_domain(app, fake_shopify, domain: str, url) -> None:
    """What install and the subscription retry do: ask Shopify about the shop."""
    from plugin import subscriptions
    from plugin.db import worker_session
    from plugin.shops import by_domain, call_admin_api

    fake_shopify.issue_token(domain, token="shpat_test_token" if domain == SHOP else "shpat_other")
    fake_shopify.set_shop_info(domain, primaryDomain={"url": url, "host": "whatever"})
    with worker_session(app) as session, session.begin():
        shop = by_domain(session, domain)
        call_admin_api(session, shop, lambda client: subscriptions.subscribe_and_describe(client, shop))


def lookup_from(client, origin: str, shop: str = SHOP):
    return client.post(f"/widgets/api/lookup?shop={shop}", json=BODY, headers={"Origin": origin})


def test_the_shops_primary_domain_learnt_from_shopify_may_look_up(app, client, shop, fake_shopify):
    add_order(app, shop)
    assert lookup_from(client, STORE_ORIGIN).status_code == 403  # not known yet
    learn_primary_domain(app, fake_shopify, SHOP, "https://WWW.Ana-Store.example/")
    preflight = client.options(f"/widgets/api/lookup?shop={SHOP}", headers={
        "Origin": STORE_ORIGIN, "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 204 and preflight.headers["Access-Control-Allow-Origin"] == STORE_ORIGIN
    response = lookup_from(client, STORE_ORIGIN)
    assert response.status_code == 200 and response.headers["Access-Control-Allow-Origin"] == STORE_ORIGIN
    assert lookup_from(client, SHOP_ORIGIN).status_code == 200  # the myshopify domain still works
    for near in ("http://www.ana-store.example", "https://ana-store.example", "https://www.ana-store.example:8443",
                 "https://www.ana-store.example.evil.example"):
        refused = lookup_from(client, near)
        assert refused.status_code == 403 and "Access-Control-Allow-Origin" not in refused.headers, near


def test_another_shops_primary_domain_is_never_admitted(app, client, shop, other_shop, fake_shopify):
    add_order(app, shop)
    learn_primary_domain(app, fake_shopify, OTHER_SHOP, STORE_ORIGIN)
    before = database_dump(app)
    refused = lookup_from(client, STORE_ORIGIN)  # the other shop's storefront asking about this shop
    assert refused.status_code == 403 and "Access-Control-Allow-Origin" not in refused.headers
    assert database_dump(app) == before
    own = lookup_from(client, STORE_ORIGIN, shop=OTHER_SHOP)  # its own shop: admitted (no such order there)
    assert own.status_code == 404 and own.headers["Access-Control-Allow-Origin"] == STORE_ORIGIN


def test_a_changed_primary_domain_replaces_the_old_one_on_refresh(app, client, shop, fake_shopify):
    add_order(app, shop)
    learn_primary_domain(app, fake_shopify, SHOP, STORE_ORIGIN)
    learn_primary_domain(app, fake_shopify, SHOP, "https://shop.ana.example")
    assert lookup_from(client, "https://shop.ana.example").status_code == 200
    assert lookup_from(client, STORE_ORIGIN).status_code == 403
    learn_primary_domain(app, fake_shopify, SHOP, "javascript:alert(1)")  # nonsense is never admitted
    assert lookup_from(client, "https://shop.ana.example").status_code == 403
    assert lookup_from(client, "null").status_code == 403


@pytest.mark.parametrize("url, origin", [
    ("https://www.ana-store.example", "https://www.ana-store.example"),
    ("https://WWW.Ana-Store.EXAMPLE/collections/all?x=1", "https://www.ana-store.example"),
    ("https://ana.example:443/", "https://ana.example"),
    ("https://ana.example:8443", "https://ana.example:8443"),
    ("https://xn--bcher-kva.example", "https://xn--bcher-kva.example"),
    ("http://ana.example", None), ("https://user:pw@ana.example", None), ("https://ana.example:99999", None),
    ("https://", None), ("https://localhost", None), ("https://ana_store.example", None), ("javascript:alert(1)", None),
    ("https://a.example\r\nX: y", None), ("", None), (None, None), (42, None), ("https://" + "a" * 250 + ".example", None),
])
def test_storefront_origin_accepts_only_plain_https_hosts(url, origin):
    from plugin.shops import storefront_origin
    assert storefront_origin(url) == origin
