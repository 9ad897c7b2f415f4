"""URL routing for the whole app, before any view runs.

- Every `<int:…>` in a route is a database id (BIGINT): a number beyond
  2**63 - 1 matches no route (404) instead of overflowing the query (500).
- A URL that matches no route (`/api/admin/notifications/-1/retry`), a
  method a route does not take (405) or a body werkzeug refuses is answered
  before any blueprint runs, so the blueprints' own handlers never see it:
  under the JSON APIs' prefixes the answer is JSON, `{"error": "not_found",
  "message": …}`, with the error's status and headers (405 keeps `Allow`).
"""

from __future__ import annotations

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

PREFIXES = ("/api/", "/proxy/api/", "/widgets/api/")
MAX_ID = 2**63 - 1


class IdConverter(IntegerConverter):
    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def _answer(error: HTTPException):
    if not request.path.startswith(PREFIXES):
        return error
    response = jsonify(error=(error.name or "error").lower().replace(" ", "_"), message=error.description)
    response.status_code = error.code or 500
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def init_app(app: Flask) -> None:
    """Before any blueprint is registered: rules take their converters when added."""
    app.url_map.converters["int"] = IdConverter
    app.register_error_handler(HTTPException, _answer)
