"""Merchants' own templates, rendered where they can do no harm.

A merchant writes a subject and a plain-text body with named placeholders
(placeholders.py). They are compiled by Jinja2's ImmutableSandboxedEnvironment
with more limits on top, because the sandbox alone guards attributes, not
time or memory:

- only the placeholder names and a `range` capped at MAX_RANGE;
- no calls but `range`, a short list of filters, no macros, imports or
  includes, no loop inside a loop, no `_private` attributes;
- `*` and `**` refuse results that would be large (``'x' * 10**9``);
- the output stops at MAX_OUTPUT characters.

The HTML part is the body's text escaped, its line breaks as <br>, and the
placeholders escaped (the tracking link a link): a merchant's text can never
become markup. ``check`` runs when a template is saved; ``render`` when a
message goes out, where any failure raises TemplateFailed and the caller
falls back to the default template.
"""

from __future__ import annotations

from functools import lru_cache

from jinja2 import Template, TemplateError, meta, nodes
from jinja2.ext import Extension
from jinja2.lexer import Token
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup, escape

from . import placeholders

MAX_RANGE = 100
MAX_OUTPUT = 20_000  # characters of a rendered subject or body
MAX_PRODUCT = 10_000  # longest string or list `*` may build
FILTERS = frozenset({"upper", "lower", "title", "capitalize", "default", "d", "trim", "truncate",
                     "e", "escape", "length", "first", "last", "join"})
FORBIDDEN = (nodes.Macro, nodes.CallBlock, nodes.Include, nodes.Import, nodes.FromImport,
             nodes.Extends, nodes.Block, nodes.FilterBlock, nodes.Assign, nodes.AssignBlock)


class TemplateFailed(Exception):
    """A merchant template that cannot be used; ``part`` is subject or body."""

    def __init__(self, part: str, message: str):
        super().__init__(f"{part}: {message}")
        self.part = part
        self.message = message


def _range(*args):
    result = range(*args)
    if len(result) > MAX_RANGE:
        raise OverflowError(f"range is limited to {MAX_RANGE} numbers")
    return result


class _Sandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**"})

    def __init__(self, **options):
        super().__init__(**options)
        self.globals = {"range": _range}
        self.filters = {name: f for name, f in self.filters.items() if name in FILTERS}
        self.tests = {name: t for name, t in self.tests.items() if name in ("defined", "none", "number", "string")}

    def call_binop(self, context, operator, left, right):
        if operator == "**":
            if not isinstance(right, int) or abs(right) > 64 or (isinstance(left, int) and abs(left) > 10**6):
                raise OverflowError("the power is too large")
            return left ** right
        for seq, times in ((left, right), (right, left)):
            if isinstance(seq, (str, list, tuple)) and isinstance(times, int) and len(seq) * times > MAX_PRODUCT:
                raise OverflowError("the repeated text is too long")
        return left * right


class _EscapeText(Extension):
    """Escapes the template's own text (and turns line breaks into <br>),
    so a merchant's text is text in the HTML part too."""

    def filter_stream(self, stream):
        for token in stream:
            if token.type == "data":
                yield Token(token.lineno, "data", str(escape(token.value)).replace("\n", "<br>\n"))
            else:
                yield token


_TEXT = _Sandbox(autoescape=False)
_HTML = _Sandbox(autoescape=True, extensions=[_EscapeText])


def _parse(env: _Sandbox, part: str, source: str):
    try:
        ast = env.parse(source)
    except TemplateError as exc:
        line = getattr(exc, "lineno", None)
        raise TemplateFailed(part, f"{exc.message if hasattr(exc, 'message') else exc}"
                             + (f" (line {line})" if line else "")) from None
    for node in ast.find_all(FORBIDDEN):
        raise TemplateFailed(part, f"{type(node).__name__.lower()} is not allowed; use the placeholders only")
    for node in ast.find_all(nodes.For):
        if node.recursive or any(True for _ in node.find_all(nodes.For)):
            raise TemplateFailed(part, "a loop inside a loop is not allowed")
    for node in ast.find_all(nodes.Call):
        if not (isinstance(node.node, nodes.Name) and node.node.name == "range"):
            raise TemplateFailed(part, "only range() may be called")
    for node in ast.find_all(nodes.Filter):
        if node.name not in FILTERS:
            raise TemplateFailed(part, f"no filter {node.name!r}")
    for node in ast.find_all(nodes.Getattr):
        if node.attr.startswith("_"):
            raise TemplateFailed(part, f"{node.attr!r} is not a placeholder")
    unknown = sorted(meta.find_undeclared_variables(ast) - set(placeholders.BY_NAME) - {"range"})
    if unknown:
        raise TemplateFailed(part, f"no placeholder {unknown[0]!r} (known: "
                             + ", ".join(p.name for p in placeholders.PLACEHOLDERS) + ")")
    return ast


@lru_cache(maxsize=256)
def _compiled(env: _Sandbox, part: str, source: str) -> Template:
    """The template checked and compiled once per source, not per message (a
    shop's saved template is the same source for all its messages); one that
    fails raises TemplateFailed each time (exceptions are not cached)."""
    _parse(env, part, source)
    return env.from_string(source)


def _run(env: _Sandbox, part: str, source: str, values: dict) -> str:
    template = _compiled(env, part, source)
    out: list[str] = []
    size = 0
    try:
        for chunk in template.generate(**values):
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise TemplateFailed(part, f"the output is longer than {MAX_OUTPUT} characters")
            out.append(chunk)
    except TemplateFailed:
        raise
    except Exception as exc:  # noqa: BLE001 - the sandbox's SecurityError, OverflowError, TypeError...
        raise TemplateFailed(part, f"{type(exc).__name__}: {exc}") from None
    return "".join(out)


def render(template: dict, context: dict) -> tuple[str, str, Markup]:
    """(subject, text body, HTML body) of a merchant template for a message
    whose placeholder values are ``context``; raises TemplateFailed."""
    subject = " ".join(_run(_TEXT, "subject", template["subject"], placeholders.values(context, html=False)).split())
    if not subject:
        raise TemplateFailed("subject", "the subject is empty")
    text = _run(_TEXT, "body", template["body"], placeholders.values(context, html=False)).strip()
    html = Markup(_run(_HTML, "body", template["body"].strip(), placeholders.values(context, html=True)))
    return subject, text, html


def check(template: dict) -> None:
    """Raises TemplateFailed when a template could not be used: a syntax
    error, a name that is no placeholder, a required placeholder missing, or
    a failure when rendered with sample values."""
    body = _parse(_TEXT, "body", template["body"])
    _parse(_TEXT, "subject", template["subject"])
    used = meta.find_undeclared_variables(body)
    for placeholder in placeholders.PLACEHOLDERS:
        if placeholder.required and placeholder.name not in used:
            raise TemplateFailed("body", f"must contain {{{{ {placeholder.name} }}}} ({placeholder.description})")
    render(template, placeholders.SAMPLE)
