"""The shopper pages behind the links in messages: /t/<token>, /u/<token>."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import delete

from plugin import links, shops
from plugin.db import worker_session
from plugin.models import Notification, Order, Shop
from plugin.notifications import render_email
from plugin.notifications.suppressions import Category, is_suppressed
from tests.conftest import db
from tests.notifications.orders import add_notification, add_order

ADDRESS = "ana@example.com"


def _path(url: str) -> str:
    return url.split("://", 1)[1].split("/", 1)[1].join(["/", ""])


def _track_url(shop_id: int, order_id: int) -> str:
    return _path(links.url("track", shop_id=shop_id, order_id=order_id))


def _assert_locked_down(response):
    csp = response.headers["Content-Security-Policy"]
    assert "script-src" not in csp and "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert b"<script" not in response.data


def test_the_tracking_link_shows_the_orders_parcels(app, client, shop):
    order_id, _ = add_order(app, shop, parcels=2, status="out_for_delivery")
    response = client.get(_track_url(shop, order_id))
    assert response.status_code == 200
    _assert_locked_down(response)
    page = response.get_data(as_text=True)
    assert "Order #1001" in page and "Maison Ana" in page
    assert "Parcel 1 of 2" in page and "Parcel 2 of 2" in page
    for n in (0, 1):
        assert f'href="https://www.ups.com/track?tracknum=1Z999AA1012345678{n}"' in page
    assert page.index("1 × Linen shirt (M)") < page.index("Parcel 2 of 2") < page.index("2 × Canvas tote")
    assert 'aria-current="step">Out for delivery' in page
    assert "Departed facility" in page and "Paris, France" in page
    assert "Nov 3, 2026, 3:00\u202fPM" in page  # 14:00 UTC in Paris, in English
    assert "For Ana" in page and "Shipping to Lyon" in page
    # Only what the shopper needs: no address, email or phone.
    assert ADDRESS not in page and "+3361234" not in page


def test_the_page_speaks_the_orders_language(app, client, shop):
    order_id, _ = add_order(app, shop, locale="fr-CA", status="failure")
    page = client.get(_track_url(shop, order_id)).get_data(as_text=True)
    assert '<html lang="fr">' in page
    assert "Commande #1001" in page and "Échec de la livraison" in page
    assert "Le transporteur n'a pas pu livrer ce colis" in page.replace("&#39;", "'")
    # A failed parcel's old estimate is no promise any more.
    assert "Livraison estimée" not in page


def test_the_page_escapes_what_came_from_shopify(app, client, shop):
    order_id, _ = add_order(app, shop, first_name="<img src=x onerror=alert(1)>")
    page = client.get(_track_url(shop, order_id)).get_data(as_text=True)
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


@pytest.mark.parametrize("mangle", [lambda t: t[:-10] + ("x" if t[-10] != "x" else "y") + t[-9:],
                                    lambda t: t + "A", lambda t: "nonsense"])
def test_a_tampered_link_gets_a_friendly_page(app, client, shop, mangle):
    order_id, _ = add_order(app, shop)
    token = links.dumps("track", shop_id=shop, order_id=order_id)
    response = client.get(f"/t/{mangle(token)}", headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert response.status_code == 404
    _assert_locked_down(response)
    page = response.get_data(as_text=True)
    assert "Dieser Link funktioniert nicht" in page and "Traceback" not in page and "#1001" not in page


def test_an_expired_link_gets_a_friendly_page(app, client, shop, monkeypatch):
    order_id, _ = add_order(app, shop)
    past = time.time() - links.PURPOSES["track"][0].total_seconds() - 3600
    monkeypatch.setattr(time, "time", lambda: past)
    url = _track_url(shop, order_id)
    monkeypatch.undo()
    response = client.get(url)
    assert response.status_code == 410
    assert "This link has expired" in response.get_data(as_text=True)


def test_a_link_of_one_shop_never_shows_another_shops_order(app, client, shop):
    order_id, _ = add_order(app, shop)
    with worker_session(app) as session, session.begin():
        other = shops.install(session, "other-shop.myshopify.com", shops.static_grant("shpat_other", "read_orders"))
        session.flush()
        other_id = other.id
    response = client.get(_track_url(other_id, order_id))  # validly signed, but for the other shop
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "This order is no longer available" in page and "#1001" not in page


def test_an_erased_order_gets_a_friendly_page(app, client, shop):
    order_id, _ = add_order(app, shop)
    url = _track_url(shop, order_id)
    session = db()
    session.execute(delete(Order).where(Order.shop_id == shop))
    session.commit()
    assert client.get(url).status_code == 404


def _unsubscribe_url(shop_id: int, category: str = "shipping") -> str:
    return _path(links.url("unsubscribe", shop_id=shop_id, address=ADDRESS, category=category))


def test_opening_the_unsubscribe_link_changes_nothing(app, client, shop):
    response = client.get(_unsubscribe_url(shop), headers={"Accept-Language": "es"})
    assert response.status_code == 200
    _assert_locked_down(response)
    page = response.get_data(as_text=True)
    assert '<form method="post">' in page and "Darse de baja" in page
    assert not is_suppressed(db(), shop, ADDRESS, Category.SHIPPING)


def test_the_button_unsubscribes_from_that_category_only(app, client, shop):
    response = client.post(_unsubscribe_url(shop), headers={"Accept-Language": "fr"})
    assert response.status_code == 200
    assert "Vous ne recevrez plus d'avis d'expédition de test-shop.myshopify.com." in response.get_data(as_text=True)
    assert is_suppressed(db(), shop, ADDRESS, Category.SHIPPING)
    assert not is_suppressed(db(), shop, ADDRESS, Category.SURVEYS)
    assert client.post(_unsubscribe_url(shop)).status_code == 200  # twice is harmless


def test_one_click_unsubscribe_from_a_mail_client(app, client, shop):
    response = client.post(_unsubscribe_url(shop), data="List-Unsubscribe=One-Click",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert is_suppressed(db(), shop, ADDRESS, Category.SHIPPING)


def test_a_tampered_unsubscribe_link_unsubscribes_nobody(app, client, shop):
    token = _unsubscribe_url(shop).rsplit("/", 1)[1]
    tampered = token[:-10] + ("x" if token[-10] != "x" else "y") + token[-9:]
    response = client.post(f"/u/{tampered}", data="List-Unsubscribe=One-Click")
    assert response.status_code == 404
    assert "This link does not work" in response.get_data(as_text=True)
    assert not is_suppressed(db(), shop, ADDRESS, Category.SHIPPING)
    # A tracking token is no unsubscribe token either.
    assert client.post(_track_url(shop, 1).replace("/t/", "/u/")).status_code == 404


def test_the_link_in_a_message_opens_its_orders_page(app, client, shop):
    order_id, fulfillments = add_order(app, shop, parcels=2)
    notification_id = add_notification(app, shop, order_id, "shipped",
                                       {"fulfillment_id": fulfillments[1], "parcel": 2, "parcels": 2})
    session = db()
    message = render_email(session, session.get(Shop, shop), session.get(Notification, notification_id))
    text = message.get_body(("plain",)).get_content()
    url = next(word for word in text.split() if "/t/" in word)
    page = client.get(_path(url)).get_data(as_text=True)
    assert "Parcel 2 of 2" in page and "1Z999AA10123456781" in page


def test_an_order_not_shipped_yet_says_so(app, client, shop):
    order_id, _ = add_order(app, shop, parcels=0)
    response = client.get(_track_url(shop, order_id))
    assert response.status_code == 200
    assert "Your order is being prepared" in response.get_data(as_text=True)
