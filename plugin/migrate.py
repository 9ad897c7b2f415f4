"""Alembic, driven from the app: the only way the schema changes."""

from __future__ import annotations

from importlib.resources import files

from alembic import command
from alembic.config import Config
from flask import Flask

from .db import engine


def alembic_config(app: Flask) -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("migrations")))
    config.attributes["engine"] = engine(app)
    return config


def upgrade(app: Flask, revision: str = "head") -> None:
    command.upgrade(alembic_config(app), revision)


def downgrade(app: Flask, revision: str) -> None:
    command.downgrade(alembic_config(app), revision)


def compare_options(dialect: str) -> dict:
    """How the models are compared with a database (autogenerate, and the
    drift test): types too, and an index meant for one database only
    (models.shop_key, ``info["only_on"]``) is no drift on another."""
    def include_object(obj, _name, type_, reflected, _compare_to) -> bool:
        only_on = None if reflected else getattr(obj, "info", {}).get("only_on")
        return only_on is None or only_on == dialect
    return {"compare_type": True, "include_object": include_object}
