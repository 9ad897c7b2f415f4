"""plugin.signatures against Shopify's published algorithms and test vectors
(webhook HMAC, OAuth query HMAC, app-proxy signature, session tokens)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid

import jwt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


def hex_hmac(secret: str, msg: str) -> str:
    """Independent reference HMAC (stdlib only) so tests don't trust the code under test."""
    return hmac.new(secret.encode(), msg.encode(), hashlib.sha256).hexdigest()


# --- webhooks (shopify.dev webhooks/verify-deliveries; body signed with 'hush')

TV7_BODY = b'{"id":820982911946154508,"email":"jon@example.com","name":"#9999"}'
TV7_HEADER = "GHRA62rRonufCGcinoJEGFXXDPAEMt9WRVI1Q51xtjw="


def test_tv7_webhook_hmac_matches_vector():
    assert webhook_hmac("hush", TV7_BODY) == TV7_HEADER
    raw = base64.b64decode(TV7_HEADER)
    assert raw.hex().startswith("187440eb") and raw.hex().endswith("71b63c")


def test_tv7_verify_webhook_accepts_vector():
    assert verify_webhook(TV7_BODY, TV7_HEADER, ["hush"]) is True


def test_webhook_previous_secret_accepted_during_rotation():
    header = webhook_hmac("old-secret", TV7_BODY)
    assert verify_webhook(TV7_BODY, header, ["new-secret", "old-secret"]) is True
    assert verify_webhook(TV7_BODY, header, ["new-secret"]) is False


def test_webhook_wrong_secret_rejected():
    assert verify_webhook(TV7_BODY, TV7_HEADER, ["not-hush"]) is False


def test_webhook_signature_of_other_body_rejected():
    other = webhook_hmac("hush", TV7_BODY + b" ")
    assert verify_webhook(TV7_BODY, other, ["hush"]) is False


def test_webhook_reserialised_json_rejected():
    reserialised = json.dumps(json.loads(TV7_BODY)).encode()  # adds spaces
    assert reserialised != TV7_BODY
    assert verify_webhook(reserialised, TV7_HEADER, ["hush"]) is False


@pytest.mark.parametrize(
    "header",
    [
        "not base64!!",
        TV7_HEADER + "\n",
        " " + TV7_HEADER,
        TV7_HEADER[:-1],  # bad padding
        "GHRA62rRonufCGci",  # valid base64, wrong length
        base64.b64encode(bytes.fromhex(hex_hmac("hush", TV7_BODY.decode()))).decode() + "AAAA",
        "é" * 44,
        hex_hmac("hush", TV7_BODY.decode()),  # hex instead of base64
    ],
)
def test_webhook_malformed_header_rejected(header):
    assert verify_webhook(TV7_BODY, header, ["hush"]) is False


@pytest.mark.parametrize("header", ["", None])
def test_webhook_missing_header_rejected(header):
    assert verify_webhook(TV7_BODY, header, ["hush"]) is False


def test_webhook_no_secrets_rejects():
    assert verify_webhook(TV7_BODY, TV7_HEADER, []) is False


def test_webhook_empty_secret_is_ignored():
    forged = webhook_hmac("", TV7_BODY)  # anyone can compute this
    assert verify_webhook(TV7_BODY, forged, [""]) is False
    assert verify_webhook(TV7_BODY, TV7_HEADER, ["", "hush"]) is True


def test_webhook_single_string_secret_is_a_programming_error():
    with pytest.raises(TypeError):
        verify_webhook(TV7_BODY, TV7_HEADER, "hush")


@settings(max_examples=200, database=None, deadline=None)
@given(
    body=st.binary(min_size=1, max_size=2048),
    secret=st.text(min_size=1, max_size=64),
    index=st.integers(min_value=0),
    flip=st.integers(min_value=1, max_value=255),
)
def test_property_webhook_roundtrip_and_one_byte_change(body, secret, index, flip):
    header = webhook_hmac(secret, body)
    assert verify_webhook(body, header, [secret]) is True
    i = index % len(body)
    changed = body[:i] + bytes([body[i] ^ flip]) + body[i + 1 :]
    assert changed != body
    assert verify_webhook(changed, header, [secret]) is False


