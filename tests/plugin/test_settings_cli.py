"""`aftercare settings get/set`: the admin page's settings from a terminal,
with the same checks; a bad value names its field and saves nothing."""

from __future__ import annotations

import json

import pytest

from plugin import settings

from ..conftest import SHOP, db


def test_get_lists_every_setting_as_json_values(shop, runner):
    result = runner("settings", "get", "--shop", SHOP)
    assert result.exit_code == 0, result.output
    lines = dict(line.split("=", 1) for line in result.output.splitlines())
    assert {k: json.loads(v) for k, v in lines.items()} == settings.DEFAULTS


def test_get_one_key(shop, runner):
    runner("settings", "set", "--shop", SHOP, "survey.kinds=[\"nps\"]")
    result = runner("settings", "get", "--shop", SHOP, "survey.kinds")
    assert (result.exit_code, result.output) == (0, '["nps"]\n')


def test_get_an_unknown_key_names_it(shop, runner):
    result = runner("settings", "get", "--shop", SHOP, "no.such.key")
    assert result.exit_code == 1
    assert "no.such.key: is not a setting" in result.output


def test_set_parses_each_value_and_saves_them_together(shop, runner):
    result = runner("settings", "set", "--shop", SHOP, "notifications.shipped.sms=on",
                    "notifications.delay_grace_hours=36", "notifications.quiet_hours=21:00-08:00",
                    "mail.from=Ada's <b>Shop</b>", "returns.reasons=[\"DEFECTIVE\", \"OTHER\"]")
    assert result.exit_code == 0, result.output
    stored = settings.load(db(), shop)
    assert stored["notifications.shipped.sms"] is True
    assert stored["notifications.delay_grace_hours"] == 36
    assert stored["notifications.quiet_hours"] == "21:00-08:00"
    assert stored["mail.from"] == "Ada's <b>Shop</b>"
    assert stored["returns.reasons"] == ["DEFECTIVE", "OTHER"]
    assert "notifications.delay_grace_hours=36" in result.output


def test_null_goes_back_to_the_default(shop, runner):
    runner("settings", "set", "--shop", SHOP, "returns.window_days=60")
    runner("settings", "set", "--shop", SHOP, "returns.window_days=null")
    assert settings.get(db(), shop, "returns.window_days") == 30


@pytest.mark.parametrize("assignment, field", [
    ("notifications.delay_grace_hours=9999", "notifications.delay_grace_hours"),
    ("notifications.shipped.email=maybe", "notifications.shipped.email"),
    ("branding.color=green", "branding.color"),
    ("no.such.key=1", "no.such.key"),
])
def test_a_bad_value_exits_non_zero_naming_the_field_and_saves_nothing(shop, runner, assignment, field):
    result = runner("settings", "set", "--shop", SHOP, "returns.window_days=45", assignment)
    assert result.exit_code == 1
    assert f"{field}: " in result.output and "nothing saved" in result.output
    assert settings.load(db(), shop) == settings.DEFAULTS


def test_an_assignment_without_equals_is_a_usage_error(shop, runner):
    result = runner("settings", "set", "--shop", SHOP, "returns.window_days")
    assert result.exit_code == 2
    assert "is not KEY=VALUE" in result.output


def test_an_unknown_shop_is_named(app, runner):
    result = runner("settings", "get", "--shop", "nobody.myshopify.com")
    assert result.exit_code == 1
    assert "no shop nobody.myshopify.com" in result.output
