"""HTTP errors under the JSON APIs answer JSON, not werkzeug's HTML page.

A URL that matches no route (`/api/admin/notifications/-1/retry`), a method
a route does not take (405) or a body werkzeug refuses is answered before
any blueprint runs, so the blueprints' own handlers never see it: this one,
on the app, does, for paths under the JSON APIs' prefixes only. The answer
is `{"error": "not_found", "message": …}` with the error's own status and
headers (405 keeps its `Allow`)."""

from __future__ import annotations

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

PREFIXES = ("/api/", "/proxy/api/", "/widgets/api/")


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
    app.register_error_handler(HTTPException, _answer)