# --- OAuth query HMAC (shopify.dev authorization-code-grant example; shopify_python_api's test)

TV1_QUERY = (
    "code=0907a61c0c8d55e99db179b68161bc00"
    "&hmac=700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf"
    "&shop=some-shop.myshopify.com&state=0.6784241404160823&timestamp=1337178173"
)
TV1_MESSAGE = (
    "code=0907a61c0c8d55e99db179b68161bc00&shop=some-shop.myshopify.com"
    "&state=0.6784241404160823&timestamp=1337178173"
)
TV1_HMAC = "700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf"
TV1_NOW = 1337178173

TV3A_PARAMS = {
    "shop": "some-shop.myshopify.com",
    "code": "a94a110d86d2452eb3e2af4cfb8a3828",
    "timestamp": "1337178173",
}
TV3A_HMAC = "2cb1a277650a659f1b11e92a4a64275b128e037f2c3390e3c8fd2d8721dac9e2"

NOW = 1_700_000_000
SHOP = "my-shop.myshopify.com"


def test_tv1_vector_is_self_consistent():
    assert hex_hmac("hush", TV1_MESSAGE) == TV1_HMAC


def test_tv1_query_hmac_from_raw_query_string():
    assert query_hmac("hush", TV1_QUERY) == TV1_HMAC


def test_tv1_verify_raw_query_string():
    verify_query_hmac(TV1_QUERY, ["hush"], now=TV1_NOW)


def test_tv1_verify_decoded_pairs_in_any_order():
    pairs = [
        ("timestamp", "1337178173"),
        ("state", "0.6784241404160823"),
        ("hmac", TV1_HMAC),
        ("shop", "some-shop.myshopify.com"),
        ("code", "0907a61c0c8d55e99db179b68161bc00"),
    ]
    verify_query_hmac(pairs, ["hush"], now=TV1_NOW)


def test_tv1_with_literal_shop_placeholder_does_not_verify():
    # shopify.dev authorization-code-grant: the docs' {shop} placeholder is cosmetic.
    forged = TV1_QUERY.replace("some-shop.myshopify.com", "{shop}.myshopify.com")
    with pytest.raises(SignatureError, match="invalid hmac"):
        verify_query_hmac(forged, ["hush"], now=TV1_NOW)


def test_tv3a_python_library_vector():
    assert query_hmac("hush", TV3A_PARAMS) == TV3A_HMAC
    verify_query_hmac({**TV3A_PARAMS, "hmac": TV3A_HMAC}, ["hush"], now=1337178173)


def test_python_library_ampersand_equals_escaping_vector():
    # PY test_hmac_calculation_with_ampersand_and_equal_sign_characters
    params = [("a", "1&b=2"), ("c=3&d", "4")]
    assert query_hmac("secret", params) == hex_hmac("secret", "a=1%26b=2&c%3D3%26d=4")


def test_signature_param_is_dropped_from_query_message():
    params = [("shop", SHOP), ("timestamp", str(NOW)), ("signature", "whatever")]
    assert query_hmac("s3cret", params) == hex_hmac("s3cret", f"shop={SHOP}&timestamp={NOW}")


# Values where the Python-library and JS-library escaping differ (shopify.dev authorization-code-grant): base64 host
# with "+", "/" and "=", a space, a colon.
ODD_PARAMS = [
    ("host", "YWRtaW4+c2hvcC/test=="),
    ("shop", SHOP),
    ("state", "a b:c"),
    ("timestamp", str(NOW)),
]
PY_FORM = f"host=YWRtaW4+c2hvcC/test==&shop={SHOP}&state=a b:c&timestamp={NOW}"
JS_FORM = f"host=YWRtaW4%2Bc2hvcC%2Ftest%3D%3D&shop={SHOP}&state=a%20b%3Ac&timestamp={NOW}"


