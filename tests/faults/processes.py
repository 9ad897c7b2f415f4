"""Real `aftercare` processes for fault tests: the same command an operator
runs, with the test app's configuration in its environment."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from ..conftest import environ

AFTERCARE = str(Path(sys.executable).with_name("aftercare"))


def process_env(app, database_url: str | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SHOPIFY_", "AFTERCARE_"))}
    env.update(environ(database_url or app.config["DATABASE_URL"], app.config["SHOPIFY_BASE_URL"]))
    env["AFTERCARE_APP_URL"] = app.config["APP_URL"]
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def start(app, *args: str, log_path: Path, database_url: str | None = None, **extra: str) -> subprocess.Popen:
    """Start `aftercare ARGS...`, its output going to ``log_path``."""
    log = open(log_path, "ab")  # noqa: SIM115 - closed with the process by stop()
    process = subprocess.Popen([AFTERCARE, *args], env=process_env(app, database_url, **extra),
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    process.log_file = log
    return process


def stop(process: subprocess.Popen, timeout: float = 10) -> int:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    process.log_file.close()
    return process.returncode


def wait_for(condition, timeout: float = 30, every: float = 0.02, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
