"""What Shopify is told to send matches what Aftercare can handle."""

from __future__ import annotations

import tomllib
from pathlib import Path

from plugin.auth import WEBHOOK_TOPICS
from plugin.config import DEFAULT_SCOPES
from webhooks.handlers import COMPLIANCE_TOPICS, HANDLERS

TOML = tomllib.loads((Path(__file__).resolve().parents[2] / "shopify.app.toml").read_text())


def subscribed(key: str) -> set[str]:
    return {t for s in TOML["webhooks"]["subscriptions"] for t in s.get(key, [])}


def test_every_subscribed_topic_has_a_handler():
    assert subscribed("topics") | subscribed("compliance_topics") <= set(HANDLERS)


def test_all_three_compliance_topics_are_declared():
    assert subscribed("compliance_topics") == set(COMPLIANCE_TOPICS) == {
        "customers/data_request", "customers/redact", "shop/redact"}


def test_per_shop_subscriptions_match_the_toml():
    assert set(WEBHOOK_TOPICS) == subscribed("topics")


def test_webhooks_go_to_the_one_endpoint_and_the_proxy_to_proxy():
    assert {s["uri"].rsplit("/", 1)[1] for s in TOML["webhooks"]["subscriptions"]} == {"webhooks"}
    assert TOML["app_proxy"]["url"].endswith("/proxy")


def test_requested_scopes_cover_the_defaults():
    assert set(DEFAULT_SCOPES.split(",")) <= set(TOML["access_scopes"]["scopes"].split(","))
