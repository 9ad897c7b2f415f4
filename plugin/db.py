"""Database engine and sessions.

One engine per app, kept in ``app.extensions``. Requests and commands get one
session each (``get_session()``), closed when the request or app context ends;
the worker opens its own with ``worker_session()``, and the webhook hot path
uses a bare Core connection (``write_connection()``).

SQLite is the embedded default: WAL so readers never wait for the writer, a
busy timeout so writers queue instead of failing, foreign keys on. Worker
transactions (and those of requests that may write) start with BEGIN IMMEDIATE
on SQLite, which takes the write lock up front: SQLite's stand-in for
PostgreSQL's FOR UPDATE SKIP LOCKED, so two workers never read the same due row.

SQL parameters hold personal data (emails, phones, addresses): engines are made
with ``hide_parameters=True`` so no exception text or log line carries them,
and describe_error() words a failure for storing without any value at all.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from collections.abc import Iterator

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

EXTENSION = "aftercare.db"
_IMMEDIATE = "aftercare_begin_immediate"


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection, _record):
            # Let SQLAlchemy emit BEGIN itself (see _sqlite_begin); pysqlite's own
            # implicit transactions cannot be made IMMEDIATE.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            immediate = conn.get_execution_options().get(_IMMEDIATE)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10, hide_parameters=True)


_QUOTED = re.compile(r'"[^"]*"|\'[^\']*\'')


def describe_error(exc: BaseException) -> str:
    """One line about a failure, fit to store and log: for database errors the
    driver's class and its first line with quoted values blanked, plus the
    constraint's name; never the SQL parameters or the DETAIL line (PostgreSQL
    repeats key values there)."""
    if not isinstance(exc, DBAPIError) or exc.orig is None:
        return f"{type(exc).__name__}: {exc}"
    orig = exc.orig
    first_line = (str(orig).strip().splitlines() or [""])[0]
    diag = getattr(orig, "diag", None)
    constraint = getattr(diag, "constraint_name", None)
    text = _QUOTED.sub('"…"', first_line)
    if constraint:
        text += f" (constraint {constraint})"
    return f"{type(exc).__name__} ({type(orig).__name__}): {text}"


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions[EXTENSION] = {
        "engine": engine,
        "sessions": sessionmaker(engine, expire_on_commit=False),
        "write_sessions": sessionmaker(  # BEGIN IMMEDIATE on SQLite
            engine.execution_options(**{_IMMEDIATE: True}), expire_on_commit=False
        ),
    }
    replica = app.config.get("DATABASE_REPLICA_URL")
    if replica:
        app.extensions[EXTENSION]["replica_sessions"] = sessionmaker(make_engine(replica), expire_on_commit=False)
    # Per request, and per app context (commands): a request inside an app
    # context that is already pushed (tests, nested contexts) shares its `g`.
    app.teardown_request(_close_session)
    app.teardown_appcontext(_close_session)


def engine(app: Flask | None = None) -> Engine:
    return (app or current_app).extensions[EXTENSION]["engine"]


def get_session() -> Session:
    """The session of the current request or app context.

    On SQLite, requests that may write (anything but GET/HEAD/OPTIONS) and
    commands take the write lock when their transaction begins: a transaction
    that reads first and writes later fails with "database is locked" if
    another writer committed in between."""
    if "db_session" not in g:
        may_write = not has_request_context() or request.method not in ("GET", "HEAD", "OPTIONS")
        kind = "write_sessions" if may_write else "sessions"
        g.db_session = current_app.extensions[EXTENSION][kind]()
    return g.db_session


def read_sessions(app: Flask | None = None) -> sessionmaker:
    """Sessions for reads that may be a few seconds behind (the dashboard,
    the metrics, the CSV export): on the read replica when
    AFTERCARE_DATABASE_REPLICA_URL is set, else on the primary. Nothing that
    writes, or reads what it has just written, uses them."""
    sessions = (app or current_app).extensions[EXTENSION]
    return sessions.get("replica_sessions") or sessions["sessions"]


def read_session() -> Session:
    """The current request's session of ``read_sessions()``, closed with the request."""
    if "db_read_session" not in g:
        g.db_read_session = read_sessions()()
    return g.db_read_session


def _close_session(_exc: BaseException | None) -> None:
    for name in ("db_session", "db_read_session"):
        session = g.pop(name, None)
        if session is not None:
            session.close()


@contextmanager
def write_connection(app: Flask | None = None) -> Iterator[Connection]:
    """A Core connection in a transaction, committed on exit. For hot paths
    that need no ORM (a Session costs about a millisecond per request more,
    see bench/) and whose first statement writes: on SQLite the write lock is
    then taken by that statement, not by BEGIN, so it is held for less time."""
    with engine(app).begin() as connection:
        yield connection


@contextmanager
def worker_session(app: Flask | None = None) -> Iterator[Session]:
    """A session whose transactions take the write lock at once on SQLite."""
    session = (app or current_app).extensions[EXTENSION]["write_sessions"]()
    try:
        yield session
    finally:
        session.close()


_BATCH = "aftercare.batch"


@contextmanager
def batch(session: Session) -> Iterator[dict]:
    """One unit of work (a worker batch of deliveries in one transaction, or
    one storefront answer). While it runs, what it reads once and nothing in
    it changes (a shop's settings, the orders loaded up front:
    orders.preload) is kept in the dict yielded, found by
    ``batch_memo(session)``, so that it costs one query per unit rather than
    one per delivery or per part of the answer. The caller clears it whenever
    a delivery may have changed such state; it is gone when the outermost
    batch ends (an inner one shares it)."""
    if _BATCH in session.info:
        yield session.info[_BATCH]
        return
    memo = session.info[_BATCH] = {}
    try:
        yield memo
    finally:
        session.info.pop(_BATCH, None)


def batch_memo(session: Session) -> dict | None:
    """The memo of the batch running in this session (``batch``), if any."""
    return session.info.get(_BATCH)