def test_escaping_forms_really_differ():
    assert PY_FORM != JS_FORM
    assert query_hmac("s3cret", ODD_PARAMS) == hex_hmac("s3cret", PY_FORM)
    assert query_hmac("s3cret", ODD_PARAMS, form="percent") == hex_hmac("s3cret", JS_FORM)


@pytest.mark.parametrize("message", [PY_FORM, JS_FORM], ids=["python-form", "js-form"])
def test_query_hmac_accepts_both_escaping_forms(message):
    params = [*ODD_PARAMS, ("hmac", hex_hmac("s3cret", message))]
    verify_query_hmac(params, ["s3cret"], now=NOW)


def test_query_hmac_percent_encoded_raw_query_is_decoded_first():
    mac = hex_hmac("s3cret", PY_FORM)
    raw = (
        f"host=YWRtaW4%2Bc2hvcC%2Ftest%3D%3D&shop={SHOP}&state=a%20b%3Ac"
        f"&timestamp={NOW}&hmac={mac}"
    )
    verify_query_hmac(raw, ["s3cret"], now=NOW)


def _signed(params: list[tuple[str, str]], secret: str = "s3cret") -> list[tuple[str, str]]:
    return [*params, ("hmac", query_hmac(secret, params))]


BASE = [("code", "abc123"), ("shop", SHOP), ("state", "nonce"), ("timestamp", str(NOW))]


def test_query_hmac_valid_and_uppercase_hex_accepted():
    verify_query_hmac(_signed(BASE), ["s3cret"], now=NOW)
    upper = [(k, v.upper() if k == "hmac" else v) for k, v in _signed(BASE)]
    verify_query_hmac(upper, ["s3cret"], now=NOW)


def test_query_hmac_previous_secret_accepted():
    verify_query_hmac(_signed(BASE, "old"), ["new", "old"], now=NOW)


def test_query_hmac_wrong_secret_rejected():
    with pytest.raises(SignatureError, match="invalid hmac"):
        verify_query_hmac(_signed(BASE, "other"), ["s3cret"], now=NOW)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda p: [(k, "evil-shop.myshopify.com" if k == "shop" else v) for k, v in p],
        lambda p: [(k, "abc124" if k == "code" else v) for k, v in p],
        lambda p: [*p, ("extra", "1")],
        lambda p: [kv for kv in p if kv[0] != "state"],
    ],
    ids=["shop", "code", "added-param", "removed-param"],
)
def test_query_hmac_tampered_params_rejected(tamper):
    with pytest.raises(SignatureError, match="invalid hmac"):
        verify_query_hmac(tamper(_signed(BASE)), ["s3cret"], now=NOW)


def test_query_hmac_repeated_ordinary_param_is_covered_by_signature():
    with pytest.raises(SignatureError, match="invalid hmac"):
        verify_query_hmac([*_signed(BASE), ("code", "other")], ["s3cret"], now=NOW)


def test_query_hmac_missing():
    with pytest.raises(SignatureError, match="missing hmac"):
        verify_query_hmac(BASE, ["s3cret"], now=NOW)


def test_query_hmac_empty():
    with pytest.raises(SignatureError, match="missing hmac"):
        verify_query_hmac([*BASE, ("hmac", "")], ["s3cret"], now=NOW)


@pytest.mark.parametrize("bad", ["xyz", "0" * 63, "g" * 64, "0" * 65, TV1_HMAC + "\n"])
def test_query_hmac_not_hex(bad):
    with pytest.raises(SignatureError, match="malformed hmac"):
        verify_query_hmac([*BASE, ("hmac", bad)], ["s3cret"], now=NOW)


