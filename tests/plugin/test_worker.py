"""The worker process: heartbeat, clean stop."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from plugin import worker

from ..conftest import environ


def test_a_running_worker_shows_in_healthz_and_leaves_it_when_stopped(app, client):
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(app,), kwargs={"poll_seconds": 0.05, "stop": stop})
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while client.get("/healthz").json["worker"]["status"] != "ok":
            assert time.monotonic() < deadline, "no heartbeat"
            time.sleep(0.05)
        assert client.get("/healthz").json["worker"]["heartbeat_age_seconds"] < 5
    finally:
        stop.set()
        thread.join(10)
    assert client.get("/healthz").json["worker"] == {"status": "none", "heartbeat_age_seconds": None}


def test_worker_command_stops_cleanly_on_sigterm(tmp_path):
    env = {**os.environ, **environ(f"sqlite:///{tmp_path / 'w.db'}")}
    script = str(Path(sys.executable).parent / "aftercare")
    subprocess.run([script, "db", "upgrade"], env=env, check=True, capture_output=True, timeout=60)
    process = subprocess.Popen([script, "worker", "--poll", "0.1"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        # Signal once the loop runs (its first heartbeat), however slow the machine.
        deadline = time.monotonic() + 60
        with sqlite3.connect(tmp_path / "w.db") as conn:
            while not conn.execute("SELECT count(*) FROM worker_heartbeats").fetchone()[0]:
                assert time.monotonic() < deadline and process.poll() is None, "the worker did not start"
                time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "worker stopped after 0 item(s)" in out
    assert "Traceback" not in err
