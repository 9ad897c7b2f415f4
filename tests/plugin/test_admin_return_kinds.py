"""The Notifications settings page lists the return messages apart from the
shipping updates, each with its switches, saved like any other setting."""

from __future__ import annotations

import re

from .test_admin_pages import call, link_path


def test_return_kinds_have_their_own_card_and_switches(client, shop):
    call(client, {"notifications.return_declined.email": False})
    html = client.get(link_path(page="/app/settings/notifications")).get_data(as_text=True)
    shipping, returns = html.index(">Shipping updates</h2>"), html.index(">Return updates</h2>")
    assert shipping < html.index("<legend>Delayed</legend>") < returns < html.index("<legend>Return declined</legend>")
    assert "even one who unsubscribed from shipping updates" in html
    for kind in ("return_requested", "return_approved", "return_declined", "return_refunded"):
        assert f'id="f-notifications-{kind.replace("_", "-")}-email"' in html
    assert re.search(r'id="f-notifications-return-approved-email"[^>]*checked', html)
    assert not re.search(r'id="f-notifications-return-declined-email"[^>]*checked', html)
    assert not re.search(r'id="f-notifications-return-approved-sms"[^>]*checked', html)
    french = client.get(link_path(page="/app/settings/notifications") + "&locale=fr").get_data(as_text=True)
    assert "Suivi des retours" in french and "Retour refusé" in french
