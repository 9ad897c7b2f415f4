"""Verification of everything Shopify signs: webhooks, admin/OAuth query strings,
app proxy requests and App Bridge session tokens, plus shop-domain validation.

Pure functions (stdlib + PyJWT, no Flask, no I/O) so they can be tested against the
published examples and reused by any route.

Conventions:
- Every verifier takes a *sequence* of secrets (current first, then previous) because
  after a client-secret rotation Shopify may sign with the old secret for up to an
  hour (shopify.dev webhooks/verify-deliveries). Empty secrets are ignored: an empty HMAC key is public.
- Digests are always compared with ``hmac.compare_digest``.
- Boolean verifiers never raise on attacker input; the raising verifiers only raise
  ``SignatureError`` whose message is a short, fixed, secret-free reason.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, Union
from urllib.parse import parse_qsl, quote, urlsplit

import jwt

__all__ = [
    "SignatureError",
    "webhook_hmac",
    "verify_webhook",
    "query_hmac",
    "verify_query_hmac",
    "proxy_signature",
    "verify_proxy_signature",
    "normalize_shop_domain",
    "decode_session_token",
]

#: Raw query string, or decoded (key, value) pairs, or a mapping (werkzeug MultiDict
#: included; its ``lists()`` is used so repeated keys are never silently dropped).
QueryParams = Union[str, bytes, Mapping[str, Any], Iterable[tuple[str, str]]]

# Params that Shopify sends once; a repeat means someone appended their own value
# hoping the app reads a different copy than the one that was signed (JS
# APP_PROXY_SINGLE_VALUE_PARAMS, shopify.dev authenticate-app-proxies).
_SINGLE_VALUE_PARAMS = ("hmac", "shop", "signature", "timestamp")
_HEX_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_MAX_QUERY_FIELDS = 1000


class SignatureError(Exception):
    """A signed request failed verification; str() is a short, safe reason (never contains a secret)."""


# --------------------------------------------------------------------------- helpers


def _keys(secrets: Sequence[str]) -> list[bytes]:
    """Secrets as HMAC keys; rejects a bare string, which would iterate per character."""
    if isinstance(secrets, (str, bytes, bytearray)):
        raise TypeError("secrets must be a sequence of secrets, not a single string")
    out: list[bytes] = []
    for s in secrets:
        key = s.encode("utf-8") if isinstance(s, str) else bytes(s)
        if key:  # an empty key would let anyone forge signatures
            out.append(key)
    return out


def _key(secret: str | bytes) -> bytes:
    return secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)


def _pairs(params: QueryParams) -> list[tuple[str, str]]:
    """Decoded (key, value) pairs in original order, whatever shape the caller has."""
    if isinstance(params, (bytes, bytearray)):
        params = bytes(params).decode("utf-8", errors="replace")
    if isinstance(params, str):
        try:
            return parse_qsl(
                params.removeprefix("?"),
                keep_blank_values=True,
                max_num_fields=_MAX_QUERY_FIELDS,
            )
        except ValueError as exc:  # too many fields
            raise SignatureError("malformed query") from exc
    if isinstance(params, Mapping):
        lists = getattr(params, "lists", None)  # werkzeug MultiDict: keep every value
        if callable(lists):
            return [(str(k), str(v)) for k, vs in lists() for v in vs]
        out: list[tuple[str, str]] = []
        for k, v in params.items():
            if isinstance(v, (list, tuple)):
                out.extend((str(k), str(x)) for x in v)
            else:
                out.append((str(k), str(v)))
        return out
    return [(str(k), str(v)) for k, v in params]


def _group(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for k, v in pairs:
        grouped.setdefault(k, []).append(v)
    return grouped


def _check_single_values(grouped: Mapping[str, list[str]]) -> None:
    for name in _SINGLE_VALUE_PARAMS:
        if len(grouped.get(name, ())) > 1:
            raise SignatureError(f"repeated {name}")


def _check_timestamp(grouped: Mapping[str, list[str]], now: float | None, max_age: int) -> None:
    """Replay window: ±90 s, as Shopify's JS library (shopify-app-js) enforces."""
    values = grouped.get("timestamp")
    if not values:
        raise SignatureError("missing timestamp")
    raw = values[0]
    if not _TIMESTAMP.fullmatch(raw):
        raise SignatureError("malformed timestamp")
    ts = int(raw)
    current = time.time() if now is None else now
    if ts < current - max_age:
        raise SignatureError("stale timestamp")
    if ts > current + max_age:
        raise SignatureError("timestamp in the future")


