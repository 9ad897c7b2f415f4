"""Every word of the admin pages exists in every locale's catalog."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from plugin.admin import dashboard_page, i18n, ops_pages, sections

TEMPLATES = Path(i18n.__file__).parent / "templates"


def messages() -> set[str]:
    found = set()
    for template in TEMPLATES.rglob("*.html"):
        found |= set(re.findall(r'_\("((?:[^"\\]|\\.)*)"', template.read_text(encoding="utf-8")))
    for section in sections.SECTIONS:
        found |= {section.title, section.summary}
        for group in section.groups:
            found |= {group.title, group.description, group.family} - {None}
            for field in group.fields:
                found |= {field.label, field.help} - {None}
                found |= {label for _value, label in field.choices}
    found |= set(sections.KIND_LABELS.values()) | set(sections.CHANNEL_LABELS.values())
    for labels in (ops_pages.TRACKING_LABELS, ops_pages.TYPE_LABELS, ops_pages.ORDER_EVENT_LABELS,
                   ops_pages.FLAG_LABELS, ops_pages.STATUS_LABELS, ops_pages.VISIT_LABELS):
        found |= set(labels.values())
    found |= {"Webhook inbox"}  # the Health page's tile titles, passed to _() as a variable
    # The dashboard words its figures in Python.
    source = Path(dashboard_page.__file__).read_text(encoding="utf-8")
    found |= {m.replace('\\"', '"') for m in re.findall(r'_\("((?:[^"\\]|\\.)*)"', source)}
    for labels in (dashboard_page.TOUCHPOINT_LABELS, dashboard_page.LATENESS_LABELS, dashboard_page.BREAKDOWN_LABELS,
                   dashboard_page.WHO_LABELS, dict(dashboard_page.PRESETS)):
        found |= set(labels.values())
    return found


@pytest.mark.parametrize("locale", sorted(i18n.CATALOGS))
def test_every_message_is_translated(locale):
    missing = sorted(messages() - set(i18n.CATALOGS[locale]))
    assert missing == []


@pytest.mark.parametrize("locale", sorted(i18n.CATALOGS))
def test_placeholders_survive_translation(locale):
    for english, translated in i18n.CATALOGS[locale].items():
        assert set(re.findall(r"\{\w+\}", english)) == set(re.findall(r"\{\w+\}", translated)), english


def test_unknown_locales_fall_back_to_english():
    assert i18n.gettext(i18n.locale_of("pt-BR"), "Save") == "Save"
    assert i18n.gettext(i18n.locale_of("es-MX"), "Save") == "Guardar"


def test_one_english_word_in_two_contexts_can_differ_in_gender():
    # A return (un retour, una devolución) and an order (une commande, un pedido) cancelled.
    assert i18n.gettext("en", "return.status|Cancelled") == i18n.gettext("en", "order.status|Cancelled") == "Cancelled"
    assert (i18n.gettext("fr", "return.status|Cancelled"), i18n.gettext("fr", "order.status|Cancelled")) == (
        "Annulé", "Annulée")
    assert (i18n.gettext("es", "return.status|Cancelled"), i18n.gettext("es", "order.status|Cancelled")) == (
        "Cancelada", "Cancelado")
    # A context missing from a catalog still shows the English word, never the key.
    assert i18n.gettext("pt", "return.status|Closed") == "Closed"
    assert i18n.gettext("en", "Shipping | Returns") == "Shipping | Returns"  # a bar alone is no context
