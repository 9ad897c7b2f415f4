"""Daily counts of answers and invitations, kept by the database itself.

The metrics over a year would otherwise read every answer of the year
(a million rows take about half a second on PostgreSQL). survey_answer_days
and survey_invitation_days (models.py) hold, per shop, UTC day and breakdown
group, the answers per kind and score, and the invitations sent and
answered. Row triggers on survey_responses and survey_invitations keep them,
so every writer (record_answer's upsert, a test's INSERT, a cascade, the
shop's erasure) keeps them right without knowing they exist. The metrics
read them for the whole UTC days of a range and the answers themselves for
the hours at its ends (metrics.py).

A group is ("-", "") for all rows, or (dimension, "=" + value) with "" for
NULL. Product is not kept here: an answer is in as many product groups as
its order has products, more rows than it saves.

``install(bind)`` creates the triggers (the migration calls it) and
``backfill(bind)`` fills the tables from what exists (the migration, and a
bulk load that turned the triggers off). A later migration that recreates
either table (Alembic's batch mode on SQLite copies the table and drops it)
loses its triggers: it must call ``install`` and ``backfill`` again.
"""

from __future__ import annotations

from sqlalchemy import text

DIMENSIONS = ("carrier", "touchpoint", "lateness")
RESPONSE_COLUMNS = "shop_id, kind, score, carrier, touchpoint, days_late, answered_at"
INVITATION_COLUMNS = "shop_id, carrier, touchpoint, days_late, sent_at, answered_at"


def key_of(value: str | None) -> str:
    """The stored key of a group value (the SQL in _groups agrees)."""
    return "" if value is None else "=" + value


def value_of(key: str) -> str | None:
    return None if key == "" else key[1:]


def _lateness(row: str) -> str:
    # metrics.LATENESS, in SQL: NULL unknown, ≤ 0 on time, ≤ 2 one or two days, else three or more.
    return (f"CASE WHEN {row}.days_late IS NULL THEN 'unknown' WHEN {row}.days_late <= 0 THEN 'on_time' "
            f"WHEN {row}.days_late <= 2 THEN 'late_1_2_days' ELSE 'late_3_plus_days' END")


def _groups(row: str) -> list[tuple[str, str]]:
    """(dimension, key) SQL of each group a row counts in."""
    return [("'-'", "''"),
            ("'carrier'", f"coalesce('=' || {row}.carrier, '')"),
            ("'touchpoint'", f"coalesce('=' || {row}.touchpoint, '')"),
            ("'lateness'", f"'=' || {_lateness(row)}")]


def _day(dialect: str, column: str) -> str:
    return f"CAST(({column} AT TIME ZONE 'UTC') AS date)" if dialect == "postgresql" else f"date({column})"


def _answer_statements(dialect: str, row: str, sign: str) -> list[str]:
    day = _day(dialect, f"{row}.answered_at")
    out = []
    for dimension, key in _groups(row):
        if sign == "+":
            out.append(
                "INSERT INTO survey_answer_days (shop_id, day, dimension, key, kind, score, answers) "
                f"VALUES ({row}.shop_id, {day}, {dimension}, {key}, {row}.kind, {row}.score, 1) "
                "ON CONFLICT (shop_id, day, dimension, key, kind, score) DO UPDATE SET answers = "
                "survey_answer_days.answers + 1")
        else:
            out.append(
                "UPDATE survey_answer_days SET answers = answers - 1 "
                f"WHERE shop_id = {row}.shop_id AND day = {day} AND dimension = {dimension} AND key = {key} "
                f"AND kind = {row}.kind AND score = {row}.score")
    return out


def _invitation_statements(dialect: str, row: str, sign: str) -> list[str]:
    day = _day(dialect, f"{row}.sent_at")
    answered = f"CASE WHEN {row}.answered_at IS NULL THEN 0 ELSE 1 END"
    out = []
    for dimension, key in _groups(row):
        if sign == "+":
            out.append(
                "INSERT INTO survey_invitation_days (shop_id, day, dimension, key, sent, answered) "
                f"SELECT {row}.shop_id, {day}, {dimension}, {key}, 1, {answered} WHERE {row}.sent_at IS NOT NULL "
                "ON CONFLICT (shop_id, day, dimension, key) DO UPDATE SET "
                "sent = survey_invitation_days.sent + 1, answered = survey_invitation_days.answered + excluded.answered")
        else:
            out.append(
                f"UPDATE survey_invitation_days SET sent = sent - 1, answered = answered - {answered} "
                f"WHERE {row}.sent_at IS NOT NULL AND shop_id = {row}.shop_id AND day = {day} "
                f"AND dimension = {dimension} AND key = {key}")
    return out


