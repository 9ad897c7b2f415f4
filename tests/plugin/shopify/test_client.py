"""plugin.shopify.client against the fake Shopify over real HTTP: the GraphQL client
(throttling, retries, timeouts, errors, secrecy, pagination)."""

from __future__ import annotations

import logging
import time

import pytest

from plugin.shopify import webhook_subscriptions
from plugin.shopify.client import AdminClient, ShopifyAPIError, ShopifyAuthError
from ...fake_shopify import closed_port_base_url, make_order_node, order_gid
from .conftest import VERSION

ORDERS_QUERY = """
query Orders($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query) {
    nodes { id name updatedAt lineItems(first: 50) { nodes { id quantity } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


# ============================================================================ GraphQL: basics


def test_query_sends_pinned_version_token_and_json(fake, shop, token, client):
    data = client.graphql("query { shop { name email myshopifyDomain } }")

    assert data["shop"]["myshopifyDomain"] == shop
    [call] = fake.calls(endpoint="graphql")
    assert call.path == f"/shops/{shop}/admin/api/{VERSION}/graphql.json"
    assert call.api_version == VERSION
    assert call.headers["X-Shopify-Access-Token"] == token
    assert call.headers["Content-Type"] == "application/json"
    assert call.json == {"query": "query { shop { name email myshopifyDomain } }", "variables": {}}
    assert call.operations == ["shop"]
    assert client.last_cost["throttleStatus"]["restoreRate"] > 0


def test_variables_are_sent_and_connection_is_kept_alive(fake, shop, client):
    fake.seed_orders(shop, [make_order_node(n) for n in range(1, 4)])
    first = client.graphql(ORDERS_QUERY, {"first": 2})
    client.graphql(ORDERS_QUERY, {"first": 2, "after": first["orders"]["pageInfo"]["endCursor"]})

    calls = fake.calls(operation="orders")
    assert [c.variables["first"] for c in calls] == [2, 2]
    assert calls[1].variables["after"] == first["orders"]["pageInfo"]["endCursor"]
    assert calls[0].client_port == calls[1].client_port  # one TCP connection, reused


def test_graphql_errors_raise_with_the_messages(fake, client):
    with pytest.raises(ShopifyAPIError, match="Field 'nope' doesn't exist on type 'QueryRoot'") as exc:
        client.graphql("query { nope { id } }")
    assert exc.value.status == 200
    assert exc.value.errors[0]["extensions"]["code"] == "undefinedField"
    assert len(fake.calls(endpoint="graphql")) == 1


def test_user_errors_are_returned_as_data(fake, shop, client):
    fake.add_webhook_subscription(shop, "ORDERS_CREATE", "https://app.example/webhooks")
    data = client.graphql(webhook_subscriptions._CREATE_SUBSCRIPTION, {
        "topic": "ORDERS_CREATE",
        "webhookSubscription": {"callbackUrl": "https://app.example/webhooks", "format": "JSON"}})

    result = data["webhookSubscriptionCreate"]
    assert result["webhookSubscription"] is None
    assert result["userErrors"][0]["message"] == "Address for this topic has already been taken"


# ============================================================================ GraphQL: throttling and retries


def test_throttled_is_waited_out_from_the_bucket_numbers(fake, shop, client, sleeps):
    fake.seed_orders(shop, [make_order_node(1)])
    fake.throttle_next(2, currently_available=10)

    data = client.graphql(ORDERS_QUERY, {"first": 50})

    assert [o["name"] for o in data["orders"]["nodes"]] == ["#1001"]
    # the fake prices orders(first: 50) at 2 + 50*3 = 152; (152 - 10) / restoreRate 100 = 1.42 s
    assert sleeps == [pytest.approx(1.42), pytest.approx(1.42)]
    assert [c.fault for c in fake.calls(endpoint="graphql")] == ["throttled", "throttled", None]


def test_throttled_waits_at_least_the_floor(fake, client, sleeps):
    fake.throttle_next(1, currently_available=500)  # enough for this query: the wait is the floor
    client.graphql("{ shop { name } }")
    assert sleeps == [AdminClient.throttle_floor]


def test_http_429_retry_after_is_honoured_for_real(fake, make_client):
    client = make_client(sleep=time.sleep)
    fake.throttle_next(1, mode="http429", retry_after=0.3)

    started = time.monotonic()
    data = client.graphql("{ shop { name } }")
    elapsed = time.monotonic() - started

    assert data["shop"]["name"]
    assert elapsed >= 0.3
    calls = fake.calls(endpoint="graphql")
    assert [c.status for c in calls] == [429, 200]
    assert calls[1].at - calls[0].at >= 0.29


def test_5xx_then_success_backs_off_with_jitter(fake, client, sleeps):
    fake.fail_next(1, status=500)
    fake.fail_next(1, status=503)

    assert client.graphql("{ shop { name } }")["shop"]
    assert [c.status for c in fake.calls(endpoint="graphql")] == [500, 503, 200]
    base = AdminClient.backoff_base
    assert base / 2 <= sleeps[0] <= base
    assert base <= sleeps[1] <= 2 * base


def test_a_mutation_that_must_not_repeat_is_not_sent_again_after_a_5xx_or_timeout(fake, make_client, sleeps):
    client = make_client(timeout=0.2)
    fake.fail_next(1, status=502)
    with pytest.raises(ShopifyAPIError, match="not sent again") as exc:
        client.graphql("{ shop { name } }", repeat=False)
    assert exc.value.status == 502
    fake.slow_next(1, 1.0)
    with pytest.raises(ShopifyAPIError, match="not sent again"):
        client.graphql("{ shop { name } }", repeat=False)
    assert len(fake.calls(endpoint="graphql")) == 2 and sleeps == []
    # Throttled requests were not run by Shopify: those are waited out and sent again.
    fake.throttle_next(1, currently_available=500)
    fake.throttle_next(1, mode="http429", retry_after=0.01)
    assert client.graphql("{ shop { name } }", repeat=False)["shop"]
    assert [c.fault for c in fake.calls(endpoint="graphql")][2:] == ["throttled", "http429", None]


def test_garbage_body_is_a_clear_error_and_not_retried(fake, client):
    fake.garbage_next(1)
    with pytest.raises(ShopifyAPIError, match="invalid JSON from Shopify") as exc:
        client.graphql("{ shop { name } }")
    assert "text/html" in str(exc.value)
    assert len(fake.calls(endpoint="graphql")) == 1


def test_slow_answer_beyond_timeout_is_retried(fake, make_client, sleeps):
    client = make_client(timeout=0.2)
    fake.slow_next(1, 1.0)

    assert client.graphql("{ shop { name } }")["shop"]
    assert len(fake.calls(endpoint="graphql")) == 2
    assert len(sleeps) == 1


def test_staying_slow_gives_up_once_max_wait_is_spent(fake, make_client, sleeps):
    client = make_client(timeout=0.2, max_wait=1.0)
    fake.slow_next(20, 1.0)

    started = time.monotonic()
    with pytest.raises(ShopifyAPIError, match=r"did not answer within 0.2s .*gave up") as exc:
        client.graphql("{ shop { name } }")
    assert exc.value.status is None
    attempts = len(fake.calls(endpoint="graphql"))
    assert 2 <= attempts <= 6
    assert len(sleeps) == attempts - 1
    assert time.monotonic() - started < 3


def test_max_wait_exhausted_by_throttling(fake, make_client, sleeps):
    client = make_client(max_wait=5.0)
    fake.throttle_next(100)

    with pytest.raises(ShopifyAPIError, match=r"THROTTLED.*gave up after waiting .*max_wait 5s"):
        client.graphql("query { orders(first: 100) { nodes { id } pageInfo { hasNextPage endCursor } } }")
    assert sleeps and sum(sleeps) <= 5.0
    assert len(fake.calls(endpoint="graphql")) == len(sleeps) + 1


def test_unreachable_shopify_gives_up(fake, sleeps):
    with AdminClient("x.myshopify.com", "shpat_x", base_url_template=closed_port_base_url(), api_version=VERSION,
                     timeout=0.5, max_wait=2.0, sleep=sleeps.append) as client:
        with pytest.raises(ShopifyAPIError, match="could not be reached .*gave up"):
            client.graphql("{ shop { name } }")
    assert len(sleeps) >= 2


def test_stopped_server_cuts_kept_alive_connections(fake, make_client, sleeps):
    client = make_client(max_wait=1.0)
    client.graphql("{ shop { name } }")  # opens the keep-alive connection
    fake.stop()
    try:
        with pytest.raises(ShopifyAPIError, match="could not be reached"):
            client.graphql("{ shop { name } }")
    finally:
        fake.start()
    assert client.graphql("{ shop { name } }")["shop"]  # same port, same state


# ============================================================================ GraphQL: auth and secrecy


def test_invalid_token_raises_auth_error_without_retry(fake, make_client, shop):
    client = make_client(token="shpat_not_a_real_token")
    with pytest.raises(ShopifyAuthError, match="refused the access token") as exc:
        client.graphql("{ shop { name } }")
    assert exc.value.status == 401
    assert "Invalid API key or access token" in str(exc.value)
    assert len(fake.calls(endpoint="graphql")) == 1


def test_expired_or_revoked_token_raises_auth_error(fake, shop, token, client):
    fake.expire_token(token)
    with pytest.raises(ShopifyAuthError):
        client.graphql("{ shop { name } }")
    other = fake.issue_token(shop)
    fake.revoke_tokens(shop)
    with AdminClient(shop, other, base_url_template=fake.base_url, api_version=VERSION) as client2:
        with pytest.raises(ShopifyAuthError):
            client2.graphql("{ shop { name } }")


def test_token_of_another_shop_is_refused(fake, make_client):
    foreign = fake.issue_token("someone-else.myshopify.com")
    with pytest.raises(ShopifyAuthError):
        make_client(token=foreign).graphql("{ shop { name } }")


def test_the_token_never_appears_in_errors_or_logs(fake, shop, token, make_client, caplog):
    caplog.set_level(logging.DEBUG)
    client = make_client(max_wait=0.5, timeout=0.2)
    failures = []

    def attempt(setup, query="{ shop { name } }", c=client):
        setup()
        try:
            c.graphql(query)
        except ShopifyAPIError as exc:
            failures.append(exc)
        finally:
            fake.reset_faults()

    attempt(lambda: fake.garbage_next(1))
    attempt(lambda: fake.fail_next(50, status=500))
    attempt(lambda: fake.fail_next(1, status=404))
    attempt(lambda: fake.slow_next(50, 0.5))
    attempt(lambda: fake.throttle_next(50, mode="http429", retry_after=0.2))
    attempt(lambda: None, query="{ nope }")
    fake.revoke_token(token)
    attempt(lambda: None)

    assert len(failures) == 7
    assert isinstance(failures[-1], ShopifyAuthError)
    for exc in failures:
        assert token not in str(exc) and token not in repr(exc)
    assert token not in caplog.text
    assert token not in repr(client)


def test_errors_echoing_the_token_are_scrubbed(fake, shop, token, client):
    with pytest.raises(ShopifyAPIError) as exc:
        client.graphql(f"{{ {token} }}")  # the fake names the unknown field in its message
    assert "[access token]" in str(exc.value)
    assert token not in str(exc.value)


# ============================================================================ pagination


def test_pagination_over_a_thousand_orders_yields_each_once(fake, shop, client):
    fake.seed_orders(shop, [make_order_node(n) for n in range(1, 1001)])

    ids = [node["id"] for node in client.paginate(ORDERS_QUERY, {"first": 250}, ["orders"])]

    assert len(ids) == 1000 and len(set(ids)) == 1000
    assert set(ids) == {order_gid(n) for n in range(1, 1001)}
    calls = fake.calls(operation="orders")
    assert len(calls) == 4
    assert calls[0].variables["after"] is None
    assert all(c.variables["after"] for c in calls[1:])


def test_pagination_survives_a_failure_mid_way_and_filters(fake, shop, client, sleeps):
    fake.seed_orders(shop, [make_order_node(n) for n in range(1, 301)])
    cutoff = make_order_node(100)["createdAt"]

    names = []
    for node in client.paginate(ORDERS_QUERY, {"first": 60, "query": f"created_at:>='{cutoff}'"}, ["orders"]):
        if not names:
            fake.fail_next(1, status=502)  # the next page fails once
        names.append(node["name"])

    assert len(names) == len(set(names)) == 201  # orders 100..300
    assert names[0] == "#1100" and names[-1] == "#1300"
    assert len(sleeps) == 1


def test_pagination_with_edges(fake, shop, client):
    fake.seed_orders(shop, [make_order_node(n) for n in range(1, 8)])
    query = """query($after: String) { orders(first: 3, after: $after) {
        edges { cursor node { id name } } pageInfo { hasNextPage endCursor } } }"""
    assert [n["name"] for n in client.paginate(query, {}, ["orders"])] == [f"#{1000 + n}" for n in range(1, 8)]


def test_fake_reset_and_given_tokens(fake, shop):
    fake.issue_token(shop, "read_orders", token="shpat_test_token")
    fake.seed_orders(shop, [make_order_node(1)])
    fake.fail_next(3)
    with AdminClient(shop, "shpat_test_token", base_url_template=fake.base_url, api_version=VERSION,
                     sleep=lambda s: None) as client:
        assert client.graphql(ORDERS_QUERY, {"first": 5})["orders"]["nodes"][0]["name"] == "#1001"
        fake.reset()
        assert fake.orders(shop) == [] and fake.requests == [] and fake.pending_faults() == 0
        with pytest.raises(ShopifyAuthError):
            client.graphql("{ shop { name } }")


def test_order_nodes_have_the_documented_shape():
    node = make_order_node(5)
    assert node["id"] == order_gid(5) and node["name"] == "#1005"
    assert node["totalPriceSet"]["shopMoney"]["currencyCode"] == "USD"
    fulfillment = node["fulfillments"][0]
    assert fulfillment["trackingInfo"][0]["number"]
    assert fulfillment["fulfillmentLineItems"]["nodes"][0]["lineItem"]["id"] == node["lineItems"]["nodes"][0]["id"]
    assert make_order_node(4)["fulfillments"] == []
    assert make_order_node(4, email=None)["email"] is None
