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
