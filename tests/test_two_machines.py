"""Past one machine (issue 7): two sets of web and worker processes on
different ports, as if on two machines, share one PostgreSQL database and are
loaded at once with signed webhooks: 30 % sent twice (to the other machine;
half with the same webhook id, half with a new one), shuffled, across many
orders. Every order ends in its newest state, every delivery runs once, every
customer gets exactly one email. bench/machines.py; `python bench/run.py`
runs a bigger one."""

from __future__ import annotations

import os

import pytest

from bench import machines
from bench.data import fresh_database

from .conftest import POSTGRES_ENV, POSTGRES_SKIP


def test_two_machines_on_one_postgres_lose_and_double_nothing(capsys):
    server = os.environ.get(POSTGRES_ENV)
    if not server:
        if os.environ.get("CI"):
            pytest.fail(f"{POSTGRES_ENV} is not set: CI must test on PostgreSQL")
        pytest.skip(POSTGRES_SKIP)
    with fresh_database(server) as env:
        result = machines.run(env, deliveries=260, orders=60)
    assert result["problems"] == [] and result["ok"]
    # Both machines were loaded, with repeats among what they got.
    assert set(result["per_machine"]) == {0, 1} and min(result["per_machine"].values()) > 100
    assert result["sent"] > result["stored"] > 260 and result["emails"] == 60
    machines.print_table(result)  # as `python bench/run.py` prints it
    assert capsys.readouterr().out.rstrip().endswith(": ok")
