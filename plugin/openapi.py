"""GET /openapi.yaml: the OpenAPI description of the JSON APIs, as kept in
the repository (plugin/openapi.yaml). Served as the file is: no parsing, no
YAML library at run time."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Response

PATH = Path(__file__).parent / "openapi.yaml"

bp = Blueprint("openapi", __name__)


@lru_cache(maxsize=1)
def _text() -> bytes:
    return PATH.read_bytes()


@bp.get("/openapi.yaml")
def description():
    response = Response(_text(), mimetype="application/yaml")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
