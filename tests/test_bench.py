"""The webhook benchmark still runs and prints its figures and ratios (a
smoke run with few requests; the figures themselves are not asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_webhook_benchmark_runs_and_reports_ratios():
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "webhooks.py"), "--requests", "40", "--concurrency", "2"],
        capture_output=True, text=True, timeout=180, cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines[2:5]] == ["bare", "minimal", "app"]
    assert any(line.startswith("app/minimal: throughput") for line in lines)