_TABLES = {
    "survey_responses": (_answer_statements, RESPONSE_COLUMNS),
    "survey_invitations": (_invitation_statements, INVITATION_COLUMNS),
}


def install(bind) -> None:
    """Create the triggers that keep the daily counts (idempotent: replaces them)."""
    dialect = bind.dialect.name
    for table, (statements, columns) in _TABLES.items():
        name = f"{table}_days"
        if dialect == "postgresql":
            body = "\n".join([
                "BEGIN",
                "IF TG_OP IN ('UPDATE', 'DELETE') THEN",
                *(s + ";" for s in statements(dialect, "OLD", "-")),
                "END IF;",
                "IF TG_OP IN ('UPDATE', 'INSERT') THEN",
                *(s + ";" for s in statements(dialect, "NEW", "+")),
                "END IF;",
                "RETURN NULL;",
                "END;",
            ])
            bind.execute(text(f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $body$\n"
                              f"{body}\n$body$"))
            bind.execute(text(f"DROP TRIGGER IF EXISTS {name} ON {table}"))
            bind.execute(text(f"CREATE TRIGGER {name} AFTER INSERT OR DELETE OR UPDATE OF {columns} ON {table} "
                              f"FOR EACH ROW EXECUTE FUNCTION {name}()"))
            continue
        for event, parts in (("INSERT", statements(dialect, "NEW", "+")),
                             ("DELETE", statements(dialect, "OLD", "-")),
                             (f"UPDATE OF {columns}", statements(dialect, "OLD", "-") + statements(dialect, "NEW", "+"))):
            trigger = f"{name}_{event.split()[0].lower()}"
            bind.execute(text(f"DROP TRIGGER IF EXISTS {trigger}"))
            bind.execute(text(f"CREATE TRIGGER {trigger} AFTER {event} ON {table} FOR EACH ROW BEGIN\n"
                              + "".join(s + ";\n" for s in parts) + "END"))


def uninstall(bind) -> None:
    dialect = bind.dialect.name
    for table in _TABLES:
        name = f"{table}_days"
        if dialect == "postgresql":
            bind.execute(text(f"DROP TRIGGER IF EXISTS {name} ON {table}"))
            bind.execute(text(f"DROP FUNCTION IF EXISTS {name}()"))
        else:
            for event in ("insert", "delete", "update"):
                bind.execute(text(f"DROP TRIGGER IF EXISTS {name}_{event}"))


def backfill(bind) -> None:
    """Recount both tables from the answers and invitations there are."""
    dialect = bind.dialect.name
    bind.execute(text("DELETE FROM survey_answer_days"))
    bind.execute(text("DELETE FROM survey_invitation_days"))
    r, i = "survey_responses", "survey_invitations"
    answers = " UNION ALL ".join(
        f"SELECT shop_id, {_day(dialect, r + '.answered_at')} AS day, {dimension} AS dimension, {key} AS key, "
        f"kind, score FROM {r}" for dimension, key in _groups(r))
    bind.execute(text(
        "INSERT INTO survey_answer_days (shop_id, day, dimension, key, kind, score, answers) "
        f"SELECT shop_id, day, dimension, key, kind, score, count(*) FROM ({answers}) AS a "
        "GROUP BY shop_id, day, dimension, key, kind, score"))
    invitations = " UNION ALL ".join(
        f"SELECT shop_id, {_day(dialect, i + '.sent_at')} AS day, {dimension} AS dimension, {key} AS key, "
        f"CASE WHEN answered_at IS NULL THEN 0 ELSE 1 END AS answered FROM {i} WHERE sent_at IS NOT NULL"
        for dimension, key in _groups(i))
    bind.execute(text(
        "INSERT INTO survey_invitation_days (shop_id, day, dimension, key, sent, answered) "
        f"SELECT shop_id, day, dimension, key, count(*), sum(answered) FROM ({invitations}) AS v "
        "GROUP BY shop_id, day, dimension, key"))
