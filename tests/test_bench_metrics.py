"""The survey metrics benchmark still runs end to end on PostgreSQL and
reports its figures (a smoke run with few answers; the times themselves are
not asserted, the CSV's constant memory roughly is)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import POSTGRES_ENV

ROOT = Path(__file__).resolve().parents[1]


def test_metrics_benchmark_runs_and_reports(tmp_path):
    if not os.environ.get(POSTGRES_ENV):
        if os.environ.get("CI"):
            pytest.fail(f"{POSTGRES_ENV} is not set: CI must test on PostgreSQL")
        pytest.skip(f"the metrics benchmark needs {POSTGRES_ENV}")
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "metrics.py"), "--quick", "--runs", "1"],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert "20,000 answers generated" in out
    for by in ("-", "carrier", "touchpoint", "lateness", "week", "product"):
        assert any(line.split()[:1] == [by] for line in out.splitlines()), by
    growth = float(out.split("year minus month: ")[1].split()[0])
    assert growth < 20  # MiB: the export streams
