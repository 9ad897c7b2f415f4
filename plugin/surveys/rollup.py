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
NULL. Products are counted by UTC month instead (``day`` is the month's
first day, dimension "product"): an answer is in as many product groups as
its order has products, so daily product counts would be about as many rows
as the answers themselves.

``install(bind)`` creates the triggers (the migration calls it) and
``backfill(bind)`` fills the tables from what exists (the migration, and a
bulk load that turned the triggers off). A later migration that recreates
either table (Alembic's batch mode on SQLite copies the table and drops it)
loses its triggers: it must call ``install`` and ``backfill`` again.
"""

from __future__ import annotations

from sqlalchemy import text

DIMENSIONS = ("carrier", "touchpoint", "lateness")
RESPONSE_COLUMNS = "shop_id, kind, score, carrier, touchpoint, days_late, products, answered_at"
INVITATION_COLUMNS = "shop_id, carrier, touchpoint, days_late, products, sent_at, answered_at"


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


def _month(dialect: str, column: str) -> str:
    if dialect == "postgresql":
        return f"CAST(date_trunc('month', {column} AT TIME ZONE 'UTC') AS date)"
    return f"date({column}, 'start of month')"


def _products(dialect: str, row: str) -> str:
    """Each product of a row's order once, with how many times it is listed: (value, n)."""
    each = (f"json_array_elements_text({row}.products) AS p(value)" if dialect == "postgresql"
            else f"json_each({row}.products) AS p")
    return f"(SELECT p.value AS value, count(*) AS n FROM {each} GROUP BY p.value)"


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
    month, products = _month(dialect, f"{row}.answered_at"), _products(dialect, row)
    if sign == "+":
        out.append(
            "INSERT INTO survey_answer_days (shop_id, day, dimension, key, kind, score, answers) "
            f"SELECT {row}.shop_id, {month}, 'product', '=' || p.value, {row}.kind, {row}.score, p.n "
            f"FROM {products} AS p WHERE true "
            "ON CONFLICT (shop_id, day, dimension, key, kind, score) DO UPDATE SET answers = "
            "survey_answer_days.answers + excluded.answers")
    else:
        out.append(
            f"UPDATE survey_answer_days SET answers = answers - (SELECT p.n FROM {products} AS p "
            "WHERE '=' || p.value = survey_answer_days.key) "
            f"WHERE shop_id = {row}.shop_id AND day = {month} AND dimension = 'product' "
            f"AND kind = {row}.kind AND score = {row}.score AND key IN (SELECT '=' || p.value FROM {products} AS p)")
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
    month, products = _month(dialect, f"{row}.sent_at"), _products(dialect, row)
    if sign == "+":
        out.append(
            "INSERT INTO survey_invitation_days (shop_id, day, dimension, key, sent, answered) "
            f"SELECT {row}.shop_id, {month}, 'product', '=' || p.value, p.n, p.n * {answered} "
            f"FROM {products} AS p WHERE {row}.sent_at IS NOT NULL "
            "ON CONFLICT (shop_id, day, dimension, key) DO UPDATE SET "
            "sent = survey_invitation_days.sent + excluded.sent, "
            "answered = survey_invitation_days.answered + excluded.answered")
    else:
        one = f"(SELECT p.n FROM {products} AS p WHERE '=' || p.value = survey_invitation_days.key)"
        out.append(
            f"UPDATE survey_invitation_days SET sent = sent - {one}, answered = answered - {one} * {answered} "
            f"WHERE {row}.sent_at IS NOT NULL AND shop_id = {row}.shop_id AND day = {month} "
            f"AND dimension = 'product' AND key IN (SELECT '=' || p.value FROM {products} AS p)")
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
    each = ("json_array_elements_text(x.products) AS p(value)" if dialect == "postgresql"
            else "json_each(x.products) AS p")
    answers += (f" UNION ALL SELECT x.shop_id, {_month(dialect, 'x.answered_at')}, 'product', '=' || p.value, "
                f"x.kind, x.score FROM {r} AS x CROSS JOIN {each}")
    bind.execute(text(
        "INSERT INTO survey_answer_days (shop_id, day, dimension, key, kind, score, answers) "
        f"SELECT shop_id, day, dimension, key, kind, score, count(*) FROM ({answers}) AS a "
        "GROUP BY shop_id, day, dimension, key, kind, score"))
    invitations = " UNION ALL ".join(
        f"SELECT shop_id, {_day(dialect, i + '.sent_at')} AS day, {dimension} AS dimension, {key} AS key, "
        f"CASE WHEN answered_at IS NULL THEN 0 ELSE 1 END AS answered FROM {i} WHERE sent_at IS NOT NULL"
        for dimension, key in _groups(i))
    invitations += (f" UNION ALL SELECT x.shop_id, {_month(dialect, 'x.sent_at')}, 'product', '=' || p.value, "
                    f"CASE WHEN x.answered_at IS NULL THEN 0 ELSE 1 END FROM {i} AS x CROSS JOIN {each} "
                    "WHERE x.sent_at IS NOT NULL")
    bind.execute(text(
        "INSERT INTO survey_invitation_days (shop_id, day, dimension, key, sent, answered) "
        f"SELECT shop_id, day, dimension, key, count(*), sum(answered) FROM ({invitations}) AS v "
        "GROUP BY shop_id, day, dimension, key"))
