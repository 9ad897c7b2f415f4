"""Signed links: one purpose each, a lifetime each, key rotation."""

from __future__ import annotations

import time

import pytest

from plugin import links


def test_a_link_carries_its_shop_and_object(app):
    url = links.url("track", shop_id=3, order_id=42)
    assert url.startswith(app.config["APP_URL"] + "/t/")
    assert links.load("track", url.rsplit("/", 1)[1]) == {"shop_id": 3, "order_id": 42}


def test_a_token_for_one_purpose_is_refused_for_another(app):
    token = links.dumps("track", shop_id=3, order_id=42)
    with pytest.raises(links.BadLink) as refused:
        links.load("unsubscribe", token)
    assert refused.value.reason == "invalid"


@pytest.mark.parametrize("change", [
    # the signature (not its last character, whose low bits base64 ignores)
    lambda t: t[:-10] + ("A" if t[-10] != "A" else "B") + t[-9:],
    lambda t: "eyJzaG9wX2lkIjo0LCJvcmRlcl9pZCI6NDJ9" + t[t.index("."):],  # payload: another shop
    lambda t: "",
    lambda t: "not-a-token",
])
def test_a_tampered_token_is_invalid(app, change):
    token = links.dumps("track", shop_id=3, order_id=42)
    with pytest.raises(links.BadLink) as refused:
        links.load("track", change(token))
    assert refused.value.reason == "invalid"


def test_a_token_expires_after_its_purposes_lifetime(app, monkeypatch):
    lifetime = links.PURPOSES["track"][0].total_seconds()
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now - lifetime - 60)
    old = links.dumps("track", shop_id=3, order_id=42)
    monkeypatch.setattr(time, "time", lambda: now - lifetime + 60)
    recent = links.dumps("track", shop_id=3, order_id=42)
    monkeypatch.setattr(time, "time", lambda: now)
    with pytest.raises(links.BadLink) as refused:
        links.load("track", old)
    assert refused.value.reason == "expired"
    assert links.load("track", recent)["order_id"] == 42


def test_links_signed_with_the_previous_key_work_during_a_rotation(app, monkeypatch):
    token = links.dumps("unsubscribe", shop_id=1, address="a@example.com", category="shipping")
    monkeypatch.setitem(app.config, "SECRET_KEY_PREVIOUS", app.config["SECRET_KEY"])
    monkeypatch.setitem(app.config, "SECRET_KEY", "a-brand-new-key-after-rotation")
    assert links.load("unsubscribe", token)["address"] == "a@example.com"
    monkeypatch.setitem(app.config, "SECRET_KEY_PREVIOUS", None)  # rotation finished
    with pytest.raises(links.BadLink):
        links.load("unsubscribe", token)


def test_a_link_must_name_exactly_its_fields(app):
    with pytest.raises(ValueError):
        links.dumps("track", shop_id=1)
    with pytest.raises(ValueError):
        links.dumps("teleport", shop_id=1, order_id=2)
