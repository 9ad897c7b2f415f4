"""The OAuth token endpoint, ``{SHOPIFY_BASE_URL}/admin/oauth/access_token``
(shopify.dev: authorization-code-grant, token-exchange, offline-access-tokens).

``exchange_code`` / ``refresh_token`` / ``exchange_session_token`` /
``migrate_to_expiring_token`` each return a ``TokenGrant`` or raise ``TokenEndpointError``.
An authorization code is never retried (it is single use); a refresh is retried once,
on a connection error only.

No access token, refresh token, code or client secret ever appears in a log line, an
exception message or a repr.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import requests

from .client import CONNECT_TIMEOUT, USER_AGENT

__all__ = [
    "TokenGrant",
    "TokenEndpointError",
    "exchange_code",
    "refresh_token",
    "exchange_session_token",
    "migrate_to_expiring_token",
]

log = logging.getLogger(__name__)

TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"
OFFLINE_TOKEN_TYPE = "urn:shopify:params:oauth:token-type:offline-access-token"


class TokenEndpointError(Exception):
    """The OAuth token endpoint failed. ``status`` is the HTTP status (None if unreachable),
    ``error`` the OAuth error code it answered (e.g. ``invalid_request``,
    ``invalid_subject_token``) if any. The message never contains a secret, code or token."""

    def __init__(self, message: str, *, status: int | None = None, error: str | None = None):
        super().__init__(message)
        self.status = status
        self.error = error


@dataclass(frozen=True)
class TokenGrant:
    """What the token endpoint granted. Tokens are kept out of repr()."""

    access_token: str = field(repr=False)
    scope: str
    expires_at: datetime | None
    refresh_token: str | None = field(repr=False)
    refresh_token_expires_at: datetime | None

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset(s.strip() for s in self.scope.split(",") if s.strip())

    @property
    def expiring(self) -> bool:
        return self.expires_at is not None


def _token_url(shop: str, base_url_template: str) -> str:
    return f"{base_url_template.format(shop=shop).rstrip('/')}/admin/oauth/access_token"


def _post_token(shop: str, body: dict, *, base_url_template: str, timeout: float, what: str,
                retry_connection_error: bool = False) -> TokenGrant:
    url = _token_url(shop, base_url_template)
    requested_at = datetime.now(timezone.utc)
    attempts = 2 if retry_connection_error else 1
    for attempt in range(attempts):
        try:
            resp = requests.post(url, json=body, headers={"Accept": "application/json", "User-Agent": USER_AGENT},
                                 timeout=(min(CONNECT_TIMEOUT, timeout), timeout), allow_redirects=False)
            break
        except requests.ConnectionError:  # includes ConnectTimeout: nothing reached Shopify
            if attempt + 1 < attempts:
                log.warning("token endpoint unreachable for %s; retrying once", shop)
                continue
            raise TokenEndpointError(f"token endpoint unreachable for {shop}") from None
        except requests.Timeout:  # ReadTimeout: Shopify may have used the grant, so no retry
            raise TokenEndpointError(f"token endpoint did not answer within {timeout:g}s for {shop}") from None
        except requests.RequestException as exc:
            raise TokenEndpointError(f"token endpoint request failed for {shop}: {type(exc).__name__}") from None

    with resp:
        status = resp.status_code
        try:
            answer = resp.json()
        except ValueError:
            answer = None
    if status == 200:
        if not isinstance(answer, dict):
            raise TokenEndpointError(f"token endpoint answered invalid JSON for {shop}", status=status)
        if not isinstance(answer.get("access_token"), str) or not answer["access_token"]:
            raise TokenEndpointError(f"token endpoint answered without an access_token for {shop}", status=status)
        return _grant(answer, requested_at)
    error = answer.get("error") if isinstance(answer, dict) and isinstance(answer.get("error"), str) else None
    if status in (401, 403):
        raise TokenEndpointError(f"token endpoint rejected the app's client credentials for {shop} "
                                 f"(answered {status}{': ' + error if error else ''})", status=status, error=error)
    if 400 <= status < 500 and error:
        raise TokenEndpointError(f"token endpoint rejected the {what}: {error}", status=status, error=error)
    raise TokenEndpointError(f"token endpoint answered {status} for {shop}", status=status, error=error)


def _grant(answer: dict, requested_at: datetime) -> TokenGrant:
    def at(seconds_key: str) -> datetime | None:
        value = answer.get(seconds_key)
        if value in (None, ""):
            return None
        try:
            return requested_at + timedelta(seconds=int(value))
        except (TypeError, ValueError):
            raise TokenEndpointError(f"token endpoint answered an invalid {seconds_key}") from None

    refresh = answer.get("refresh_token")
    return TokenGrant(
        access_token=answer["access_token"],
        scope=str(answer.get("scope") or ""),
        expires_at=at("expires_in"),
        refresh_token=refresh if isinstance(refresh, str) and refresh else None,
        refresh_token_expires_at=at("refresh_token_expires_in"),
    )


def exchange_code(shop: str, code: str, *, api_key: str, api_secret: str, base_url_template: str,
                  timeout: float = 10, expiring: bool = True) -> TokenGrant:
    """Authorization code grant, step 4 (shopify.dev authorization-code-grant).
    Never retried: a code is single use."""
    body = {"client_id": api_key, "client_secret": api_secret, "code": code, "expiring": "1" if expiring else "0"}
    return _post_token(shop, body, base_url_template=base_url_template, timeout=timeout, what="code")


def refresh_token(shop: str, refresh_token: str, *, api_key: str, api_secret: str, base_url_template: str,
                  timeout: float = 10) -> TokenGrant:
    """A new access token and a new refresh token (shopify.dev offline-access-tokens); the old refresh token dies.
    Retried once on a connection error only (the request never reached Shopify)."""
    body = {"client_id": api_key, "client_secret": api_secret, "grant_type": "refresh_token",
            "refresh_token": refresh_token}
    return _post_token(shop, body, base_url_template=base_url_template, timeout=timeout, what="refresh token",
                       retry_connection_error=True)


def exchange_session_token(shop: str, session_token: str, *, api_key: str, api_secret: str, base_url_template: str,
                           timeout: float = 10, expiring: bool = True) -> TokenGrant:
    """Token exchange (shopify.dev token-exchange): an App Bridge session token for an offline access token.
    ``shop`` must come from the verified token's ``dest`` claim."""
    body = {
        "client_id": api_key,
        "client_secret": api_secret,
        "grant_type": TOKEN_EXCHANGE_GRANT,
        "subject_token": session_token,
        "subject_token_type": ID_TOKEN_TYPE,
        "requested_token_type": OFFLINE_TOKEN_TYPE,
        "expiring": "1" if expiring else "0",
    }
    return _post_token(shop, body, base_url_template=base_url_template, timeout=timeout, what="session token")


def migrate_to_expiring_token(shop: str, access_token: str, *, api_key: str, api_secret: str, base_url_template: str,
                              timeout: float = 10) -> TokenGrant:
    """Swap a non-expiring offline token for an expiring one (shopify.dev offline-access-tokens). Irreversible: the old
    token is revoked by Shopify, so the caller must store the new grant at once."""
    body = {
        "client_id": api_key,
        "client_secret": api_secret,
        "grant_type": TOKEN_EXCHANGE_GRANT,
        "subject_token": access_token,
        "subject_token_type": OFFLINE_TOKEN_TYPE,
        "requested_token_type": OFFLINE_TOKEN_TYPE,
        "expiring": "1",
    }
    return _post_token(shop, body, base_url_template=base_url_template, timeout=timeout, what="offline token")
