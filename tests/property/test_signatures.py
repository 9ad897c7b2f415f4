"""Property-based: every signature function in plugin/signatures.py, fed
arbitrary bytes, text and queries, answers or raises SignatureError only
(the boolean verifier never raises), and what it signs it accepts."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

from hypothesis import HealthCheck, given, settings, strategies as st

from plugin.signatures import (
    SignatureError,
    decode_session_token,
    normalize_shop_domain,
    proxy_signature,
    query_hmac,
    verify_proxy_signature,
    verify_query_hmac,
    verify_webhook,
    webhook_hmac,
)

SECRET = "shpss_property0000000000000000000000000"
API_KEY = "property-api-key"
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

secrets_lists = st.lists(st.one_of(st.text(max_size=40), st.binary(max_size=40)), max_size=3)
pairs = st.lists(st.tuples(st.text(max_size=20), st.text(max_size=40)), max_size=8)
queries = st.one_of(
    st.text(max_size=300),
    st.binary(max_size=300),
    pairs,
    st.dictionaries(st.text(max_size=20), st.one_of(st.text(max_size=40), st.lists(st.text(max_size=10), max_size=3)),
                    max_size=8),
)


@FAST
@given(body=st.binary(max_size=2000), header=st.one_of(st.none(), st.text(max_size=100)), secrets=secrets_lists)
def test_verify_webhook_never_raises_on_any_body_header_or_secret(body, header, secrets):
    assert verify_webhook(body, header, secrets) in (True, False)


@FAST
@given(body=st.binary(max_size=2000), flip=st.integers(min_value=0))
def test_a_webhook_signature_verifies_and_any_changed_byte_fails(body, flip):
    header = webhook_hmac(SECRET, body)
    assert verify_webhook(body, header, [SECRET])
    assert verify_webhook(body, header, ["", "old-secret", SECRET])
    assert not verify_webhook(body, header, [])  # no usable secret: nothing verifies
    if body:
        i = flip % len(body)
        changed = body[:i] + bytes([body[i] ^ 0x01]) + body[i + 1:]
        assert not verify_webhook(changed, header, [SECRET])


@FAST
@given(params=queries, now=st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False, width=32)))
def test_query_and_proxy_verifiers_raise_only_signature_errors(params, now):
    for verify in (verify_query_hmac, verify_proxy_signature):
        try:
            verify(params, [SECRET], now=now)
        except SignatureError as exc:
            assert SECRET not in str(exc)


@FAST
@given(params=st.dictionaries(st.text(min_size=1, max_size=20).filter(lambda k: k not in ("hmac", "signature")),
                              st.text(max_size=40), max_size=6))
def test_signed_queries_verify_in_every_shape(params):
    params = {**params, "timestamp": str(int(time.time()))}
    signed = {**params, "hmac": query_hmac(SECRET, params)}
    verify_query_hmac(signed, [SECRET])
    verify_query_hmac(list(signed.items()), [SECRET])
    proxied = {**params, "signature": proxy_signature(SECRET, params)}
    verify_proxy_signature(proxied, [SECRET])


@FAST
@given(params=queries)
def test_signing_any_query_gives_a_hex_digest(params):
    for digest in (query_hmac(SECRET, params), query_hmac(SECRET, params, form="percent"),
                   proxy_signature(SECRET, params)):
        assert len(digest) == 64 and int(digest, 16) >= 0


@FAST
@given(value=st.one_of(st.none(), st.text(max_size=120)))
def test_shop_domains_normalise_to_a_myshopify_domain_or_none(value):
    domain = normalize_shop_domain(value)
    if domain is not None:
        assert domain.endswith(".myshopify.com") and domain == domain.lower()
        assert normalize_shop_domain(domain) == domain  # idempotent
        assert all(c.isascii() and (c.isalnum() or c in "-.") for c in domain)


@FAST
@given(token=st.one_of(st.text(max_size=400), st.just(""), st.builds(
    lambda a, b, c: f"{a}.{b}.{c}", st.text(max_size=60), st.text(max_size=200), st.text(max_size=60))))
def test_session_tokens_of_any_text_raise_only_signature_errors(token):
    try:
        decode_session_token(token, api_key=API_KEY, secrets=[SECRET])
    except SignatureError as exc:
        assert SECRET not in str(exc)


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=30)),
    lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(st.text(max_size=10), children,
                                                                               max_size=3)),
    max_leaves=10,
)
claims = st.fixed_dictionaries({}, optional={
    "iss": json_values, "dest": st.one_of(json_values, st.just("https://a-shop.myshopify.com")),
    "aud": st.one_of(json_values, st.just(API_KEY)), "sub": json_values,
    "exp": st.one_of(json_values, st.just(time.time() + 60)), "nbf": json_values, "iat": json_values,
    "jti": json_values, "sid": json_values,
})


def hs256(payload: dict, secret: str = SECRET) -> str:
    """A JWT signed with the stdlib: PyJWT refuses to make some of the odd claims tried here."""
    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    header = json.dumps({"alg": "HS256", "typ": "JWT"}).encode()
    signing_input = f"{part(header)}.{part(json.dumps(payload).encode())}"
    signature = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{part(signature)}"


@FAST
@given(payload=claims)
def test_correctly_signed_tokens_with_any_claims_decode_or_raise_signature_errors(payload):
    token = hs256(payload)
    try:
        claims_out = decode_session_token(token, api_key=API_KEY, secrets=[SECRET])
    except SignatureError:
        return
    assert claims_out["shop"].endswith(".myshopify.com") and claims_out["aud"] == API_KEY
