"""Start-up configuration: a bad value stops start-up with one line naming it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from plugin.config import ConfigError, load_config

GOOD = {"SHOPIFY_API_KEY": "key", "SHOPIFY_API_SECRET": "secret"}


def test_defaults(tmp_path):
    config = load_config(GOOD, str(tmp_path))
    assert config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'aftercare.db'}"
    assert config["APP_URL"] == "http://127.0.0.1:8000"
    assert "write_returns" in config["SCOPES"]
    assert config["SMTP_URL"] is None
    assert config["SHOPIFY_BASE_URL"] == "https://{shop}"
    assert config["SHOPIFY_API_VERSION"] == "2026-07"


def test_secret_key_is_generated_once_into_the_instance_folder(tmp_path):
    first = load_config(GOOD, str(tmp_path))["SECRET_KEY"]
    assert len(first) >= 40
    assert (tmp_path / "secret_key").read_text() == first
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"
    assert load_config(GOOD, str(tmp_path))["SECRET_KEY"] == first


def test_plain_postgresql_url_uses_the_shipped_driver(tmp_path):
    config = load_config({**GOOD, "AFTERCARE_DATABASE_URL": "postgresql://u:p@db/aftercare"}, str(tmp_path))
    assert config["DATABASE_URL"] == "postgresql+psycopg://u:p@db/aftercare"


def test_smtp_url_is_parsed(tmp_path):
    config = load_config({**GOOD, "AFTERCARE_SMTP_URL": "smtp://me:pw@mail.example:2525?starttls=1"}, str(tmp_path))
    assert config["SMTP_URL"] == {"host": "mail.example", "port": 2525, "ssl": False, "starttls": True,
                                  "username": "me", "password": "pw"}


@pytest.mark.parametrize("variable,value", [
    ("SHOPIFY_API_KEY", None),
    ("SHOPIFY_API_SECRET", None),
    ("SHOPIFY_API_SECRET", "   "),
    ("AFTERCARE_DATABASE_URL", "not a url"),
    ("AFTERCARE_DATABASE_URL", "mysql://u@h/db"),
    ("AFTERCARE_APP_URL", "ftp://example.com"),
    ("AFTERCARE_SCOPES", "read orders"),
    ("AFTERCARE_SMTP_URL", "http://mail.example"),
    ("AFTERCARE_SMTP_URL", "smtp://mail.example:notaport"),
    ("AFTERCARE_MAIL_FROM", "nobody"),
    ("SHOPIFY_BASE_URL", "https://example.com"),
    ("SHOPIFY_API_VERSION", "latest"),
    ("AFTERCARE_SECRET_KEY", "a"),
    ("AFTERCARE_SECRET_KEY", "x" * 31),
    ("AFTERCARE_SECRET_KEY_PREVIOUS", "short-old-key"),
    ("AFTERCARE_DATABASE_REPLICA_URL", "not a url"),
    ("AFTERCARE_DATABASE_REPLICA_URL", "mysql://h/db"),
    ("AFTERCARE_DATABASE_REPLICA_URL", "sqlite:///replica.db"),  # SQLite has no replicas
])
def test_bad_value_names_its_variable(tmp_path, variable, value):
    env = dict(GOOD)
    env.pop(variable, None)
    if value is not None:
        env[variable] = value
    with pytest.raises(ConfigError) as error:
        load_config(env, str(tmp_path))
    assert error.value.variable == variable
    assert str(error.value).startswith(f"{variable}: ")


def test_cli_prints_one_line_and_exits_2_on_bad_config(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SHOPIFY_", "AFTERCARE_"))}
    env["SHOPIFY_API_KEY"] = "key"  # the secret is missing
    script = Path(sys.executable).parent / "aftercare"
    result = subprocess.run([str(script), "shops", "list"], env=env, capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "aftercare: configuration error: SHOPIFY_API_SECRET: is not set (the app's client id/secret from the Partner Dashboard)"
    ]


def test_secret_keys_of_32_bytes_or_more_are_taken_with_the_previous_one(tmp_path):
    config = load_config({**GOOD, "AFTERCARE_SECRET_KEY": "k" * 32, "AFTERCARE_SECRET_KEY_PREVIOUS": "p" * 40},
                         str(tmp_path))
    assert (config["SECRET_KEY"], config["SECRET_KEY_PREVIOUS"]) == ("k" * 32, "p" * 40)
    assert load_config(GOOD, str(tmp_path))["SECRET_KEY_PREVIOUS"] is None
