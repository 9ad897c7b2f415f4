"""Operator commands: shops, orders, database."""

from __future__ import annotations

import json

from plugin import shops
from plugin.models import Shop

from ..conftest import SHOP, db, load_payload


def test_shops_add_stores_the_token_encrypted_and_lists_the_shop(app, runner):
    result = runner("shops", "add", "New-Shop.myshopify.com", "--token", "shpat_secret_value")
    assert result.exit_code == 0, result.output
    assert "new-shop.myshopify.com installed" in result.output
    shop = db().query(Shop).one()
    assert shop.domain == "new-shop.myshopify.com"
    assert b"shpat_secret_value" not in shop.access_token
    assert shops.access_token(shop) == "shpat_secret_value"
    listed = runner("shops", "list").output
    assert "new-shop.myshopify.com\tinstalled" in listed


def test_shops_add_refuses_a_bad_domain(app, runner):
    result = runner("shops", "add", "x.myshopify.com.evil.com", "--token", "t")
    assert result.exit_code == 2
    assert "is not a shop domain" in result.output
    assert db().query(Shop).count() == 0


def test_shops_add_twice_reinstalls_the_same_shop(app, runner):
    runner("shops", "add", SHOP, "--token", "first")
    runner("shops", "add", SHOP, "--token", "second")
    [shop] = db().query(Shop).all()
    assert shops.access_token(shop) == "second"


def test_orders_show_prints_the_order_as_json(app, shop, webhooks, run_worker, runner):
    webhooks.post("orders/create", load_payload("order_create"))
    webhooks.post("fulfillments/create", load_payload("fulfillment_update_in_transit"))
    run_worker()
    for name in ("#1001", "1001"):
        result = runner("orders", "show", "--shop", SHOP, name)
        assert result.exit_code == 0, result.output
        shown = json.loads(result.output)
        assert shown["name"] == "#1001"
        assert shown["fulfillments"][0]["shipment_status"] == "in_transit"
        assert shown["fulfillments"][0]["events"][0]["status"] == "in_transit"


def test_orders_show_says_what_is_missing(app, shop, runner):
    result = runner("orders", "show", "--shop", SHOP, "#404")
    assert result.exit_code == 1
    assert f"no order #404 in {SHOP}" in result.output
    result = runner("orders", "show", "--shop", "unknown.myshopify.com", "#1")
    assert "no shop unknown.myshopify.com" in result.output


def test_orders_are_scoped_by_shop(app, shop, webhooks, run_worker, runner):
    runner("shops", "add", "other.myshopify.com", "--token", "t")
    webhooks.post("orders/create", load_payload("order_create"))
    run_worker()
    result = runner("orders", "show", "--shop", "other.myshopify.com", "#1001")
    assert result.exit_code == 1
    assert "no order #1001 in other.myshopify.com" in result.output
