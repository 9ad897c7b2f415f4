"""The shopper-facing catalogs: compiled .mo files match their .po, and
every string the templates and code mark for translation is in every one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from plugin.locales import DEFAULT_LOCALE, LOCALES

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "plugin" / "notifications" / "translations"
OTHER_LOCALES = [locale for locale in LOCALES if locale != DEFAULT_LOCALE]


def _po(locale: str):
    with open(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=locale)


@pytest.mark.parametrize("locale", OTHER_LOCALES)
def test_compiled_catalog_matches_its_po(locale):
    po = {m.id: m.string for m in _po(locale) if m.id and m.string and not m.fuzzy}
    with open(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.mo", "rb") as f:
        mo = {m.id: m.string for m in read_mo(f) if m.id}
    assert mo == po, "run: pybabel compile -d plugin/notifications/translations"


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> set[str]:
    out = tmp_path_factory.mktemp("babel") / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "-q", "extract", "-F", "babel.cfg",
                    "--no-location", "-o", str(out), "."], cwd=ROOT, check=True)
    with open(out, "rb") as f:
        return {m.id for m in read_po(f) if m.id}


@pytest.mark.parametrize("locale", OTHER_LOCALES)
def test_every_extracted_string_is_translated(extracted, locale):
    translated = {m.id for m in _po(locale) if m.id and m.string and not m.fuzzy}
    assert len(extracted) > 50
    assert sorted(extracted - translated) == [], (
        "new strings: pybabel extract -F babel.cfg --no-location --sort-output "
        "-o plugin/notifications/translations/messages.pot . && pybabel update ... && translate")


def test_the_template_file_is_current(extracted):
    with open(TRANSLATIONS / "messages.pot", "rb") as f:
        assert {m.id for m in read_po(f) if m.id} == extracted
