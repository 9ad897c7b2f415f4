"""The named values a merchant's own template may use, e.g. ``{{ first_name }}``.

A merchant's subject and body (settings `templates.<kind>.<locale>`) see these
names and nothing else: no objects, no attributes, no functions beyond a
small `range`. Each value is text; in the HTML part it is escaped, except
``tracking_url``, which becomes a link (built here, from an escaped URL).
A ``required`` one must appear in the body, checked when the template is
saved (none is today: every message has a button to the tracking page).
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape


@dataclass(frozen=True)
class Placeholder:
    name: str
    description: str
    required: bool = False

    def render(self, value: str, *, html: bool) -> str | Markup:
        if not html:
            return value
        if self.name == "tracking_url" and value:
            return Markup('<a href="{0}">{0}</a>').format(value)
        return escape(value)


PLACEHOLDERS: tuple[Placeholder, ...] = (
    Placeholder("first_name", "The customer's first name (may be empty)"),
    Placeholder("order_name", "The order's name, e.g. #1001"),
    Placeholder("shop_name", "Your store's name"),
    Placeholder("city", "The city the order ships to"),
    Placeholder("carrier", "The parcel's carrier, e.g. UPS (empty before shipping)"),
    Placeholder("tracking_number", "The parcel's tracking number(s)"),
    Placeholder("estimated_delivery", "The estimated delivery date, when the carrier gave one"),
    Placeholder("tracking_url", "The link to the order's tracking page (every message also has a button to it)"),
)
BY_NAME = {p.name: p for p in PLACEHOLDERS}


def values(context: dict, *, html: bool) -> dict[str, str | Markup]:
    """Every placeholder's value for a message, one line each (a value never
    breaks a subject line or starts a new paragraph)."""
    out = {}
    for placeholder in PLACEHOLDERS:
        raw = context.get(placeholder.name)
        text = " ".join(str(raw).split()) if raw not in (None, "") else ""
        out[placeholder.name] = placeholder.render(text, html=html)
    return out


def from_message(context: dict) -> dict[str, str | None]:
    """The placeholders' values from a message's template context."""
    parcel = context.get("parcel") or {}
    numbers = [t["number"] for t in parcel.get("tracking", []) if t.get("number")]
    return {
        "first_name": context.get("first_name"),
        "order_name": context.get("order_name"),
        "shop_name": context.get("shop_name"),
        "city": context.get("city"),
        "carrier": parcel.get("carrier"),
        "tracking_number": ", ".join(numbers) or None,
        "estimated_delivery": parcel.get("estimated_delivery"),
        "tracking_url": context.get("tracking_url"),
    }


SAMPLE = {
    "first_name": "Ana",
    "order_name": "#1001",
    "shop_name": "Example Store",
    "city": "Lyon",
    "carrier": "UPS",
    "tracking_number": "1Z999AA10123456784",
    "estimated_delivery": "Friday, 6 November 2026",
    "tracking_url": "https://example.com/t/sample",
}
