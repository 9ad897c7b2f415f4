"""The database layer keeps SQL parameters (personal data) out of error texts."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from plugin.db import describe_error, engine


def test_a_failed_statement_names_no_parameter_values(app):
    with engine(app).connect() as conn, pytest.raises(DBAPIError) as failure:
        conn.execute(text("SELECT * FROM no_such_table WHERE email = :email"), {"email": "jon@example.com"})
    assert "no_such_table" in str(failure.value)  # what failed is still said
    assert "jon@example.com" not in str(failure.value)
    assert "jon@example.com" not in describe_error(failure.value)
