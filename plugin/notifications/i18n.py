"""The shopper's language: gettext catalogs, Jinja2 environments and Babel
formatting bound to one locale and the shop's time zone.

Messages and shopper pages speak the order's locale (``locales.negotiate``),
never the process's: every Babel call here is given its locale explicitly.
Catalogs live in translations/<locale>/LC_MESSAGES/messages.mo (compiled from
the .po beside them; babel.cfg at the repository root says what is
extracted). One Jinja2 environment per (template folder, locale) has that
locale's gettext installed, so rendering never switches a shared state.
"""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, dates, numbers
from babel.support import NullTranslations, Translations
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from ..locales import DEFAULT_LOCALE, LOCALES, negotiate

TRANSLATIONS = Path(__file__).parent / "translations"


@lru_cache(maxsize=None)
def translations(locale: str) -> NullTranslations:
    if locale == DEFAULT_LOCALE:
        return NullTranslations()  # the msgids are the English text
    return Translations.load(str(TRANSLATIONS), [locale])


def gettext(locale: str, message: str, **values) -> str:
    text = translations(locale).gettext(message)
    return text % values if values else text


@lru_cache(maxsize=None)
def environment(folder: str, locale: str) -> Environment:
    """Templates of ``folder`` with ``locale``'s gettext; .html autoescaped."""
    env = Environment(
        loader=FileSystemLoader(folder),
        autoescape=select_autoescape(["html"], default_for_string=False),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # the templates ship with the code: no stat() per message to see if they changed
    )
    env.install_gettext_translations(translations(locale), newstyle=True)
    env.policies["ext.i18n.trimmed"] = True
    return env


def shop_zone(iana_timezone: str | None) -> tzinfo:
    """The shop's zone; UTC when unknown (NULL) or not a zone we know."""
    if not iana_timezone:
        return timezone.utc
    try:
        return ZoneInfo(iana_timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.utc


@lru_cache(maxsize=None)
def _babel_locale(locale: str) -> Locale:
    return Locale.parse(locale)


class Format:
    """Dates, times and money in one locale and zone (Babel, never the
    process locale). Datetimes are stored in UTC and converted only here."""

    def __init__(self, locale: str, zone: tzinfo):
        self.locale = locale if locale in LOCALES else negotiate(locale)
        self.zone = zone
        self._babel = _babel_locale(self.locale)  # Babel given a Locale, not a name, is 2-3x faster

    def datetime(self, value: datetime | None) -> str | None:
        if value is None:
            return None
        # The day as "medium", the time without seconds, joined the locale's way.
        local = value.astimezone(self.zone)
        pattern = self._babel.datetime_formats["medium"]
        return str(pattern).format(dates.format_time(local, "short", locale=self._babel),
                                   dates.format_date(local, "medium", locale=self._babel))

    def date(self, value: datetime | None) -> str | None:
        """The day in the shop's zone, written out (e.g. Friday, 6 November 2026)."""
        if value is None:
            return None
        return dates.format_date(value.astimezone(self.zone).date(), "full", locale=self._babel)

    def money(self, amount: Decimal | str | None, currency: str | None) -> str | None:
        if amount is None or not currency:
            return None
        return numbers.format_currency(Decimal(str(amount)), currency, locale=self._babel)
