"""The dashboard's charts: pygal draws each on the server as inline SVG.

pygal's own script (its tooltips, and the config it writes inline) is
dropped: the admin's Content-Security-Policy runs no inline script without
the page's nonce, and nothing needs it. The SVG scales to its box (a
viewBox, no fixed size), so a chart fits a 360 px screen. Labels and
figures arrive already formatted for the admin's locale; pygal escapes
them as XML text. Every chart also has its figures in a table beside it
(the templates), and a short text alternative (``describe``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

import pygal
from markupsafe import Markup
from pygal.style import Style

# pygal appends an old-style import hook to sys.meta_path for its map plugins
# (pygal.maps.*, unused here); lacking find_spec, it makes Python 3.11 warn
# (ImportWarning) on every import that misses. Take it out again.
sys.meta_path[:] = [finder for finder in sys.meta_path if not isinstance(finder, pygal.PluginImportFixer)]

FONT = ('-apple-system, BlinkMacSystemFont, "San Francisco", "Segoe UI", Roboto, "Helvetica Neue", '
        '"DejaVu Sans", sans-serif')
STYLE = Style(
    background="transparent", plot_background="transparent", foreground="#616161",
    foreground_strong="#303030", foreground_subtle="#e3e3e3", opacity=".9", opacity_hover="1",
    colors=("#005bd3", "#8e1f0b", "#0c5132", "#5e4200"), font_family=FONT,
    label_font_size=14, major_label_font_size=14, legend_font_size=14, value_font_size=14,
    no_data_font_size=14, guide_stroke_color="#e3e3e3", major_guide_stroke_color="#e3e3e3",
)
COMMON = dict(style=STYLE, js=[], disable_xml_declaration=True, explicit_size=False, margin=8, margin_right=28,
              spacing=8, truncate_label=-1, print_values=False, show_x_guides=False, max_scale=5)


def _ticks(bounds: tuple[float, float] | None) -> list[float] | None:
    """Five guides across a fixed scale (0–100 %, 1–7, −100–100); pygal picks them otherwise."""
    if bounds is None:
        return None
    low, high = bounds
    return [low + (high - low) * i / 4 for i in range(5)] if high - low != 6 else [1, 3, 5, 7]


def _without_script(root):
    """Drop pygal's <script> elements (see the module's docstring), its
    comments (a credit line and links) and its <title> ("Pygal"); the SVG is
    hidden from assistive technology, which reads the text alternative of
    the element around it instead."""
    for parent in list(root.iter()):
        for child in list(parent):
            if not isinstance(child.tag, str) or child.tag.rsplit("}", 1)[-1] in ("script", "title"):
                parent.remove(child)
    root.set("aria-hidden", "true")
    root.set("focusable", "false")
    return root


def _svg(chart) -> Markup:
    chart.add_xml_filter(_without_script)
    return Markup(chart.render(is_unicode=True))  # pygal built it as XML: its text is escaped


def _every(count: int, most: int) -> int:
    """Label every n-th point so at most ``most`` labels show."""
    return max(1, -(-count // most))


def trend(labels: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]],
          formatter: Callable[[float], str], *, bounds: tuple[float, float] | None = None,
          no_data: str = "No data", legend: bool = False) -> Markup:
    """A line per series over the weeks ``labels``; None leaves a gap."""
    chart = pygal.Line(width=420, height=190, value_formatter=formatter, range=bounds, show_legend=legend,
                       legend_at_bottom=True, legend_at_bottom_columns=len(series), no_data_text=no_data,
                       x_labels=list(labels), x_labels_major_every=_every(len(labels), 5),
                       show_minor_x_labels=False, dots_size=3, allow_interruptions=True,
                       include_x_axis=bounds is None, y_labels=_ticks(bounds), **COMMON)
    for name, values in series:
        chart.add(name, list(values))
    return _svg(chart)


def bars(labels: Sequence[str], values: Sequence[float | None], formatter: Callable[[float], str], *,
         bounds: tuple[float, float] | None = None, no_data: str = "No data") -> Markup:
    """One horizontal bar per group (a breakdown), top to bottom as given."""
    height = 60 + 34 * max(1, len(labels))
    chart = pygal.HorizontalBar(width=420, height=height, y_labels=_ticks(bounds), value_formatter=formatter, range=bounds,
                                no_data_text=no_data, x_labels=list(reversed(labels)), show_legend=False,
                                **COMMON)
    chart.add("", list(reversed(values)))
    return _svg(chart)


def describe(title: str, labels: Sequence[str], texts: Sequence[str]) -> str:
    """The chart's text alternative: its title, then each label's figure."""
    return f"{title}: " + "; ".join(f"{label} {text}" for label, text in zip(labels, texts))
