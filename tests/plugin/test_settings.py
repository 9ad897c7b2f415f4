"""Per-shop settings: defaults, checks, all-or-nothing updates, shop scoping."""

from __future__ import annotations

import pytest

from plugin import settings, shops
from plugin.db import worker_session
from plugin.models import Setting

from ..conftest import db


def _update(app, shop_id, changes):
    with worker_session(app) as session, session.begin():
        return settings.update(session, shop_id, changes)


def test_a_new_shop_reads_the_documented_defaults(app, shop):
    values = settings.load(db(), shop)
    assert values["notifications.shipped.email"] is True
    assert values["notifications.order_confirmed.email"] is False  # the store sends its own
    assert values["notifications.delivered.sms"] is False
    assert values["notifications.quiet_hours"] is None
    assert values["notifications.delay_grace_hours"] == 24
    assert values["notifications.stalled_days"] == 4
    assert values["survey.delay_hours"] == 48
    assert values["survey.cap_days"] == 7
    assert values["returns.window_days"] == 30
    assert values["returns.window_starts"] == "delivered"
    assert db().query(Setting).count() == 0  # defaults live in code, not rows


def test_changes_are_kept_and_null_goes_back_to_the_default(app, shop):
    after = _update(app, shop, {"notifications.quiet_hours": "21:00 - 08:00", "survey.kinds": ["nps", "csat", "nps"],
                                "branding.color": "#FF0000", "help.support_email": "help@shop.example"})
    assert after["notifications.quiet_hours"] == "21:00-08:00"
    assert after["survey.kinds"] == ["csat", "nps"]
    assert after["branding.color"] == "#ff0000"
    assert settings.get(db(), shop, "help.support_email") == "help@shop.example"

    after = _update(app, shop, {"notifications.quiet_hours": None, "branding.color": None})
    assert after["notifications.quiet_hours"] is None
    assert after["branding.color"] == "#008060"
    assert {row.key for row in db().query(Setting)} == {"survey.kinds", "help.support_email"}


@pytest.mark.parametrize(("key", "value", "message"), [
    ("notifications.shipped.email", "yes", "must be true or false"),
    ("notifications.delay_grace_hours", -1, "from 0 to 720"),
    ("notifications.delay_grace_hours", 2.5, "whole number"),
    ("notifications.delay_grace_hours", True, "whole number"),
    ("notifications.quiet_hours", "25:00-08:00", "time range"),
    ("notifications.quiet_hours", "08:00-08:00", "same time"),
    ("returns.window_starts", "paid", "one of delivered, fulfilled, ordered"),
    ("returns.reasons", [], "at least one"),
    ("returns.reasons", ["BROKEN"], "list of"),
    ("survey.kinds", "csat", "list of"),
    ("branding.color", "red", "colour"),
    ("branding.logo_url", "javascript:alert(1)", "https://"),
    ("help.support_email", "Support <help@shop.example>", "email address"),
    ("alerts.low_score_email", "not-an-address", "email address"),
    ("mail.from", "Shop\r\nBcc: victim@example.com", "one line"),
    ("mail.from", "x" * 101, "at most 100"),
    ("help.answers", [{"question": "Where?", "answer": ""}], "must not be empty"),
    ("help.answers", [{"question": "Where?", "answer": "Here", "states": ["lost"]}], "list of"),
    ("help.answers", [{"question": "Q", "answer": "A", "script": "x"}], "not a field"),
    ("templates.shipped.en", {"subject": "Hi"}, "subject and body"),
    ("templates.teleported.en", {"subject": "Hi", "body": "x"}, "no such notification kind"),
    ("templates.shipped.pt", {"subject": "Hi", "body": "x"}, "no such locale"),
    ("notifications.sent_by_pigeon.email", True, "is not a setting"),
])
def test_a_bad_value_names_its_field_and_nothing_is_saved(app, shop, key, value, message):
    with pytest.raises(settings.Invalid) as raised:
        # The good change in the same update must not be saved either.
        _update(app, shop, {"survey.delay_hours": 12, key: value})
    assert raised.value.field.startswith(key)
    assert message in raised.value.message
    assert db().query(Setting).count() == 0


def test_help_answer_fields_are_named_by_position(app, shop):
    with pytest.raises(settings.Invalid) as raised:
        _update(app, shop, {"help.answers": [{"question": "Q", "answer": "A"}, {"question": "", "answer": "A"}]})
    assert raised.value.field == "help.answers[1].question"


def test_markup_is_kept_as_text_for_the_pages_to_escape(app, shop):
    after = _update(app, shop, {"help.answers": [
        {"question": "<b>Late?</b>", "answer": "<script>alert(1)</script>", "states": ["delayed"], "locale": "fr"},
    ]})
    assert after["help.answers"][0]["answer"] == "<script>alert(1)</script>"


def test_templates_are_stored_per_kind_and_locale(app, shop):
    after = _update(app, shop, {"templates.shipped.fr": {"subject": "Expédié", "body": "Bonjour {{ first_name }}"}})
    assert after["templates.shipped.fr"]["subject"] == "Expédié"
    assert "templates.shipped.en" not in after  # the default template


def test_settings_are_scoped_by_shop(app, shop):
    with worker_session(app) as session, session.begin():
        other = shops.install(session, "other-shop.myshopify.com", shops.static_grant("shpat_other"))
        session.flush()
        other_id = other.id
    _update(app, other_id, {"returns.window_days": 90})
    assert settings.load(db(), shop)["returns.window_days"] == 30
    assert settings.load(db(), other_id)["returns.window_days"] == 90


@pytest.mark.parametrize(("key", "raw", "value"), [
    ("notifications.shipped.sms", "on", True),
    ("notifications.shipped.sms", "false", False),
    ("returns.window_days", "45", 45),
    ("survey.kinds", '["csat","nps"]', ["csat", "nps"]),
    ("mail.from", "Acme Support", "Acme Support"),
    ("help.support_email", "null", None),
])
def test_command_line_values_are_parsed_like_json(key, raw, value):
    assert settings.parse_text(key, raw) == value