@pytest.mark.parametrize("name", ["hmac", "shop", "timestamp", "signature"])
def test_query_single_value_params_repeated(name):
    params = _signed(BASE)
    params.append((name, dict(params).get(name, "x")))
    if name == "signature":
        params.append(("signature", "y"))
    with pytest.raises(SignatureError, match=f"repeated {name}"):
        verify_query_hmac(params, ["s3cret"], now=NOW)


def test_query_repeated_shop_detected_in_werkzeug_multidict():
    from werkzeug.datastructures import MultiDict

    args = MultiDict(_signed(BASE))
    args.add("shop", "evil.myshopify.com")
    with pytest.raises(SignatureError, match="repeated shop"):
        verify_query_hmac(args, ["s3cret"], now=NOW)
    verify_query_hmac(MultiDict(_signed(BASE)), ["s3cret"], now=NOW)


def test_query_repeated_hmac_detected_in_raw_string():
    mac = query_hmac("s3cret", BASE)
    raw = f"code=abc123&shop={SHOP}&state=nonce&timestamp={NOW}&hmac={mac}&hmac={mac}"
    with pytest.raises(SignatureError, match="repeated hmac"):
        verify_query_hmac(raw, ["s3cret"], now=NOW)


def test_query_timestamp_window_boundaries():
    signed = _signed(BASE)
    verify_query_hmac(signed, ["s3cret"], now=NOW + 90)
    verify_query_hmac(signed, ["s3cret"], now=NOW - 90)
    with pytest.raises(SignatureError, match="stale"):
        verify_query_hmac(signed, ["s3cret"], now=NOW + 91)
    with pytest.raises(SignatureError, match="future"):
        verify_query_hmac(signed, ["s3cret"], now=NOW - 91)


def test_query_stale_timestamp_rejected_even_with_valid_hmac():
    verify_query_hmac(TV1_QUERY, ["hush"], now=TV1_NOW)
    with pytest.raises(SignatureError, match="stale"):
        verify_query_hmac(TV1_QUERY, ["hush"])  # real clock: 2012 is long gone


def test_query_custom_max_age():
    signed = _signed(BASE)
    verify_query_hmac(signed, ["s3cret"], now=NOW + 300, max_age=300)
    with pytest.raises(SignatureError, match="stale"):
        verify_query_hmac(signed, ["s3cret"], now=NOW + 301, max_age=300)


@pytest.mark.parametrize("ts", ["abc", "1700000000.5", "-1700000000", " 1700000000", "1e9", "١٢٣"])
def test_query_non_integer_timestamp(ts):
    params = _signed([*BASE[:3], ("timestamp", ts)])
    with pytest.raises(SignatureError, match="malformed timestamp"):
        verify_query_hmac(params, ["s3cret"], now=NOW)


def test_query_missing_timestamp():
    with pytest.raises(SignatureError, match="missing timestamp"):
        verify_query_hmac(_signed(BASE[:3]), ["s3cret"], now=NOW)


def test_query_array_params_rendered_as_json_list():
    params = [("ids[]", "1"), ("ids[]", "2"), ("shop", SHOP), ("timestamp", str(NOW))]
    expected_message = f'ids=["1", "2"]&shop={SHOP}&timestamp={NOW}'
    mac = hex_hmac("s3cret", expected_message)
    assert query_hmac("s3cret", params) == mac
    verify_query_hmac([*params, ("hmac", mac)], ["s3cret"], now=NOW)
    raw = f"ids%5B%5D=1&ids%5B%5D=2&shop={SHOP}&timestamp={NOW}&hmac={mac}"
    verify_query_hmac(raw, ["s3cret"], now=NOW)


