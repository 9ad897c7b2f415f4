"""Routing (plugin/routing.py): errors werkzeug raises before any of our code
(no route, wrong method) answer JSON under the JSON APIs, as their
description says, HTML elsewhere; an id too large for the database matches
no route."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("method, path, status", [
    ("POST", "/api/admin/notifications/-1/retry", 404),  # <int:…> matches no negative number
    ("GET", "/api/admin/data-exports/239938212327187841024", 404),  # nor one beyond BIGINT (was a 500)
    ("POST", "/api/admin/returns/9223372036854775808/approve", 404),
    ("GET", "/api/admin/no-such-thing", 404),
    ("GET", "/widgets/api/orders/", 404),
    ("DELETE", "/api/admin/settings", 405),
    ("PUT", "/proxy/api/lookup", 405),
])
def test_no_route_and_wrong_method_under_the_apis_answer_json(client, method, path, status):
    response = client.open(path, method=method)
    assert response.status_code == status
    assert response.is_json and response.json["error"] in ("not_found", "method_not_allowed")
    assert response.json["message"]
    if status == 405:  # and says what the route takes
        allowed = set(response.headers["Allow"].replace(" ", "").split(","))
        assert method not in allowed and allowed & {"GET", "POST", "PUT"}


def test_other_paths_keep_the_html_error_page(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and response.mimetype == "text/html"


def test_the_largest_id_still_reaches_the_view(client):
    response = client.get("/api/admin/data-exports/9223372036854775807")
    assert response.status_code == 401  # the route matched: its guard answered