def _digest_from_hex(grouped: Mapping[str, list[str]], name: str) -> bytes:
    values = grouped.get(name)
    if not values or not values[0]:
        raise SignatureError(f"missing {name}")
    if not _HEX_SHA256.fullmatch(values[0]):
        raise SignatureError(f"malformed {name}")
    return bytes.fromhex(values[0])


def _matches(expected: bytes, keys: list[bytes], messages: Iterable[str]) -> bool:
    ok = False
    for msg in messages:
        data = msg.encode("utf-8")
        for key in keys:
            ok |= hmac.compare_digest(hmac.new(key, data, hashlib.sha256).digest(), expected)
    return ok


# --------------------------------------------------------------------------- webhooks


def webhook_hmac(secret: str, body: bytes) -> str:
    """Base64 HMAC-SHA256 of the raw body, as sent in X-Shopify-Hmac-Sha256
    (shopify.dev webhooks/verify-deliveries)."""
    return base64.b64encode(hmac.new(_key(secret), body, hashlib.sha256).digest()).decode("ascii")


def verify_webhook(body: bytes, header: str | None, secrets: Sequence[str]) -> bool:
    """True if ``header`` is the base64 HMAC of the *raw* body under any secret.

    Pass ``request.get_data()`` before anything parses JSON: re-serialised JSON
    never matches.
    """
    keys = _keys(secrets)
    if not header or not isinstance(header, (str, bytes)):
        return False
    try:
        expected = base64.b64decode(header, validate=True)
    except (binascii.Error, ValueError, TypeError):
        return False
    if len(expected) != hashlib.sha256().digest_size:
        return False
    ok = False
    for key in keys:
        ok |= hmac.compare_digest(hmac.new(key, body, hashlib.sha256).digest(), expected)
    return ok


# --------------------------------------------------------------------------- OAuth / admin query HMAC


def _canonical_query_pairs(grouped: Mapping[str, list[str]]) -> list[tuple[str, str]]:
    """(key, value) pairs to sign: hmac/signature dropped, ``k[]`` arrays as JSON lists.

    ``ids[]=1&ids[]=2`` is signed as ``ids=["1", "2"]`` (JSON, ", " separator,
    original order), as shopify_python_api's ``__encoded_params_for_signature`` does.
    Other repeated keys are joined with "," (as the JS library does) so that every
    value that reached the app is covered by the signature.
    """
    out: list[tuple[str, str]] = []
    for k, values in grouped.items():
        if k in ("hmac", "signature"):
            continue
        if k.endswith("[]"):
            out.append((k[:-2], json.dumps(values)))
        else:
            out.append((k, ",".join(values)))
    return out


def _query_message_raw(pairs: list[tuple[str, str]]) -> str:
    """Python-library form: decoded values; escape % and = in keys, % in values, & anywhere."""
    encoded = []
    for k, v in pairs:
        k = k.replace("%", "%25").replace("=", "%3D")
        v = v.replace("%", "%25")
        encoded.append(f"{k}={v}".replace("&", "%26"))
    return "&".join(sorted(encoded))


def _js_encode(s: str) -> str:
    # URLSearchParams (application/x-www-form-urlencoded) leaves only A-Z a-z 0-9 * - . _
    # unescaped; the JS library then turns "+" (space) into "%20".
    return quote(s, safe="*").replace("~", "%7E")


