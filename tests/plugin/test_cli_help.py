"""The `aftercare` command as a new operator meets it: the real executable,
in a clean environment (nothing set but PATH), from an empty directory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import API_KEY, SECRET

AFTERCARE = Path(sys.executable).parent / "aftercare"
OPERATOR_COMMANDS = ("demo", "run", "serve", "worker", "db", "shops", "orders", "backfill", "webhooks", "settings", "notifications")


def aftercare(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(AFTERCARE), *args], cwd=tmp_path, env={"PATH": "/usr/bin:/bin", "PYTHONIOENCODING": "utf-8", **env},
        capture_output=True, text=True, encoding="utf-8", timeout=60,
    )


def listed_commands(help_text: str) -> list[str]:
    section = help_text.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    return [line.split()[0] for line in section.splitlines()]


def test_help_needs_no_configuration_and_lists_what_an_operator_uses(tmp_path):
    result = aftercare(tmp_path, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert listed_commands(result.stdout) == list(OPERATOR_COMMANDS)
    for clutter in ("shell", "routes", "--app", "--env-file", "--debug", "FLASK_APP"):
        assert clutter not in result.stdout
    assert "aftercare demo" in result.stdout and "SHOPIFY_API_KEY" in result.stdout  # says what it will need
    assert list(tmp_path.iterdir()) == []  # and wrote nothing


def test_a_bare_command_shows_the_help_not_a_configuration_error(tmp_path):
    result = aftercare(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Commands:" in result.stdout
    assert listed_commands(result.stdout) == list(OPERATOR_COMMANDS)
    assert "is not set" not in result.stdout + result.stderr


def test_a_mistyped_command_is_named_with_a_suggestion(tmp_path):
    result = aftercare(tmp_path, "shop", "list")
    assert result.returncode == 2
    assert "No such command 'shop'" in result.stderr and "Did you mean 'shops'?" in result.stderr
    assert "SHOPIFY_API_KEY" not in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("args", [("shops", "add", "--help"), ("webhooks", "--help"), ("db", "--help"), ("--version",)])
def test_command_help_and_version_need_no_configuration(tmp_path, args):
    result = aftercare(tmp_path, *args)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "Usage: aftercare" in result.stdout or result.stdout.startswith("aftercare ")


def test_a_command_that_needs_configuration_names_the_missing_variable_in_one_line(tmp_path):
    result = aftercare(tmp_path, "shops", "list")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("aftercare: configuration error: SHOPIFY_API_KEY: is not set")
    # The secret is checked too, and named once the key is there.
    result = aftercare(tmp_path, "shops", "list", SHOPIFY_API_KEY=API_KEY)
    assert (result.returncode, result.stderr.count("\n")) == (2, 1)
    assert "SHOPIFY_API_SECRET: is not set" in result.stderr
    assert SECRET not in result.stderr


def test_flask_developer_commands_stay_available_but_hidden(runner):
    result = runner("routes")
    assert result.exit_code == 0, result.output
    assert "/webhooks" in result.output
