"""What `pytest` prints: without PostgreSQL, one line about it, not one per test."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .conftest import POSTGRES_ENV, POSTGRES_SKIP

ROOT = Path(__file__).resolve().parent.parent


def test_postgresql_skips_fold_into_one_summary_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in (POSTGRES_ENV, "CI", "PYTEST_ADDOPTS")}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--basetemp", str(tmp_path / "t"),
         "tests/plugin/test_shop_scoping.py", "tests/plugin/test_cli.py"],
        cwd=ROOT, env=env, capture_output=True, text=True, encoding="utf-8", timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    lines = [line for line in result.stdout.splitlines() if POSTGRES_SKIP in line]
    assert len(lines) == 1, "\n".join(lines)
    count = int(lines[0].split("[", 1)[1].split("]", 1)[0])
    assert lines[0] == f"SKIPPED [{count}] tests/conftest.py: {POSTGRES_SKIP}"
    assert count > 1 and f"{count} skipped" in result.stdout
