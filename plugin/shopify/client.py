"""The GraphQL Admin API client (shopify.dev graphql-admin rate-limits).

``AdminClient`` posts GraphQL to ``{SHOPIFY_BASE_URL}/admin/api/{version}/graphql.json``
with ``X-Shopify-Access-Token``. It waits out throttling (GraphQL ``THROTTLED`` from the
bucket's numbers, HTTP 429 from ``Retry-After``) and transient failures (5xx, connection
errors, timeouts: exponential backoff with jitter) until the total wait would exceed
``max_wait``; then it raises ``ShopifyAPIError``. 401/403 raise ``ShopifyAuthError`` at
once. Other GraphQL ``errors`` raise; ``userErrors`` are data, for the caller to judge.

No access token ever appears in a log line, an exception message or a repr.

Note on retries: a GraphQL request that timed out may have been executed by Shopify. The
client retries it anyway (reads are safe); mutations that must not run twice need to be
idempotent in themselves or checked by the caller (``ensure_webhook_subscriptions`` treats
"already been taken" as present for that reason).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import requests

__all__ = ["ShopifyAPIError", "ShopifyAuthError", "AdminClient"]

log = logging.getLogger(__name__)

USER_AGENT = "Aftercare/0.1 (+https://github.com/aftercare; python-requests)"
CONNECT_TIMEOUT = 3.05  # seconds; the read timeout is the caller's ``timeout``


class ShopifyAPIError(Exception):
    """The Admin API call failed. ``status`` is the HTTP status (None if no answer);
    ``errors`` the GraphQL error objects or messages. str() never contains the token."""

    def __init__(self, message: str, *, status: int | None = None, errors: list | None = None):
        super().__init__(message)
        self.status = status
        self.errors = list(errors or [])


class ShopifyAuthError(ShopifyAPIError):
    """401/403: the access token is invalid, expired or revoked. Callers may refresh once."""


class _Retry(Exception):
    """Internal: the attempt failed in a way worth waiting out."""

    def __init__(self, reason: str, delay: float | None, status: int | None = None, *, executed: bool = True):
        super().__init__(reason)
        self.reason = reason
        self.delay = delay  # None → exponential backoff
        self.status = status
        # False when Shopify surely did not run the request (throttled); True when it may have.
        self.executed = executed


class AdminClient:
    """One shop's GraphQL Admin API. Use as a context manager (or call close()) when the
    client created its own ``requests.Session``. Not for sharing between threads (a
    ``requests.Session`` is not thread-safe): one client per thread or per job."""

    #: Smallest wait after a THROTTLED answer, and after a 429 (whatever its Retry-After), seconds.
    throttle_floor = 0.25
    retry_after_floor = 0.05
    #: Exponential backoff for transient failures: base * 2**n, capped, with jitter.
    backoff_base = 0.25
    backoff_cap = 8.0

    def __init__(self, shop_domain: str, access_token: str, *, base_url_template: str, api_version: str,
                 session: requests.Session | None = None, timeout: float = 10.0, max_wait: float = 60.0,
                 sleep: Callable[[float], Any] = time.sleep):
        self.shop_domain = shop_domain
        self._token = access_token
        self.api_version = api_version
        self.url = f"{base_url_template.format(shop=shop_domain).rstrip('/')}/admin/api/{api_version}/graphql.json"
        self._own_session = session is None
        self.session = session if session is not None else requests.Session()
        self.timeout = timeout
        self.max_wait = max_wait
        self.sleep = sleep
        #: ``extensions.cost`` of the last successful answer (for callers that pace themselves).
        self.last_cost: dict | None = None

    def __repr__(self) -> str:
        return f"<AdminClient {self.shop_domain} {self.api_version}>"

    def close(self) -> None:
        if self._own_session:
            self.session.close()

    def __enter__(self) -> AdminClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ------------------------------------------------------------------ public

    def graphql(self, query: str, variables: dict | None = None, *, repeat: bool = True) -> dict:
        """Run one query or mutation and return its ``data``. ``repeat=False`` is
        for a mutation that must not run twice: only throttled answers (which
        Shopify did not run) are waited out and sent again; a timeout, a lost
        connection or a 5xx, after which Shopify may have run it, raises at once
        (``ShopifyAPIError``) for the caller to check what happened."""
        payload = {"query": query, "variables": variables or {}}
        headers = {
            "X-Shopify-Access-Token": self._token,
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        waited = 0.0
        failures = 0
        while True:
            started = time.monotonic()
            try:
                return self._attempt(payload, headers)
            except _Retry as retry:
                waited += time.monotonic() - started  # time lost to e.g. a timeout counts too
                delay = retry.delay if retry.delay is not None else self._backoff(failures)
                failures += 1
                if retry.executed and not repeat:
                    raise self._error(f"Shopify {retry.reason} for {self.shop_domain}; not sent again "
                                      "(it may have run)", status=retry.status) from None
                if waited + delay > self.max_wait:
                    raise self._error(
                        f"Shopify {retry.reason} for {self.shop_domain}; gave up after waiting {waited:.2f}s "
                        f"(max_wait {self.max_wait:g}s)", status=retry.status) from None
                log.warning("Shopify %s for %s; retrying in %.2fs", retry.reason, self.shop_domain, delay)
                self.sleep(delay)
                waited += delay

    def paginate(self, query: str, variables: dict, connection_path: list[str]) -> Iterator[dict]:
        """Yield every node of a connection, page by page.

        The query must declare ``$after: String`` and pass it to the connection, and select
        ``pageInfo { hasNextPage endCursor }`` plus ``nodes { … }`` or ``edges { node { … } }``.
        ``connection_path`` is the keys from ``data`` to the connection, e.g. ``["orders"]``.
        """
        variables = dict(variables or {})
        after = variables.pop("after", None)
        seen_cursors: set[str] = set()
        while True:
            data = self.graphql(query, {**variables, "after": after})
            conn: Any = data
            for key in connection_path:
                conn = conn.get(key) if isinstance(conn, dict) else None
            if not isinstance(conn, dict):
                raise ShopifyAPIError(f"no connection at {'.'.join(connection_path)} in Shopify's answer")
            if "nodes" in conn:
                nodes = conn["nodes"] or []
            else:
                nodes = [edge["node"] for edge in conn.get("edges") or []]
            yield from nodes
            page = conn.get("pageInfo") or {}
            if not page.get("hasNextPage"):
                return
            after = page.get("endCursor")
            if not after or after in seen_cursors:
                raise ShopifyAPIError(f"Shopify said {'.'.join(connection_path)} has a next page "
                                      "but gave no new endCursor")
            seen_cursors.add(after)

    # ------------------------------------------------------------------ internals

    def _attempt(self, payload: dict, headers: dict) -> dict:
        try:
            resp = self.session.post(self.url, json=payload, headers=headers,
                                     timeout=(min(CONNECT_TIMEOUT, self.timeout), self.timeout), allow_redirects=False)
        except requests.Timeout:  # ConnectTimeout and ReadTimeout
            raise _Retry(f"did not answer within {self.timeout:g}s", None) from None
        except requests.ConnectionError:
            raise _Retry("could not be reached (connection error)", None) from None
        except requests.RequestException as exc:
            raise self._error(f"request to Shopify failed for {self.shop_domain}: {type(exc).__name__}") from None

        status = resp.status_code
        try:
            if status in (401, 403):
                raise ShopifyAuthError(self._scrub(
                    f"Shopify refused the access token for {self.shop_domain} ({status}): {self._body_errors(resp)}"),
                    status=status, errors=self._error_list(resp))
            if status == 429:
                retry_after = self._retry_after(resp)
                if retry_after is not None:
                    retry_after = max(self.retry_after_floor, retry_after)
                raise _Retry("throttled the request (429)", retry_after, status=429, executed=False)
            if status >= 500:
                raise _Retry(f"answered {status}", None, status=status)
            if status != 200:
                raise self._error(f"Shopify answered {status} for {self.shop_domain}: {self._body_errors(resp)}",
                                  status=status, errors=self._error_list(resp))
            try:
                body = resp.json()
            except ValueError:
                raise self._error(f"invalid JSON from Shopify for {self.shop_domain} "
                                  f"({resp.headers.get('Content-Type', 'no content type')}, {len(resp.content)} bytes)",
                                  status=status) from None
        finally:
            resp.close()
        if not isinstance(body, dict):
            raise self._error(f"invalid JSON from Shopify for {self.shop_domain}: not an object", status=status)

        cost = (body.get("extensions") or {}).get("cost")
        errors = body.get("errors")
        if errors:
            error_list = errors if isinstance(errors, list) else [errors]
            if any(isinstance(e, dict) and (e.get("extensions") or {}).get("code") == "THROTTLED" for e in error_list):
                raise _Retry("throttled the query (THROTTLED)", self._throttle_delay(cost), status=status,
                             executed=False)
            raise self._error(f"Shopify GraphQL errors for {self.shop_domain}: {'; '.join(_messages(errors))}",
                              status=status, errors=error_list)
        if cost is not None:
            self.last_cost = cost
        data = body.get("data")
        if not isinstance(data, dict):
            raise self._error(f"Shopify answered without data for {self.shop_domain}", status=status)
        return data

    def _throttle_delay(self, cost: dict | None) -> float | None:
        """(requested − available) / restoreRate, at least ``throttle_floor``; None if unknown."""
        if not isinstance(cost, dict):
            return None
        bucket = cost.get("throttleStatus") or {}
        try:
            requested = float(cost.get("requestedQueryCost") or 0)
            available = float(bucket["currentlyAvailable"])
            rate = float(bucket["restoreRate"])
            maximum = float(bucket.get("maximumAvailable") or 0)
        except (KeyError, TypeError, ValueError):
            return None
        if maximum and requested > maximum:
            raise self._error(f"query cost {requested:g} exceeds Shopify's bucket of {maximum:g} "
                              f"for {self.shop_domain}; ask for fewer items per page")
        if rate <= 0:
            return None
        return max(self.throttle_floor, (requested - available) / rate)

    @staticmethod
    def _retry_after(resp: requests.Response) -> float | None:
        value = resp.headers.get("Retry-After")
        if not value:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())

    def _backoff(self, failures: int) -> float:
        delay = min(self.backoff_cap, self.backoff_base * (2 ** failures))
        return delay / 2 + random.uniform(0, delay / 2)

    def _scrub(self, text: str) -> str:
        return text.replace(self._token, "[access token]") if self._token else text

    def _error(self, message: str, *, status: int | None = None, errors: list | None = None) -> ShopifyAPIError:
        return ShopifyAPIError(self._scrub(message), status=status, errors=errors)

    @staticmethod
    def _error_list(resp: requests.Response) -> list:
        try:
            errors = resp.json().get("errors")
        except (ValueError, AttributeError):
            return []
        if errors is None:
            return []
        return errors if isinstance(errors, list) else [errors]

    def _body_errors(self, resp: requests.Response) -> str:
        try:
            body = resp.json()
        except ValueError:
            return f"{len(resp.content)} bytes of {resp.headers.get('Content-Type', 'unknown content')}"
        errors = body.get("errors") if isinstance(body, dict) else None
        return "; ".join(_messages(errors))[:500] if errors else "no error message"


def _messages(errors: Any) -> list[str]:
    if isinstance(errors, str):
        return [errors]
    if isinstance(errors, dict):
        if "message" in errors:
            return [str(errors["message"])]
        return [f"{k}: {v}" for k, v in errors.items()]
    if isinstance(errors, list):
        out = []
        for e in errors:
            out.extend(_messages(e))
        return out
    return [str(errors)]
