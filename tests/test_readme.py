"""The README tells a new operator the truth: its commands run as written,
every command is documented, and so is what POST /webhooks answers."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from plugin.cli import cli
from webhooks.receive import MAX_BODY

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def indented_line_under(heading: str) -> str:
    """What .ci/run extracts: the first indented line after a line starting with ``heading``."""
    lines = README.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(heading))
    return next(line[4:] for line in lines[start + 1:] if line.startswith("    "))


def test_the_readme_opens_with_the_demo_and_the_test_command():
    assert README.index("Run the demo") < README.index("Run the tests") < README.index("---")
    assert indented_line_under("Run the demo") == (
        "python3 -m venv .venv && .venv/bin/pip install -q -e . && .venv/bin/aftercare demo")
    assert indented_line_under("Run the tests") == (
        "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && .venv/bin/pytest")


def test_the_readme_says_how_to_run_aftercare_from_the_venv():
    opening = README[:README.index("---")]
    assert "source .venv/bin/activate" in opening and "`.venv/bin/aftercare …`" in opening


def test_every_command_in_the_help_is_in_the_readme():
    result = CliRunner().invoke(cli, ["--help"])
    commands = result.output.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    for name in (line.split()[0] for line in commands.splitlines()):
        assert f"| `aftercare {name}" in README, name


def test_the_readme_documents_the_body_limit_and_every_webhook_answer():
    assert MAX_BODY == 1024 * 1024 and "limited to 1 MiB" in README
    rows = re.findall(r"^\| (\d{3}) \| `(\w+)` \|", README, re.MULTILINE)
    assert set(rows) >= {("200", "accepted"), ("200", "duplicate"), ("200", "ignored"),
                         ("400", "error"), ("401", "error"), ("413", "error"), ("503", "error")}
