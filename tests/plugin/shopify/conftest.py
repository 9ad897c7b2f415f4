"""Fixtures for plugin.shopify's tests: the fake Shopify over real HTTP, a shop and a
token of their own for each test, and AdminClients that record their sleeps."""

from __future__ import annotations

import uuid

import pytest

from plugin.shopify.client import AdminClient

VERSION = "2026-07"


@pytest.fixture
def fake(fake_shopify):
    yield fake_shopify
    assert fake_shopify.server_errors == []


@pytest.fixture
def shop() -> str:
    """A shop of its own for each test, so state never leaks between tests."""
    return f"shop-{uuid.uuid4().hex[:10]}.myshopify.com"


@pytest.fixture
def token(fake, shop) -> str:
    return fake.issue_token(shop, "read_orders,write_orders")


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_client(fake, shop, token, sleeps):
    clients = []

    def make(**kwargs) -> AdminClient:
        options = {"base_url_template": fake.base_url, "api_version": VERSION, "timeout": 2.0, "max_wait": 10.0,
                   "sleep": sleeps.append}
        options.update(kwargs)
        client = AdminClient(options.pop("shop", shop), options.pop("token", token), **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client) -> AdminClient:
    return make_client()
