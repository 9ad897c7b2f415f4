"""Telling the shopper: the one door from the returns domain to the
notifications pipeline (notifications/return_mail.py decides the kind, the
dedupe key and the wording). Called after every change of a request's status,
in the same transaction, whether the admin acted here or in Shopify."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from ..models import Notification
from .models import ReturnRequest


def status_changed(session: Session, shop_id: int, request: ReturnRequest, now: datetime | None = None) -> int:
    """Queue the shopper's email for the request's status now, once; the number of new outbox rows."""
    from ..notifications import return_mail  # imported here: notifications imports the returns models
    return return_mail.queue(session, shop_id, request, now)


def refunded(session: Session, shop_id: int, request: ReturnRequest, now: datetime | None = None) -> int:
    """Shopify has made the request's refund: queue the shopper's "refunded"
    email once, even if the request has been closed since."""
    from ..notifications import return_mail
    from .models import ReturnStatus
    return return_mail.queue(session, shop_id, request, now, status=ReturnStatus.REFUNDED)


def confirmation(session: Session, request: ReturnRequest) -> Notification | None:
    """The outbox row of the request's confirmation (``return_requested``), queued if it was not."""
    from ..notifications import return_mail
    from ..notifications.kinds import Kind
    return_mail.queue(session, request.shop_id, request)
    return return_mail.row(session, request.shop_id, request.id, Kind.RETURN_REQUESTED)