def _query_message_percent(pairs: list[tuple[str, str]]) -> str:
    """JS-library form: sorted by key, keys and values percent-encoded (space = %20)."""
    ordered = sorted(pairs, key=lambda kv: kv[0])
    return "&".join(f"{_js_encode(k)}={_js_encode(v)}" for k, v in ordered)


def _query_messages(grouped: Mapping[str, list[str]]) -> tuple[str, str]:
    pairs = _canonical_query_pairs(grouped)
    return _query_message_raw(pairs), _query_message_percent(pairs)


def query_hmac(secret: str, params: QueryParams, *, form: Literal["raw", "percent"] = "raw") -> str:
    """Hex HMAC of an admin/OAuth query (shopify.dev authorization-code-grant);
    ``hmac``/``signature`` are ignored.

    ``form="raw"`` is the Python-library message (the one the docs' examples use);
    ``form="percent"`` is the JS-library percent-encoded message. They coincide for
    Shopify's usual params.
    """
    raw, percent = _query_messages(_group(_pairs(params)))
    msg = raw if form == "raw" else percent
    return hmac.new(_key(secret), msg.encode("utf-8"), hashlib.sha256).hexdigest()


def verify_query_hmac(
    params: QueryParams,
    secrets: Sequence[str],
    *,
    now: float | None = None,
    max_age: int = 90,
) -> None:
    """Raise SignatureError unless the OAuth/admin-launch query carries a valid ``hmac``.

    Accepts either escaping form (Shopify's Python or JS library): both are HMACs under
    the secret, and Shopify's exact escaping for unusual characters is undocumented.
    """
    keys = _keys(secrets)
    grouped = _group(_pairs(params))
    _check_single_values(grouped)
    expected = _digest_from_hex(grouped, "hmac")
    _check_timestamp(grouped, now, max_age)
    if not _matches(expected, keys, dict.fromkeys(_query_messages(grouped))):
        raise SignatureError("invalid hmac")


# --------------------------------------------------------------------------- app proxy


def _proxy_message(grouped: Mapping[str, list[str]]) -> str:
    # Official docs: query_hash.delete("signature"); collect "k=#{Array(v).join(',')}"; sort; join("")
    return "".join(sorted(f"{k}={','.join(vs)}" for k, vs in grouped.items() if k != "signature"))


def proxy_signature(secret: str, params: QueryParams) -> str:
    """Hex HMAC of an app-proxy query (shopify.dev authenticate-app-proxies): decoded
    values, repeats comma-joined, no separator."""
    msg = _proxy_message(_group(_pairs(params)))
    return hmac.new(_key(secret), msg.encode("utf-8"), hashlib.sha256).hexdigest()


def verify_proxy_signature(
    params: QueryParams,
    secrets: Sequence[str],
    *,
    now: float | None = None,
    max_age: int = 90,
) -> None:
    """Raise SignatureError unless the app-proxy query carries a valid ``signature``.

    A valid signature proves the query is untampered, not who the customer is allowed
    to see: still check that ``logged_in_customer_id`` owns the requested data.
    """
    keys = _keys(secrets)
    grouped = _group(_pairs(params))
    _check_single_values(grouped)
    expected = _digest_from_hex(grouped, "signature")
    _check_timestamp(grouped, now, max_age)
    if not _matches(expected, keys, [_proxy_message(grouped)]):
        raise SignatureError("invalid signature")


# --------------------------------------------------------------------------- shop domains

_SHOP_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?")
_SHOP_DOMAIN = re.compile(r"([a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?)\.myshopify\.com")
_ADMIN_STORE = re.compile(r"admin\.shopify\.com/store/([a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?)/?")


