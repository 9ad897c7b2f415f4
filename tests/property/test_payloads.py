"""Property-based: every payload parser in webhooks/payloads.py, fed arbitrary
bytes, arbitrary JSON and mutated real payloads, returns its record or raises
PayloadError (naming the field), nothing else."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from webhooks import payloads

PAYLOADS = {p.stem: json.loads(p.read_text()) for p in (Path(__file__).parent.parent / "payloads").glob("*.json")}
PARSERS = (payloads.order, payloads.fulfillment, payloads.tracking_event)
FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(min_value=2**63 - 5, max_value=2**70),
                    st.floats(), st.text(max_size=30),
                    st.sampled_from(["", "0", "-1", "1e309", "2026-13-45T99:99:99Z", "0001-01-01T00:00:00+14:00",
                                     "9999-12-31T23:59:59-14:00", "NaN", "Infinity", "12.345", "€"]))
json_values = st.recursive(scalars, lambda children: st.one_of(
    st.lists(children, max_size=4), st.dictionaries(st.text(max_size=12), children, max_size=4)), max_leaves=20)


def parse_all(body) -> None:
    for parse in PARSERS:
        try:
            parse(body)
        except payloads.PayloadError as exc:
            assert str(exc)  # names what is wrong
    try:
        payloads.ids(body, "orders_requested")
    except payloads.PayloadError:
        pass


@FAST
@given(raw=st.one_of(st.binary(max_size=500), st.text(max_size=300).map(str.encode)))
@example(raw=b"[" * 100_000 + b"]" * 100_000)  # nested past Python's recursion limit
@example(raw=b'{"id": 1' + b"0" * 5000 + b"}")  # past Python's limit on integer digits
@example(raw=b'{"id": 1e999}')
def test_parse_json_of_any_bytes_gives_an_object_or_a_payload_error(raw):
    try:
        body = payloads.parse_json(raw)
    except payloads.PayloadError:
        return
    assert isinstance(body, dict)
    parse_all(body)


@FAST
@given(body=st.dictionaries(st.text(max_size=12), json_values, max_size=8))
def test_parsers_on_arbitrary_objects_raise_only_payload_errors(body):
    parse_all(body)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*prefix, i))


def _mutate(body, path, action, replacement):
    """A copy of ``body`` with the value at ``path`` replaced or removed."""
    body = json.loads(json.dumps(body))
    if not path:
        return replacement if action == "replace" else {}
    parent = body
    for key in path[:-1]:
        parent = parent[key]
    if action == "delete":
        del parent[path[-1]]
    else:
        parent[path[-1]] = replacement
    return body


@st.composite
def mutated_payloads(draw):
    name = draw(st.sampled_from(sorted(PAYLOADS)))
    body = PAYLOADS[name]
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        paths = list(_paths(body))
        path = draw(st.sampled_from(paths))
        action = draw(st.sampled_from(["replace", "delete"]))
        body = _mutate(body, path, action, draw(json_values))
    return body


@FAST
@given(body=mutated_payloads())
def test_mutated_real_payloads_parse_or_raise_payload_errors(body):
    if isinstance(body, dict):
        parse_all(body)
    else:
        try:
            payloads.parse_json(json.dumps(body).encode())
        except payloads.PayloadError:
            pass


EDGE_TIMES = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2026-02-30T00:00:00Z", "2026-11-02", "T", ""]
times = st.one_of(st.sampled_from(EDGE_TIMES), st.text(max_size=40),
                  st.datetimes(timezones=st.timezones()).map(datetime.isoformat))


@FAST
@given(name=st.sampled_from(sorted(PAYLOADS)), value=times, data=st.data())
@example(name="order_create", value="0001-01-01T00:00:00+14:00", data=None)
@example(name="fulfillment_update_delivered", value="9999-12-31T23:59:59-14:00", data=None)
@example(name="fulfillment_event_create", value="0001-01-01T00:00:00+14:00", data=None)
def test_any_time_in_any_time_field_parses_or_raises_payload_error(name, value, data):
    body = json.loads(json.dumps(PAYLOADS[name]))
    keys = sorted(k for k in body if k.endswith("_at"))
    chosen = keys if data is None else data.draw(st.lists(st.sampled_from(keys), min_size=1, unique=True))
    for key in chosen:
        body[key] = value
    parse_all(body)


@FAST
@given(value=st.one_of(st.none(), times))
@example(value="0001-01-01T00:00:00+14:00")
def test_triggered_at_headers_give_a_utc_time_or_none(value):
    parsed = payloads.timestamp(value)
    assert parsed is None or parsed.tzinfo == timezone.utc


@pytest.mark.parametrize("gid", ["gid://shopify/Return/²", "gid://shopify/Return/" + "9" * 19, "gid://shopify/Return/"])
def test_a_return_gid_that_is_no_id_is_a_payload_error(gid):
    """"²".isdigit() is true but int() refuses it: that escaped as a ValueError."""
    from webhooks import return_payloads

    with pytest.raises(payloads.PayloadError, match="Shopify id"):
        return_payloads.shopify_return({"admin_graphql_api_id": gid}, "OPEN")
