"""Request logs without secrets or personal data from query strings.

Shopify puts credentials in query strings: the embedded admin's `id_token`
(a session token), the OAuth callback's `code`, signatures, and the app
proxy's `logged_in_customer_id`. Request logs keep each parameter's name but
only the values of a few harmless ones (which shop, when), in the request line
and in the Referer alike. Two request logs exist: werkzeug's (`aftercare run`
and the demo) gets a filter, gunicorn's (`aftercare serve`) a logger class
(gunicorn_log.py, apart so that only gunicorn pays for importing gunicorn).
"""

from __future__ import annotations

import logging
import re

from flask import Flask

# Parameters whose values are kept in the log; every other value is masked.
KEPT = frozenset({"shop", "timestamp", "embedded", "locale", "host", "from", "to", "by", "days"})
MASK = "***"

_PARAM = re.compile(r'(?P<lead>[?&])(?P<name>[^=&#\s"]*)=(?P<value>[^&#\s"]*)')


def mask_query(text: str) -> str:
    """``text`` (a request line, URL or query string) with query values masked."""
    if "=" not in text:
        return text
    bare = "?" not in text and " " not in text  # a query string on its own
    masked = _PARAM.sub(_mask_one, "?" + text if bare else text)
    return masked[1:] if bare else masked


def _mask_one(match: re.Match) -> str:
    name = match["name"]
    value = match["value"] if name.lower() in KEPT else MASK
    return f"{match['lead']}{name}={value}"


class _WerkzeugFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(mask_query(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = mask_query(record.msg)
        return True


_FILTER = _WerkzeugFilter()


def init_app(app: Flask) -> None:
    """werkzeug's request log (the development server) masks query values."""
    logging.getLogger("werkzeug").addFilter(_FILTER)  # once: the same filter is added only once