def test_query_array_order_and_membership_are_signed():
    params = [("ids[]", "1"), ("ids[]", "2"), ("shop", SHOP), ("timestamp", str(NOW))]
    mac = query_hmac("s3cret", params)
    swapped = [("ids[]", "2"), ("ids[]", "1"), ("shop", SHOP), ("timestamp", str(NOW))]
    with pytest.raises(SignatureError, match="invalid hmac"):
        verify_query_hmac([*swapped, ("hmac", mac)], ["s3cret"], now=NOW)
    with pytest.raises(SignatureError, match="invalid hmac"):
        verify_query_hmac([*params, ("ids[]", "3"), ("hmac", mac)], ["s3cret"], now=NOW)


def test_signature_error_messages_never_contain_secret():
    secret = "shpss_supersecretvalue0123456789"
    with pytest.raises(SignatureError) as info:
        verify_query_hmac(_signed(BASE, "other"), [secret], now=NOW)
    assert secret not in str(info.value)
    assert query_hmac(secret, BASE) not in str(info.value)


# --- app proxy (shopify.dev authenticate-app-proxies example)

TV4_QUERY = (
    "extra=1&extra=2&shop=shop-name.myshopify.com&logged_in_customer_id=1"
    "&path_prefix=%2Fapps%2Fawesome_reviews&timestamp=1317327555"
)
TV4_MESSAGE = (
    "extra=1,2logged_in_customer_id=1path_prefix=/apps/awesome_reviews"
    "shop=shop-name.myshopify.comtimestamp=1317327555"
)
TV4_SIGNATURE = "4c68c8624d737112c91818c11017d24d334b524cb5c2b8ba08daa056f7395ddb"
TV4_NOW = 1317327555


def test_tv4_vector_is_self_consistent():
    assert hex_hmac("hush", TV4_MESSAGE) == TV4_SIGNATURE


def test_tv4_proxy_signature():
    assert proxy_signature("hush", TV4_QUERY) == TV4_SIGNATURE


def test_tv4_verify_proxy_signature():
    verify_proxy_signature(f"{TV4_QUERY}&signature={TV4_SIGNATURE}", ["hush"], now=TV4_NOW)


def test_tv4_verify_from_decoded_pairs():
    pairs = [
        ("extra", "1"),
        ("extra", "2"),
        ("shop", "shop-name.myshopify.com"),
        ("logged_in_customer_id", "1"),
        ("path_prefix", "/apps/awesome_reviews"),
        ("timestamp", "1317327555"),
        ("signature", TV4_SIGNATURE),
    ]
    verify_proxy_signature(pairs, ["hush"], now=TV4_NOW)


def test_proxy_repeated_keys_joined_with_commas_in_order():
    params = [("extra", "1"), ("extra", "2"), ("shop", SHOP), ("timestamp", str(NOW))]
    assert proxy_signature("s3cret", params) == hex_hmac(
        "s3cret", f"extra=1,2shop={SHOP}timestamp={NOW}"
    )
    swapped = [("extra", "2"), ("extra", "1"), ("shop", SHOP), ("timestamp", str(NOW))]
    assert proxy_signature("s3cret", swapped) != proxy_signature("s3cret", params)


def test_proxy_empty_logged_in_customer_id_is_signed():
    params = [("logged_in_customer_id", ""), ("shop", SHOP), ("timestamp", str(NOW))]
    mac = hex_hmac("s3cret", f"logged_in_customer_id=shop={SHOP}timestamp={NOW}")
    assert proxy_signature("s3cret", params) == mac
    raw = f"logged_in_customer_id=&shop={SHOP}&timestamp={NOW}&signature={mac}"
    verify_proxy_signature(raw, ["s3cret"], now=NOW)
    with pytest.raises(SignatureError, match="invalid signature"):
        verify_proxy_signature(raw.replace("logged_in_customer_id=", "logged_in_customer_id=7"),
                               ["s3cret"], now=NOW)


def test_proxy_tampered_value_rejected():
    tampered = TV4_QUERY.replace("logged_in_customer_id=1", "logged_in_customer_id=2")
    with pytest.raises(SignatureError, match="invalid signature"):
        verify_proxy_signature(f"{tampered}&signature={TV4_SIGNATURE}", ["hush"], now=TV4_NOW)


