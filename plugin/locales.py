"""The languages Aftercare speaks to shoppers and store admins.

English is the fallback: a locale Aftercare does not have (``pt-BR``) gets
English, one it has in another form (``fr-CA``, ``de_AT``) gets its language.
"""

from __future__ import annotations

from babel import Locale, UnknownLocaleError

LOCALES: tuple[str, ...] = ("en", "fr", "de", "es")
DEFAULT_LOCALE = "en"


def negotiate(requested: str | None) -> str:
    """The supported locale closest to ``requested`` (Shopify sends ``fr``,
    ``fr-CA`` or ``pt-BR``; browsers ``en-US``)."""
    if not requested:
        return DEFAULT_LOCALE
    try:
        language = Locale.parse(requested.strip().replace("-", "_")).language
    except (ValueError, TypeError, UnknownLocaleError):
        return DEFAULT_LOCALE
    return language if language in LOCALES else DEFAULT_LOCALE
