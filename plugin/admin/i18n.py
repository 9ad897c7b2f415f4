"""The admin pages' words in each locale: one JSON catalog per locale under
translations/, English text as the key.

A word whose translation depends on what it describes carries a context:
``gettext(locale, "return.status|Cancelled")``, English "Cancelled".

Shopify passes the admin user's language as the `locale` query parameter;
``locales.negotiate`` maps it to one Aftercare speaks. A string missing from
a catalog shows in English, never as a blank. ``invalid`` translates the
messages of ``settings.Invalid`` (a handful of shapes) so that a field's
error reads in the same language as its label.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ..locales import DEFAULT_LOCALE, LOCALES, negotiate

TRANSLATIONS = Path(__file__).parent / "translations"
CATALOGS: dict[str, dict[str, str]] = {
    locale: json.loads((TRANSLATIONS / f"{locale}.json").read_text(encoding="utf-8"))
    for locale in LOCALES if locale != DEFAULT_LOCALE
}

# The shapes of settings.Invalid messages, and their words in each locale.
_INVALID: list[tuple[re.Pattern, dict[str, str]]] = [(re.compile(p), t) for p, t in [
    (r"must be true or false", {"fr": "doit être activé ou désactivé", "de": "muss an oder aus sein",
                                "es": "debe estar activado o desactivado"}),
    (r"must be a whole number from (?P<low>-?\d+) to (?P<high>-?\d+)",
     {"fr": "doit être un nombre entier de {low} à {high}", "de": "muss eine ganze Zahl von {low} bis {high} sein",
      "es": "debe ser un número entero de {low} a {high}"}),
    (r"must be from (?P<low>-?\d+) to (?P<high>-?\d+)",
     {"fr": "doit être compris entre {low} et {high}", "de": "muss zwischen {low} und {high} liegen",
      "es": "debe estar entre {low} y {high}"}),
    (r"must be one of (?P<choices>.+)", {"fr": "doit être l'une des valeurs : {choices}",
                                         "de": "muss einer dieser Werte sein: {choices}",
                                         "es": "debe ser uno de: {choices}"}),
    (r"must be a list of answers", {"fr": "doit être une liste de réponses", "de": "muss eine Liste von Antworten sein",
                                    "es": "debe ser una lista de respuestas"}),
    (r"must be a list of (?P<choices>.+)", {"fr": "doit être une liste parmi : {choices}",
                                            "de": "muss eine Liste aus diesen Werten sein: {choices}",
                                            "es": "debe ser una lista de: {choices}"}),
    (r"must name at least one of (?P<choices>.+)", {"fr": "choisissez au moins une valeur",
                                                    "de": "wählen Sie mindestens einen Wert",
                                                    "es": "elige al menos un valor"}),
    (r"must be text", {"fr": "doit être du texte", "de": "muss Text sein", "es": "debe ser texto"}),
    (r"must be at most (?P<n>\d+) characters", {"fr": "doit faire au plus {n} caractères",
                                                "de": "darf höchstens {n} Zeichen lang sein",
                                                "es": "debe tener como máximo {n} caracteres"}),
    (r"must be one line", {"fr": "doit tenir sur une ligne", "de": "muss einzeilig sein",
                           "es": "debe ocupar una sola línea"}),
    (r"must be an email address like (?P<example>\S+)",
     {"fr": "doit être une adresse e-mail comme {example}", "de": "muss eine E-Mail-Adresse wie {example} sein",
      "es": "debe ser una dirección de correo como {example}"}),
    (r"must be an https:// URL", {"fr": "doit être une URL https://", "de": "muss eine https://-URL sein",
                                  "es": "debe ser una URL https://"}),
    (r"must be a colour like (?P<example>\S+)", {"fr": "doit être une couleur comme {example}",
                                                 "de": "muss eine Farbe wie {example} sein",
                                                 "es": "debe ser un color como {example}"}),
    (r"must be a time range like (?P<example>\S+)", {"fr": "doit être une plage horaire comme {example}",
                                                     "de": "muss ein Zeitraum wie {example} sein",
                                                     "es": "debe ser una franja horaria como {example}"}),
    (r"must not start and end at the same time", {"fr": "ne doit pas commencer et finir à la même heure",
                                                  "de": "darf nicht zur selben Zeit beginnen und enden",
                                                  "es": "no debe empezar y terminar a la misma hora"}),
    (r"must not be empty", {"fr": "ne doit pas être vide", "de": "darf nicht leer sein", "es": "no debe estar vacío"}),
]]


def locale_of(requested: str | None) -> str:
    return negotiate(requested)


# A message may carry its context before a bar, "return.status|Cancelled", as
# gettext's msgctxt does: the same English word can then differ in gender or
# number elsewhere ("order.status|Cancelled" is "Annulée", a return's "Annulé").
_CONTEXT = re.compile(r"[a-z_]+(?:\.[a-z_]+)+\|")


def english(message: str) -> str:
    """``message`` without its context."""
    context = _CONTEXT.match(message)
    return message[context.end():] if context else message


def gettext(locale: str, message: str, **values) -> str:
    """``message`` in ``locale``, with ``{name}`` values filled in."""
    translated = CATALOGS.get(locale, {}).get(message) if locale != DEFAULT_LOCALE else None
    translated = translated or english(message)
    return translated.format(**values) if values else translated


def invalid(locale: str, message: str) -> str:
    """A ``settings.Invalid`` message in ``locale`` (English when its shape is unknown)."""
    if locale == DEFAULT_LOCALE:
        return message
    for pattern, words in _INVALID:
        match = pattern.fullmatch(message)
        if match and locale in words:
            return words[locale].format(**match.groupdict())
    return message
