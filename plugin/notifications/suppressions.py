"""Unsubscribed addresses, per shop and category, kept only as a keyed hash.

A shopper unsubscribes from one category (shipping updates, or surveys) of
one shop. The address itself is not stored: an HMAC of it under a key derived
from AFTERCARE_SECRET_KEY, so a leaked table cannot be reversed by hashing a
list of known addresses. During a key rotation the previous key's hash is
looked up too, so nobody is resubscribed by the rotation.
"""

from __future__ import annotations

import enum
import hashlib
import hmac

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Suppression, utcnow


class Category(str, enum.Enum):
    SHIPPING = "shipping"  # every shipping kind
    SURVEYS = "surveys"    # survey invitations


def category_of(kind) -> Category | None:
    """The unsubscribe that stops a Kind; None for return messages, which
    are transactional (return_mail.py)."""
    if kind.is_return:
        return None
    return Category.SURVEYS if kind.is_survey else Category.SHIPPING


def address_hash(address: str, secret_key: str) -> str:
    key = hashlib.sha256(b"aftercare address hash\x00" + secret_key.encode()).digest()
    return hmac.new(key, address.strip().lower().encode(), hashlib.sha256).hexdigest()


def _hashes(address: str) -> list[str]:
    config = current_app.config
    keys = [config["SECRET_KEY"], config.get("SECRET_KEY_PREVIOUS")]
    return [address_hash(address, key) for key in keys if key]


def is_suppressed(session: Session, shop_id: int, address: str, category: Category) -> bool:
    return session.scalar(select(Suppression.shop_id).where(
        Suppression.shop_id == shop_id,
        Suppression.category == Category(category).value,
        Suppression.address_hash.in_(_hashes(address)),
    ).limit(1)) is not None


def suppress(session: Session, shop_id: int, address: str, category: Category) -> None:
    """Unsubscribe ``address`` from ``category`` of this shop; doing it twice is harmless."""
    if not is_suppressed(session, shop_id, address, category):
        session.add(Suppression(shop_id=shop_id, category=Category(category).value,
                                address_hash=_hashes(address)[0], created_at=utcnow()))
        session.flush()
