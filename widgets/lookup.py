"""Finding a shopper's order from what they typed: the order's name or
number, and the email address or phone number on it.

Forgiving of case, spaces and a missing ``#``; phone numbers are compared in
E.164 (phonenumbers), read in the region of the number on the order when
typed without a country code. The contact detail is compared as a keyed
digest with hmac.compare_digest, and the same work is done whether or not an
order was found, so a miss (unknown order, wrong email, another shop's
order) cannot be told from a wrong guess by its answer or its timing.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from plugin.models import Order, order_name_key
from plugin.tracking import VIEW_ROWS

MAX_FIELD = 320
_SPACES = re.compile(r"\s+")
# Compared against when no order matched, so a miss costs what a hit costs.
_DECOY = "decoy@aftercare.invalid"


def order_ref(value: object) -> str | None:
    """``" #1001 "`` → ``"1001"``, ``"eu-1001"`` → ``"EU-1001"``; None when unusable."""
    if not isinstance(value, str) or len(value) > MAX_FIELD:
        return None
    ref = _SPACES.sub("", value).lstrip("#").upper()
    return ref if ref and ref.isprintable() else None


def _email(value: str | None) -> str:
    return (value or "").strip().casefold()


def _phone(value: str | None, region_of: str | None = None) -> str:
    """E.164 form, or "" when it is not a valid number."""
    if not value or len(value) > 64:
        return ""
    import phonenumbers  # here: its metadata costs every process (workers too) a tenth of a second at start
    region = None
    if region_of:
        try:
            region = phonenumbers.region_code_for_number(phonenumbers.parse(region_of, None))
        except phonenumbers.NumberParseException:
            region = None
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_valid_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _same(a: str, b: str) -> bool:
    """Constant-time equality of two texts of any length (their digests are compared)."""
    key = b"aftercare.lookup"
    return hmac.compare_digest(hmac.new(key, a.encode(), hashlib.sha256).digest(),
                               hmac.new(key, b.encode(), hashlib.sha256).digest())


def candidates(session: Session, shop_id: int, ref: str) -> list[Order]:
    """This shop's orders named ``ref`` (name with or without "#", or number)."""
    conditions = [Order.name_key == order_name_key(ref)]  # indexed with the shop
    # Decimal digits of any script, which int() reads; not "²", which isdigit() accepts and int() refuses.
    if ref.isdecimal() and len(ref) < 19:
        conditions.append(Order.number == int(ref))
    return list(session.scalars(
        select(Order).where(Order.shop_id == shop_id, Order.name.is_not(None), or_(*conditions))
        .options(*VIEW_ROWS).order_by(Order.id).limit(5)
    ))


def find(session: Session, shop_id: int, order: object, *, email: object = None, phone: object = None) -> Order | None:
    """The shop's order named ``order`` whose email (or phone) is the one
    given; None on any mismatch."""
    ref = order_ref(order)
    given_email = _email(email) if isinstance(email, str) and len(email) <= MAX_FIELD else ""
    given_phone = phone if isinstance(phone, str) and len(phone) <= 64 else ""
    found = candidates(session, shop_id, ref) if ref else []
    match = None
    for row in found or [Order(email=_DECOY, phone=None)]:
        if given_email:
            ok = _same(_email(row.email), given_email) and bool(row.email)
        else:
            typed = _phone(given_phone, row.phone)
            ok = _same(_phone(row.phone), typed) and typed != ""
        if ok and match is None and row.id is not None:
            match = row
    return match