def test_proxy_wrong_secret_rejected_previous_accepted():
    query = f"{TV4_QUERY}&signature={TV4_SIGNATURE}"
    with pytest.raises(SignatureError, match="invalid signature"):
        verify_proxy_signature(query, ["nope"], now=TV4_NOW)
    verify_proxy_signature(query, ["nope", "hush"], now=TV4_NOW)


def test_proxy_missing_signature():
    with pytest.raises(SignatureError, match="missing signature"):
        verify_proxy_signature(TV4_QUERY, ["hush"], now=TV4_NOW)


def test_proxy_malformed_signature():
    with pytest.raises(SignatureError, match="malformed signature"):
        verify_proxy_signature(f"{TV4_QUERY}&signature=zz", ["hush"], now=TV4_NOW)


def test_proxy_stale_and_future_timestamp():
    query = f"{TV4_QUERY}&signature={TV4_SIGNATURE}"
    with pytest.raises(SignatureError, match="stale"):
        verify_proxy_signature(query, ["hush"], now=TV4_NOW + 91)
    with pytest.raises(SignatureError, match="stale"):
        verify_proxy_signature(query, ["hush"])  # real clock
    with pytest.raises(SignatureError, match="future"):
        verify_proxy_signature(query, ["hush"], now=TV4_NOW - 91)


@pytest.mark.parametrize("name", ["shop", "signature", "timestamp", "hmac"])
def test_proxy_single_value_params_repeated(name):
    query = f"{TV4_QUERY}&signature={TV4_SIGNATURE}&{name}=x"
    if name == "hmac":
        query += "&hmac=y"
    with pytest.raises(SignatureError, match=f"repeated {name}"):
        verify_proxy_signature(query, ["hush"], now=TV4_NOW)


# --- shop domains (shopify.dev authorization-code-grant, shop validation)

ACCEPT = [
    ("my-shop", "my-shop.myshopify.com"),
    ("my-shop.myshopify.com", "my-shop.myshopify.com"),
    ("MY-SHOP.myshopify.com", "my-shop.myshopify.com"),
    ("My-Shop.MyShopify.COM", "my-shop.myshopify.com"),
    ("https://my-shop.myshopify.com", "my-shop.myshopify.com"),
    ("https://my-shop.myshopify.com/", "my-shop.myshopify.com"),
    ("http://my-shop.myshopify.com", "my-shop.myshopify.com"),
    ("admin.shopify.com/store/my-shop", "my-shop.myshopify.com"),
    ("https://admin.shopify.com/store/my-shop", "my-shop.myshopify.com"),
    ("https://admin.shopify.com/store/My-Shop/", "my-shop.myshopify.com"),
    ("x.myshopify.com", "x.myshopify.com"),
    ("x", "x.myshopify.com"),
    ("shop123", "shop123.myshopify.com"),
    ("a" * 60 + ".myshopify.com", "a" * 60 + ".myshopify.com"),
]

REJECT = [
    "x.myshopify.com.evil.com",
    "store.myshopify.com.evil.com",
    "myshopify.com",
    ".myshopify.com",
    "x.myshopify.io",
    "foo.bar.myshopify.io",
    "%0ax.myshopify.com",
    "%0a123.myshopify.io ",
    "x.myshopify.com\n",
    "x.myshopify.com\r\n",
    "foo.bar.myshopify.com",
    "/foo/bar",
    "",
    None,
    " my-shop.myshopify.com",
    "my-shop.myshopify.com ",
    "my shop",
    "my-shop.myshopify.com\t",
    "my-shop.myshopify.com:443",
    "https://my-shop.myshopify.com:443/",
    "user@my-shop.myshopify.com",
    "https://user:pw@my-shop.myshopify.com",
    "https://my-shop.myshopify.com/admin",
    "https://my-shop.myshopify.com//",
    "my-shop.myshopify.com?x=1",
    "my-shop.myshopify.com#x",
    "-my-shop.myshopify.com",
    "my-shop-.myshopify.com",
    "-shop",
    "shop-",
    "a" * 61 + ".myshopify.com",
    "a" * 61,
    "my_shop.myshopify.com",
    "\u212a.myshopify.com",  # Kelvin sign lowercases to "k"
    "ftp://my-shop.myshopify.com",
    "https://evil.com",
    "evil.com",
    "not-admin.shopify.com/store/my-shop",
    "admin.shopify.com/store/my-shop/apps/x",
    "admin.shopify.com/store/-bad",
    "admin.shopify.com/store/",
    "https://",
    "x.myshopify.com.",
]


