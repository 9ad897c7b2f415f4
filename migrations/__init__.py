"""Alembic migration environment (a package so it ships with the app)."""
