"""Is the database there, and at this code's schema? One line when it is not.

An unreachable server, or a fresh database nobody ran `aftercare db upgrade`
on, otherwise surfaces as a 70-line traceback from deep inside SQLAlchemy that
names neither the cause nor the fix. ``check()`` asks up front (the worker and
the web server before they start); ``explain()`` asks after a database error,
so that a real bug still gets its traceback: only when the probe finds the
server unreachable or the schema behind does the error become one line.
The web app answers such a request 503 and logs the line, at most once a
minute while it lasts, instead of a traceback per request.
"""

from __future__ import annotations

import ast
import logging
import time
from importlib.resources import files

from flask import Flask, current_app, jsonify
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError

from .db import engine

log = logging.getLogger(__name__)

_HEADS = "aftercare.schema_heads"
_LOGGED = "aftercare.dbcheck_logged"
LOG_EVERY_SECONDS = 60.0


class DatabaseNotReady(Exception):
    """The database cannot be used by this code; the message is one line
    saying what is wrong and what to do."""


RETRY_AFTER_SECONDS = 5


def init_app(app: Flask) -> None:
    app.register_error_handler(SQLAlchemyError, _request_failed)


def _lost_connection(error: SQLAlchemyError) -> bool:
    """A failure of the connection rather than of the statement. SQLite calls
    both kinds OperationalError ("no such column" is a bug), so there only a
    lock held past the busy timeout counts."""
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated or isinstance(error, InterfaceError):
        return True
    if isinstance(error, OperationalError):
        if type(error.orig).__module__.startswith("sqlite3"):
            return "locked" in str(error.orig)
        return True
    return False


def check(app: Flask) -> None:
    """Raise DatabaseNotReady unless the database answers and its schema is
    at this code's head (a revision this code does not know passes: newer code
    upgraded it, and old processes keep running during a rolling deploy)."""
    problem = _probe(app, strict=True)
    if problem:
        raise DatabaseNotReady(problem)


def explain(app: Flask, error: SQLAlchemyError) -> DatabaseNotReady | None:
    """After ``error``: the one-line reason if the database is unreachable or
    its schema is not this code's; None if the database looks fine (a bug)."""
    problem = _probe(app, strict=False)
    return DatabaseNotReady(problem) if problem else None


def where(app: Flask) -> str:
    """The database URL without its password, for messages."""
    return make_url(app.config["DATABASE_URL"]).render_as_string(hide_password=True)


def reachable(app: Flask) -> None:
    """Raise DatabaseNotReady if the database does not answer."""
    _current(app)


def _current(app: Flask) -> set[str]:
    """The schema revisions the database is at (none before `db upgrade`)."""
    try:
        with engine(app).connect() as connection:
            # Read alembic_version by hand: alembic's MigrationContext logs two INFO lines each time.
            if not inspect(connection).has_table("alembic_version"):
                return set()
            return set(connection.scalars(text("SELECT version_num FROM alembic_version")))
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        hint = "check AFTERCARE_DATABASE_URL" + ("" if engine(app).dialect.name == "sqlite"
                                                 else " and that the server is running")
        raise DatabaseNotReady(
            f"cannot reach the database {where(app)}: {reason[0] if reason else type(exc).__name__} ({hint})"
        ) from None


def _probe(app: Flask, *, strict: bool) -> str | None:
    try:
        current = _current(app)
    except DatabaseNotReady as exc:
        return str(exc)
    heads = _heads(app)
    if current == heads:
        return None
    if not current:
        return f"the database {where(app)} has no Aftercare tables yet: run `aftercare db upgrade`"
    known = _known(app)
    if current <= known:
        return (f"the database {where(app)} is at schema revision {', '.join(sorted(current))}, this code needs "
                f"{', '.join(sorted(heads))}: run `aftercare db upgrade`")
    if strict:
        return None
    return (f"the database {where(app)} is at schema revision {', '.join(sorted(current - known))}, which this "
            "version of Aftercare does not know (a newer version upgraded it): run that version")


def _scripts(app: Flask):
    # Alembic only when asked: the web app's start-up should not pay for it.
    from alembic.script import ScriptDirectory

    from .migrate import alembic_config

    return ScriptDirectory.from_config(alembic_config(app))


def _heads(app: Flask) -> set[str]:
    if _HEADS not in app.extensions:  # the revision files do not change while the process runs
        app.extensions[_HEADS] = script_heads()
    return app.extensions[_HEADS]


def script_heads() -> set[str]:
    """The head revisions of migrations/versions, read from the files'
    ``revision`` and ``down_revision`` lines: what Alembic's ScriptDirectory
    says (tests/test_dbcheck.py), without importing Alembic, Mako and
    Pygments into every worker and web process (0.25 s, 10 MiB)."""
    revisions, parents = set(), set()
    for path in files("migrations").joinpath("versions").iterdir():
        if not path.name.endswith(".py"):
            continue
        values = {}
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, (ast.Assign, ast.AnnAssign)):
                for target in (node.targets if isinstance(node, ast.Assign) else [node.target]):
                    if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
                        values[target.id] = ast.literal_eval(node.value)
        if "revision" in values:
            revisions.add(values["revision"])
            down = values.get("down_revision")
            parents |= set(down) if isinstance(down, (tuple, list)) else {down}
    return revisions - parents


def _known(app: Flask) -> set[str]:
    return {script.revision for script in _scripts(app).walk_revisions()}


def _request_failed(error: SQLAlchemyError):
    app = current_app._get_current_object()
    problem = explain(app, error)
    if problem is None and _lost_connection(error):
        # The server went away and is already back (a restart, a failover):
        # the probe finds nothing wrong, but this request still failed for it.
        problem = DatabaseNotReady(f"the database connection was lost ({type(error.orig).__name__})")
    if problem is None:
        raise error  # a bug, not the database's state: Flask logs it with its traceback (500)
    logged = app.extensions.setdefault(_LOGGED, {})
    now = time.monotonic()
    message = str(problem)
    if now - logged.get(message, -LOG_EVERY_SECONDS) >= LOG_EVERY_SECONDS:
        logged[message] = now
        log.error("%s", message)
    # The URL and the driver's words stay in the log; the caller learns only this.
    # Shopify retries a webhook not answered 2xx; nothing answered 200 is lost.
    return (jsonify({"status": "error", "message": "database unavailable; try again shortly"}), 503,
            {"Retry-After": str(RETRY_AFTER_SECONDS)})