@pytest.mark.parametrize(("value", "expected"), ACCEPT)
def test_shop_domain_accepted(value, expected):
    assert normalize_shop_domain(value) == expected


@pytest.mark.parametrize("value", REJECT)
def test_shop_domain_rejected(value):
    assert normalize_shop_domain(value) is None


@pytest.mark.parametrize("value", [123, b"my-shop.myshopify.com", ["my-shop"]])
def test_shop_domain_non_string_rejected(value):
    assert normalize_shop_domain(value) is None


# --- session tokens (shopify.dev session-tokens)

API_KEY = "0123456789abcdef0123456789abcdef"
SECRET = "shpss_0123456789abcdef0123456789abcdef"  # >= 32 bytes: PyJWT warns on short HMAC keys
OLD_SECRET = "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"


def claims(**overrides):
    base = {
        "iss": f"https://{SHOP}/admin",
        "dest": f"https://{SHOP}",
        "aud": API_KEY,
        "sub": "42",
        "exp": NOW + 60,
        "nbf": NOW - 1,
        "iat": NOW - 1,
        "jti": str(uuid.uuid4()),
        "sid": "f3c8a9d2e1b04567",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not _DROP}


_DROP = object()


def token(secret: str = SECRET, algorithm: str = "HS256", **overrides) -> str:
    return jwt.encode(claims(**overrides), secret, algorithm=algorithm)


def decode(tok, secrets=(SECRET,), now=NOW, **kw):
    return decode_session_token(tok, api_key=API_KEY, secrets=list(secrets), now=now, **kw)


def test_session_token_valid_returns_claims_with_shop():
    result = decode(token())
    assert result["shop"] == SHOP
    assert result["sub"] == "42"
    assert result["dest"] == f"https://{SHOP}"
    assert result["aud"] == API_KEY


def test_session_token_valid_against_real_clock():
    now = int(time.time())
    tok = token(exp=now + 60, nbf=now - 1, iat=now - 1)
    assert decode_session_token(tok, api_key=API_KEY, secrets=[SECRET])["shop"] == SHOP


def test_session_token_expired_against_real_clock():
    with pytest.raises(SignatureError, match="expired"):
        decode_session_token(token(), api_key=API_KEY, secrets=[SECRET])  # NOW is 2023


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_session_token_alg_none_rejected():
    header = _b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = _b64url(json.dumps(claims()).encode())
    for forged in (f"{header}.{payload}.", f"{header}.{payload}"):
        with pytest.raises(SignatureError):
            decode(forged)


def test_session_token_other_hmac_alg_rejected():
    long_secret = SECRET * 2  # HS512 wants a >= 64-byte key
    with pytest.raises(SignatureError, match="algorithm"):
        decode(token(secret=long_secret, algorithm="HS512"), secrets=(long_secret,))


def test_session_token_wrong_secret_rejected():
    with pytest.raises(SignatureError, match="bad signature"):
        decode(token(secret=OLD_SECRET))


def test_session_token_previous_secret_accepted():
    assert decode(token(secret=OLD_SECRET), secrets=(SECRET, OLD_SECRET))["shop"] == SHOP


def test_session_token_no_secrets_rejected():
    with pytest.raises(SignatureError):
        decode(token(), secrets=())