def normalize_shop_domain(value: str | None) -> str | None:
    """Canonical ``name.myshopify.com`` or None.

    Everything that later becomes an API host or a redirect target passes through
    here, so the match is anchored at both ends (``fullmatch``: ``$`` would accept a
    trailing newline) and ASCII-only (``"\\u212a".lower() == "k"``).
    """
    if not isinstance(value, str) or not value or not value.isascii():
        return None
    v = value.lower()
    for scheme in ("https://", "http://"):
        if v.startswith(scheme):
            v = v[len(scheme):]
            break
    m = _ADMIN_STORE.fullmatch(v)
    if m:
        return f"{m.group(1)}.myshopify.com"
    if v.endswith("/"):
        v = v[:-1]
    if _SHOP_NAME.fullmatch(v):
        return f"{v}.myshopify.com"
    m = _SHOP_DOMAIN.fullmatch(v)
    return f"{m.group(1)}.myshopify.com" if m else None


# --------------------------------------------------------------------------- session tokens

_REQUIRED_CLAIMS = ["exp", "nbf", "iss", "dest", "aud", "sub", "jti", "sid"]


def _https_origin_host(url: Any) -> str | None:
    """Shop domain of an ``https://{shop}.myshopify.com[/path]`` URL, else None."""
    if not isinstance(url, str) or not url.isascii() or not url.isprintable() or " " in url:
        return None  # urlsplit silently drops tabs/newlines; refuse them instead
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme != "https" or parts.query or parts.fragment:
        return None
    shop = normalize_shop_domain(parts.netloc)  # rejects ports, userinfo, odd hosts
    return shop if shop is not None and parts.netloc.lower() == shop else None


def _numeric_date(payload: Mapping[str, Any], claim: str) -> float:
    value = payload.get(claim)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SignatureError(f"malformed {claim}")
    return float(value)


def decode_session_token(
    token: str,
    *,
    api_key: str,
    secrets: Sequence[str],
    leeway: int = 10,
    now: float | None = None,
) -> dict:
    """Verify an App Bridge session token (shopify.dev session-tokens) and return its claims plus ``"shop"``.

    Time checks are always done here (PyJWT's are disabled) so that production and
    tests with a pinned ``now`` run the same code. ``leeway`` defaults to the 10 s
    all official libraries use, because App Bridge often sends a slightly future nbf.
    """
    if not api_key:
        raise ValueError("api_key is required")
    keys = _keys(secrets)
    if not isinstance(token, str) or not token:
        raise SignatureError("missing token")

    payload: dict[str, Any] | None = None
    for key in keys:
        try:
            payload = jwt.decode(
                token,
                key,
                algorithms=["HS256"],
                audience=api_key,
                options={
                    "require": _REQUIRED_CLAIMS,
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                    "strict_aud": True,
                },
            )
            break
        except jwt.InvalidSignatureError:
            continue
        except jwt.InvalidAlgorithmError as exc:
            raise SignatureError("algorithm not allowed") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise SignatureError(f"missing claim {exc.claim}") from exc
        except jwt.InvalidAudienceError as exc:
            raise SignatureError("wrong audience") from exc
        except jwt.PyJWTError as exc:  # DecodeError, bad sub/jti types, ...
            raise SignatureError("malformed token") from exc
    if payload is None:
        raise SignatureError("bad signature")

    current = time.time() if now is None else now
    if _numeric_date(payload, "exp") <= current - leeway:
        raise SignatureError("expired")
    if _numeric_date(payload, "nbf") > current + leeway:
        raise SignatureError("not yet valid")
    if "iat" in payload and _numeric_date(payload, "iat") > current + leeway:
        raise SignatureError("issued in the future")

    dest_shop = _https_origin_host(payload.get("dest"))
    if dest_shop is None:
        raise SignatureError("invalid dest")
    if _https_origin_host(payload.get("iss")) != dest_shop:
        raise SignatureError("iss and dest differ")

    return {**payload, "shop": dest_shop}
