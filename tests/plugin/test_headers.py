"""Security headers: every answer is nosniff with a referrer policy; every HTML
answer has a Content-Security-Policy whose frame-ancestors fit its surface."""

from __future__ import annotations

import re

import pytest

from ..conftest import SHOP
from .test_admin_pages import link_path


def script_policy(policy: dict[str, str]) -> str:
    """What governs scripts: script-src, or default-src when there is none."""
    return policy.get("script-src") or policy["default-src"].replace("default-src", "script-src", 1)


def directives(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {d.strip().split(" ", 1)[0]: d.strip() for d in policy.split(";") if d.strip()}


@pytest.mark.parametrize("path", [
    "/auth/install?shop=" + SHOP,       # a refusal page (no signature)
    "/t/some-token", "/u/some-token", "/s/some-token",  # email pages
    "/no/such/page",
])
def test_pages_outside_shopify_may_be_framed_by_nobody(client, path):
    response = client.get(path)
    assert response.mimetype == "text/html"
    policy = directives(response)
    assert policy["frame-ancestors"] == "frame-ancestors 'none'"
    # No inline script at all (the email pages allow no script whatsoever).
    assert script_policy(policy) in ("script-src 'self'", "script-src 'none'")
    assert policy.get("object-src", "object-src 'none'") == "object-src 'none'" or "default-src 'none'" in policy.values()
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    # The email pages' links carry signed tokens: they send no referrer at all.
    assert response.headers["Referrer-Policy"] in ("strict-origin-when-cross-origin", "no-referrer")


# The app proxy's pages are application/liquid, rendered by Shopify inside the
# theme: their headers never reach the browser, so only /widgets is checked.
@pytest.mark.parametrize("path", ["/widgets/page?shop=" + SHOP])
def test_storefront_surfaces_may_be_framed_by_the_shop_only(client, path):
    response = client.get(path)
    assert directives(response)["frame-ancestors"] == f"frame-ancestors 'self' https://{SHOP}"


def test_a_shop_that_is_not_a_myshopify_domain_frames_for_nobody(client):
    response = client.get("/widgets/page?shop=evil.example.com")
    assert directives(response)["frame-ancestors"] == "frame-ancestors 'none'"
    response = client.get("/app/nothing?shop=evil.example.com")
    assert directives(response)["frame-ancestors"] == "frame-ancestors https://admin.shopify.com"


def test_admin_surface_is_framed_by_the_shop_and_the_shopify_admin(client):
    response = client.get(f"/app/nothing?shop={SHOP}")
    assert directives(response)["frame-ancestors"] == f"frame-ancestors https://{SHOP} https://admin.shopify.com"


def test_admin_pages_keep_their_own_stricter_policy(client, shop):
    response = client.get(link_path())
    assert response.status_code == 200
    policy = directives(response)
    assert re.fullmatch(r"script-src 'nonce-[^']+' 'strict-dynamic' https://cdn.shopify.com", policy["script-src"])
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_json_answers_are_nosniff_without_a_page_policy(client, webhooks):
    for response in (client.get("/healthz"), webhooks.post("orders/create", b"{}", secret="wrong")):
        assert response.headers["Content-Type"].startswith("application/json")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "Content-Security-Policy" not in response.headers


def test_a_template_nonce_is_allowed_by_the_policy(app):
    from flask import render_template_string

    with app.test_request_context("/s/x"):
        html = render_template_string('<script nonce="{{ csp_nonce() }}">1</script>')
        response = app.make_response(html)
        response = app.process_response(response)
        nonce = re.search(r'nonce="([^"]+)"', html).group(1)
        assert f"'nonce-{nonce}'" in response.headers["Content-Security-Policy"]
