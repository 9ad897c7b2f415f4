"""A worker process killed with SIGKILL mid-batch, several times in one run:
on restart every due delivery completes, and none is applied twice."""

from __future__ import annotations

import signal
import subprocess

from sqlalchemy import func, select

from plugin.models import DeliveryStatus, Fulfillment, LineItem, Order, WebhookDelivery

from ..conftest import db
from . import processes
from .orders import fulfillment, order

ORDERS = 300  # 600 deliveries: the worker commits in batches of 100, each kill lands in a later one
KILLS = 4


def processed() -> int:
    return db().scalar(select(func.count()).select_from(WebhookDelivery)
                       .where(WebhookDelivery.status == DeliveryStatus.PROCESSED.value))


def test_a_worker_killed_mid_batch_again_and_again_loses_and_doubles_nothing(app, shop, webhooks, tmp_path):
    for n in range(ORDERS):
        assert webhooks.post("orders/create", order(n)).status_code == 200
        assert webhooks.post("fulfillments/update", fulfillment(n)).status_code == 200
    total = 2 * ORDERS

    kills = []
    for _ in range(KILLS):
        before = processed()
        worker = processes.start(app, "worker", "--poll", "0.05", log_path=tmp_path / "worker.log")
        # Kill it the moment it has done some of the work: it is then in the middle of the next item.
        processes.wait_for(lambda: processed() > before, what="the worker to process something")
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        worker.log_file.close()
        kills.append(processed())
        assert worker.returncode == -signal.SIGKILL
    assert kills[-1] < total, "the work ran out before the last kill: raise ORDERS"
    assert kills == sorted(kills) and len(set(kills)) == KILLS  # each run got further

    finish = subprocess.run([processes.AFTERCARE, "worker", "--once"], env=processes.process_env(app),
                            capture_output=True, text=True, timeout=120)
    assert finish.returncode == 0, finish.stderr

    session = db()
    statuses = dict(session.execute(select(WebhookDelivery.status, func.count()).group_by(WebhookDelivery.status)).all())
    assert statuses == {DeliveryStatus.PROCESSED.value: total}
    # Each delivery took effect once: a kill rolled back the attempt it interrupted.
    assert set(session.scalars(select(WebhookDelivery.attempts))) == {1}
    assert session.scalar(select(func.count()).select_from(Order)) == ORDERS
    assert session.scalar(select(func.count()).select_from(LineItem)) == 2 * ORDERS
    assert set(session.scalars(select(Fulfillment.shipment_status))) == {"delivered"}
    assert session.scalar(select(func.count()).select_from(Fulfillment)) == ORDERS
