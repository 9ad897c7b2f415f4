"""Work that must reach Shopify survives an outage: the webhook subscriptions
an install owes a shop are retried by the worker until Shopify has them,
never dropped. Against the fake Shopify over real HTTP, really stopped."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
import requests
from sqlalchemy import update

from plugin import subscriptions
from plugin.models import Shop, utcnow

from ..conftest import SHOP, db
from ..plugin.test_install import install, shop_row


@pytest.fixture
def browser(live_server):
    with requests.Session() as session:
        session.base = live_server
        yield session


@pytest.fixture
def impatient(app, monkeypatch):
    """Give up on Shopify after half a second instead of a minute."""
    monkeypatch.setitem(app.config, "SHOPIFY_MAX_WAIT", 0.5)


def make_due(app) -> None:
    with app.app_context():
        session = db()
        session.execute(update(Shop).values(subscriptions_due_at=utcnow() - timedelta(seconds=1)))
        session.commit()


def subscribed(fake) -> set[str]:
    return {s["topic"] for s in fake.webhook_subscriptions(SHOP)}


def test_subscriptions_missed_at_install_are_made_by_the_worker_after_the_outage(
        app, fake_shopify, browser, impatient, run_worker, caplog):
    fake_shopify.set_shop_info(SHOP, name="Outage Shop", email="owner@outage.example", id="gid://shopify/Shop/4242")
    fake_shopify.fail_next(1000, status=503, endpoint="graphql")  # the Admin API is down; OAuth works
    response, _ = install(browser, fake_shopify)
    assert response.status_code == 302  # the install itself succeeds
    assert subscribed(fake_shopify) == set()
    shop = shop_row()
    assert shop.installed and shop.subscriptions_due_at is not None  # owed, not forgotten
    assert shop.subscriptions_due_at > utcnow()  # not hammered: retried later

    # Still down, and now not even listening: the worker's try fails and is rescheduled.
    fake_shopify.reset_faults()
    fake_shopify.stop()
    try:
        make_due(app)
        with caplog.at_level(logging.WARNING, logger="plugin.subscriptions"):
            run_worker()
        first_retry = shop_row().subscriptions_due_at
        assert first_retry is not None and first_retry > utcnow()
        assert "still not made" in caplog.text
    finally:
        fake_shopify.start()

    assert subscribed(fake_shopify) == set()
    make_due(app)
    run_worker()
    shop = shop_row()
    assert shop.subscriptions_due_at is None
    assert {"ORDERS_CREATE", "FULFILLMENTS_UPDATE", "APP_UNINSTALLED"} <= subscribed(fake_shopify)
    # What the install could not learn is learnt too: the id bodies are bound to, the owner's email.
    assert (shop.shopify_id, shop.name, shop.email) == (4242, "Outage Shop", "owner@outage.example")
    # Done once: later rounds leave Shopify alone.
    fake_shopify.clear_requests()
    run_worker()
    assert fake_shopify.calls("graphql.json") == []


def test_backoff_grows_while_shopify_stays_down(app, fake_shopify, browser, impatient, run_worker):
    fake_shopify.fail_next(1000, status=500, endpoint="graphql")
    install(browser, fake_shopify)
    waits = []
    for _ in range(3):
        make_due(app)
        # The shop was installed a while ago: the longer it has waited, the longer the next wait.
        with app.app_context():
            session = db()
            session.execute(update(Shop).values(installed_at=utcnow() - timedelta(minutes=6 * (len(waits) + 1) ** 2)))
            session.commit()
        run_worker()
        waits.append(shop_row().subscriptions_due_at - utcnow())
    assert waits[0] < waits[-1]
    assert subscribed(fake_shopify) == set()


def test_an_uninstalled_shop_is_owed_nothing(app, fake_shopify, browser, impatient, run_worker):
    fake_shopify.fail_next(1000, status=503, endpoint="graphql")
    install(browser, fake_shopify)
    with app.app_context():
        session = db()
        session.execute(update(Shop).values(uninstalled_at=utcnow(), access_token=None, refresh_token=None))
        session.commit()
    fake_shopify.reset_faults()
    make_due(app)
    run_worker()
    assert shop_row().subscriptions_due_at is None
    assert subscribed(fake_shopify) == set()


def test_a_successful_install_owes_nothing(app, fake_shopify, browser):
    install(browser, fake_shopify)
    assert shop_row().subscriptions_due_at is None
    assert set(subscriptions.WEBHOOK_TOPICS) and subscribed(fake_shopify)
