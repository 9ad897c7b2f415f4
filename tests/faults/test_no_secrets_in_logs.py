"""Secrets and personal data never reach a log line: every logger captured at
DEBUG (werkzeug's request log, and SQLAlchemy's statement log at INFO, included)
through a whole life: install by OAuth against the fake Shopify, an embedded
launch with a session token, webhooks, worker processing, a token refresh
and a revoked token refreshed on 401, and a data export mailed to the SMTP sink."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
import requests

from plugin import crypto, shops
from plugin.models import utcnow

from ..conftest import PREVIOUS_SECRET, SECRET, SHOP, db, load_payload, signed_query
from ..plugin.test_install import HOST, install, shop_row

CUSTOMER = ["jon@example.com", "+15551234567", "555-555-SHIP", "555-555-BILL", "123 Shipping Street"]
OWNER = "owner@secret-test-shop.example"
LOGGERS = ["", "werkzeug", "gunicorn.error", "gunicorn.access", "plugin", "webhooks"]
# SQLAlchemy's statement log (INFO) is captured too; its DEBUG level prints result
# rows by design (echo="debug"), which no deployment of the app turns on.


@pytest.fixture
def browser(live_server):
    with requests.Session() as session:
        session.base = live_server
        yield session


@pytest.fixture
def everything_logged(caplog):
    with caplog.at_level(logging.DEBUG):
        for name in LOGGERS:
            logging.getLogger(name).setLevel(logging.DEBUG)
        logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)
        try:
            yield caplog
        finally:
            for name in [*LOGGERS[1:], "sqlalchemy.engine"]:
                logging.getLogger(name).setLevel(logging.NOTSET)


def test_no_secret_token_or_customer_detail_is_ever_logged(app, fake_shopify, browser, webhooks, run_worker, smtp,
                                                           everything_logged):
    caplog = everything_logged
    secrets = {"client secret": SECRET, "previous client secret": PREVIOUS_SECRET,
               "app secret key": app.config["SECRET_KEY"]}

    fake_shopify.set_shop_info(SHOP, name="Secret Test Shop", email=OWNER, id="gid://shopify/Shop/548380009")
    response, query = install(browser, fake_shopify)
    assert response.status_code == 302
    secrets["authorization code"] = query["code"]
    secrets["oauth state"] = query["state"]
    shop = shop_row()
    secrets["first access token"] = shops.access_token(shop)
    secrets["first refresh token"] = crypto.decrypt(app.config["SECRET_KEY"], shop.refresh_token)

    id_token = fake_shopify.session_token(SHOP)
    secrets["session token"] = id_token
    launch = browser.get(f"{browser.base}/app", params={"shop": SHOP, "host": HOST, "embedded": "1",
                                                        "id_token": id_token})
    assert launch.status_code == 200
    signed = signed_query(shop=SHOP, host=HOST, embedded="1")
    secrets["launch hmac"] = signed["hmac"]
    assert browser.get(f"{browser.base}/app", params=signed).status_code == 200

    webhooks.post("orders/create", load_payload("order_create"))
    webhooks.post("fulfillments/create", load_payload("fulfillment_create"))
    event = load_payload("fulfillment_event_create")
    event["shop_id"] = 548380009  # this shop's Shopify id, as the install learned it
    webhooks.post("fulfillment_events/create", event)
    webhooks.post("customers/data_request", {
        "shop_id": 548380009, "shop_domain": SHOP, "orders_requested": [820982911946154508],
        "customer": {"id": 115310627314723954, "email": CUSTOMER[0], "phone": CUSTOMER[1]},
        "data_request": {"id": 9999}})
    run_worker()
    # The export went out by mail to the owner, the shipping update to the customer.
    assert sorted(m["To"] for m in smtp.messages) == sorted([OWNER, CUSTOMER[0]]), [m["To"] for m in smtp.messages]

    session = db()
    shop = shop_row()
    shop.access_token_expires_at = utcnow() + timedelta(minutes=1)  # due for a refresh
    session.commit()
    shops.call_admin_api(session, shop, lambda client: client.graphql("query { shop { name } }"))
    shop = shop_row()
    secrets["refreshed access token"] = shops.access_token(shop)
    fake_shopify.revoke_token(secrets["refreshed access token"])  # refreshed again, on a 401
    shops.call_admin_api(session, shop, lambda client: client.graphql("query { shop { name } }"))
    shop = shop_row()
    secrets["last access token"] = shops.access_token(shop)
    secrets["last refresh token"] = crypto.decrypt(app.config["SECRET_KEY"], shop.refresh_token)
    assert len({secrets["first access token"], secrets["refreshed access token"], secrets["last access token"]}) == 3

    for n, email in enumerate(CUSTOMER):
        secrets[f"customer detail {n}"] = email
    secrets["store owner email"] = OWNER

    # Not the app's: the test's own HTTP client calling the app (urllib3 lines
    # naming the app's port) and the SMTP sink receiving mail (aiosmtpd's mail.log).
    app_port = f":{browser.base.rsplit(':', 1)[1]}"

    def the_apps(record: logging.LogRecord) -> bool:
        if record.name == "mail.log":
            return False
        return not (record.name.startswith("urllib3") and app_port in record.getMessage())

    records = [r for r in caplog.records if the_apps(r)]
    logged = "\n".join(
        f"{r.getMessage()} {r.args!r} {r.exc_text or ''} {r.stack_info or ''}" for r in records)
    assert len(records) > 50, "the flow must actually have logged"
    assert "POST /webhooks" in logged and "/auth/callback" in logged  # request lines were captured
    leaked = sorted(name for name, value in secrets.items() if value and value in logged)
    assert leaked == [], [line for line in logged.splitlines() if any(v in line for v in secrets.values())][:5]