@pytest.mark.parametrize("aud", ["another-app", [API_KEY, "another-app"], ""])
def test_session_token_wrong_audience_rejected(aud):
    with pytest.raises(SignatureError):
        decode(token(aud=aud))


def test_session_token_expired():
    with pytest.raises(SignatureError, match="expired"):
        decode(token(exp=NOW - 11))
    with pytest.raises(SignatureError, match="expired"):
        decode(token(exp=NOW - 10))  # exp <= now - leeway, as PyJWT
    assert decode(token(exp=NOW - 9))["shop"] == SHOP  # within the 10 s leeway


def test_session_token_nbf_future_beyond_leeway_rejected():
    with pytest.raises(SignatureError, match="not yet valid"):
        decode(token(nbf=NOW + 11, iat=NOW))


def test_session_token_nbf_future_within_leeway_accepted():
    assert decode(token(nbf=NOW + 10, iat=NOW + 10))["shop"] == SHOP
    assert decode(token(nbf=NOW + 5))["shop"] == SHOP


def test_session_token_leeway_is_configurable():
    with pytest.raises(SignatureError, match="not yet valid"):
        decode(token(nbf=NOW + 5), leeway=0)


def test_session_token_iat_far_in_future_rejected():
    with pytest.raises(SignatureError, match="future"):
        decode(token(iat=NOW + 3600))


@pytest.mark.parametrize(
    "overrides",
    [
        {"dest": "https://other-shop.myshopify.com"},
        {"iss": "https://other-shop.myshopify.com/admin"},
        {"iss": "https://evil.com/admin"},
        {"iss": f"http://{SHOP}/admin"},
        {"iss": f"https://{SHOP}:8443/admin"},
    ],
)
def test_session_token_iss_and_dest_must_share_origin(overrides):
    with pytest.raises(SignatureError, match="iss and dest differ"):
        decode(token(**overrides))


@pytest.mark.parametrize(
    "dest",
    [
        "https://evil.com",
        "https://my-shop.myshopify.com.evil.com",
        f"http://{SHOP}",
        f"https://{SHOP}:443",
        f"https://user@{SHOP}",
        f"https://{SHOP}\n",
        "https://my-shop",
        "my-shop.myshopify.com",
        f"https://{SHOP}?x=1",
        12345,
    ],
)
def test_session_token_bad_dest_rejected(dest):
    iss = f"{dest}/admin" if isinstance(dest, str) else f"https://{SHOP}/admin"
    with pytest.raises(SignatureError, match="invalid dest"):
        decode(token(dest=dest, iss=iss))


@pytest.mark.parametrize("claim", ["exp", "nbf", "iss", "dest", "sub", "jti", "sid", "aud"])
def test_session_token_missing_required_claim(claim):
    with pytest.raises(SignatureError, match=claim):
        decode(token(**{claim: _DROP}))


@pytest.mark.parametrize("value", ["soon", True, None, float("inf")])
def test_session_token_non_numeric_exp_rejected(value):
    tok = jwt.encode(claims(exp=value), SECRET, algorithm="HS256")
    with pytest.raises(SignatureError):
        decode(tok)


@pytest.mark.parametrize(
    "garbage",
    ["garbage", "", "a.b.c", "...", "eyJhbGciOiJIUzI1NiJ9.e30.", None, 42, "Bearer " + "x" * 10],
)
def test_session_token_garbage_rejected(garbage):
    with pytest.raises(SignatureError):
        decode(garbage)


def test_session_token_error_does_not_leak_secret():
    with pytest.raises(SignatureError) as info:
        decode(token(secret=OLD_SECRET))
    assert SECRET not in str(info.value) and OLD_SECRET not in str(info.value)


def test_session_token_requires_api_key():
    with pytest.raises(ValueError):
        decode_session_token(token(), api_key="", secrets=[SECRET], now=NOW)
