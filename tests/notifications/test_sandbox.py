"""Merchants' own templates: refused when saved if they could do harm or
could not render, contained if one gets through anyway."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from plugin import settings
from plugin.models import Setting
from plugin.notifications import placeholders, sandbox
from tests.conftest import db

LINK = "{{ tracking_url }}"


@pytest.mark.parametrize("part,source,message", [
    ("body", "Hi {{ first_name }\n" + LINK, "unexpected '}'"),
    ("body", "{% if first_name %}Hi" + LINK, "endif"),
    ("subject", "Order {{ order_name", "line 1"),
    ("body", "{{ ''.__class__.__mro__ }}" + LINK, "is not a placeholder"),
    ("body", "{{ first_name.__class__ }}", "is not a placeholder"),
    ("body", "{% for i in range(10**9) %}x{% endfor %}" + LINK, "range is limited"),
    ("body", "{{ 'x' * 10485760 }}" + LINK, "too long"),
    ("body", "{% for i in range(99) %}" + "{{ tracking_url }}" * 20 + "{% endfor %}", "longer than"),
    ("body", "{% for a in range(99) %}{% for b in range(99) %}{% endfor %}{% endfor %}", "loop inside a loop"),
    ("body", "{{ cycler.__init__.__globals__ }}", "is not a placeholder"),
    ("body", "{{ 'a'.ljust(99999999) }}", "only range() may be called"),
    ("body", "{{ tracking_url|center(99999999) }}", "no filter 'center'"),
    ("body", "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "macro is not allowed"),
    ("body", "{% include 'base.txt' %}", "include is not allowed"),
    ("body", "{{ order.email }}", "no placeholder 'order'"),
    ("body", "{{ 9 ** 9 ** 9 }}", "power is too large"),
])
def test_a_template_that_could_not_render_is_refused_when_saved_naming_the_field(app, shop, part, source, message):
    value = {"subject": "Your order", "body": "Hello {{ first_name }}"}
    value[part] = source
    session = db()
    with pytest.raises(settings.Invalid) as refused:
        settings.update(session, shop, {"templates.shipped.de": value})
    assert refused.value.field == f"templates.shipped.de.{part}"
    assert message in refused.value.message
    session.rollback()
    assert db().scalars(select(Setting).where(Setting.shop_id == shop)).all() == []


def test_a_good_template_is_saved(app, shop):
    session = db()
    value = {"subject": "{{ order_name }} ist unterwegs", "body": "Hallo {{ first_name|default('') }},\n" + LINK}
    assert settings.update(session, shop, {"templates.shipped.de": value})["templates.shipped.de"] == value


def test_harm_that_got_past_the_checks_is_contained_at_render_time():
    """A template stored before a check existed still cannot escape or run away."""
    values = dict(placeholders.SAMPLE)
    started = time.monotonic()
    for body in ["{{ ''.__class__.__mro__ }}", "{% for i in range(10**9) %}x{% endfor %}",
                 "{{ 'x' * 10485760 }}", "{% for i in range(100) %}" + "{{ tracking_url }}" * 50 + "{% endfor %}"]:
        with pytest.raises(sandbox.TemplateFailed):
            # sandbox.render parses (with the same rules) before it runs
            sandbox.render({"subject": "s", "body": body}, values)
    assert time.monotonic() - started < 2


def test_the_html_part_escapes_the_merchants_text_and_the_customers_values():
    subject, text, html = sandbox.render(
        {"subject": "Hi {{ first_name }}", "body": "<b>Dear</b> {{ first_name }},\nsee {{ tracking_url }}"},
        dict(placeholders.SAMPLE, first_name="<script>x</script>"))
    assert subject == "Hi <script>x</script>"  # a header, not HTML
    assert text == "<b>Dear</b> <script>x</script>,\nsee https://example.com/t/sample"
    assert str(html) == ("&lt;b&gt;Dear&lt;/b&gt; &lt;script&gt;x&lt;/script&gt;,<br>\n"
                         'see <a href="https://example.com/t/sample">https://example.com/t/sample</a>')


def test_a_value_cannot_break_the_subject_line():
    subject, _text, _html = sandbox.render({"subject": "Hi {{ first_name }}", "body": LINK},
                                           dict(placeholders.SAMPLE, first_name="Ana\r\nBcc: x@example.com"))
    assert subject == "Hi Ana Bcc: x@example.com"
