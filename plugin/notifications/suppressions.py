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
from collections.abc import Iterable
from functools import lru_cache

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
    return hmac.new(_key(secret_key), address.strip().lower().encode(), hashlib.sha256).hexdigest()


@lru_cache(maxsize=4)
def _key(secret_key: str) -> bytes:
    return hashlib.sha256(b"aftercare address hash\x00" + secret_key.encode()).digest()


def _hashes(address: str) -> list[str]:
    config = current_app.config
    keys = [config["SECRET_KEY"], config.get("SECRET_KEY_PREVIOUS")]
    return [address_hash(address, key) for key in keys if key]


def is_suppressed(session: Session, shop_id: int, address: str, category: Category) -> bool:
    return bool(suppressed(session, shop_id, [address], category))


def suppressed(session: Session, shop_id: int, addresses: Iterable[str], category: Category) -> set[str]:
    """Which of ``addresses`` unsubscribed from ``category`` of this shop, in one query."""
    by_hash = {h: address for address in set(addresses) for h in _hashes(address)}
    if not by_hash:
        return set()
    found = session.scalars(select(Suppression.address_hash).where(
        Suppression.shop_id == shop_id,
        Suppression.category == Category(category).value,
        Suppression.address_hash.in_(list(by_hash)),
    ))
    return {by_hash[h] for h in found}


def suppress(session: Session, shop_id: int, address: str, category: Category) -> None:
    """Unsubscribe ``address`` from ``category`` of this shop; doing it twice is harmless."""
    if not is_suppressed(session, shop_id, address, category):
        session.add(Suppression(shop_id=shop_id, category=Category(category).value,
                                address_hash=_hashes(address)[0], created_at=utcnow()))
        session.flush()
