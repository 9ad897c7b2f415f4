"""Unsubscribes are per shop and category, and the address is never stored."""

from __future__ import annotations

from plugin import shops
from plugin.db import worker_session
from plugin.notifications.suppressions import Category, is_suppressed, suppress

from ..conftest import database_dump, db


def test_an_unsubscribe_holds_for_its_shop_and_category_only(app, shop):
    with worker_session(app) as session, session.begin():
        other = shops.install(session, "other-shop.myshopify.com", shops.static_grant("shpat_other")).id
        session.flush()
        suppress(session, shop, "Ana.Lopez@Example.com ", Category.SURVEYS)
        suppress(session, shop, "ana.lopez@example.com", Category.SURVEYS)  # twice is harmless

    assert is_suppressed(db(), shop, "ana.lopez@example.com", Category.SURVEYS)
    assert not is_suppressed(db(), shop, "ana.lopez@example.com", Category.SHIPPING)
    assert not is_suppressed(db(), other, "ana.lopez@example.com", Category.SURVEYS)
    assert "ana.lopez" not in database_dump(app).lower()


def test_an_unsubscribe_survives_a_secret_key_rotation(app, shop, monkeypatch):
    with worker_session(app) as session, session.begin():
        suppress(session, shop, "ana@example.com", Category.SHIPPING)
    old_key = app.config["SECRET_KEY"]
    monkeypatch.setitem(app.config, "SECRET_KEY", "a-brand-new-key-after-rotation-0123456789")
    monkeypatch.setitem(app.config, "SECRET_KEY_PREVIOUS", old_key)
    assert is_suppressed(db(), shop, "ana@example.com", Category.SHIPPING)
    monkeypatch.setitem(app.config, "SECRET_KEY_PREVIOUS", None)
    assert not is_suppressed(db(), shop, "ana@example.com", Category.SHIPPING)
