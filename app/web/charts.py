"""Server-side SVG charts: pure functions from (label, value) pairs to SVG markup.

No Flask, no JavaScript: the caller passes labels and texts already translated, and a function
that writes a value (a rate as "50.0%", hours as "3.00"). Every chart is an accessible image
(`role="img"`, an `aria-label` and a `<title>`), every bar and point has its own `<title>` (shown
on hover), and every text is escaped. A page shows the chart's table beside it: the table is the
exact figure, the chart the shape.

Colours are presentation attributes (the chart reads well on its own, e.g. saved as a file); a
page may restyle the CSS classes `chart`, `bar`, `line`, `point`, `axis`, `grid`, `label`,
`value`, `caption`, `empty`. A bar's extra class (`classes`) lets the page colour it (levels).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

Datum = tuple[str, float | None]
ValueText = Callable[[float], str]

FONT_SIZE = 12
BRAND = "#1f5fad"
INK = "#1f2933"
MUTED = "#6b7785"
LINE = "#dde3ea"
# Characters XML 1.0 does not allow (C0 controls but tab/newline/return, surrogates, U+FFFE/U+FFFF).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_CLASS = re.compile(r"[^A-Za-z0-9_-]")


def number_text(value: float) -> str:
    """12 → "12", 2.5 → "2.5", 0.125 → "0.13"."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


def text_width(text: str, size: float = FONT_SIZE) -> float:
    """An estimate of the width of a text: wide (CJK) characters one em, the others 0.6 em."""
    return sum(size if unicodedata.east_asian_width(char) in "WF" else size * 0.6 for char in text)


def clip(text: str, width: float, size: float = FONT_SIZE) -> str:
    """The text, cut with "…" so that it fits the width (estimated)."""
    if text_width(text, size) <= width:
        return text
    text = text[: int(width / (size * 0.6)) + 1]  # no more characters than the narrowest could fit
    while text and text_width(text + "…", size) > width:
        text = text[:-1]
    return text + "…"


def _text(value: object) -> Markup:
    """Escaped text for an SVG text node or attribute, without characters XML forbids."""
    return escape(_NOT_XML.sub("", str(value)))


def _n(value: float) -> str:
    """A coordinate: at most two decimals, no trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _class(name: str | None) -> str:
    return _CLASS.sub("-", name) if name else ""


def _svg(width: float, height: float, title: str, body: list[str], kind: str) -> Markup:
    label = _text(title)
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{kind}" role="img" aria-label="{label}" '
        f'width="{_n(width)}" height="{_n(height)}" viewBox="0 0 {_n(width)} {_n(height)}" '
        f'font-size="{FONT_SIZE}" fill="{INK}"><title>{label}</title>' + "".join(body) + "</svg>"
    )


def empty_chart(title: str, text: str = "No data", *, width: float = 560, height: float = 80) -> Markup:
    """A chart with nothing to draw: a dashed frame with a short text, so the page keeps its shape."""
    body = [
        f'<rect class="empty" x="0.5" y="0.5" width="{_n(width - 1)}" height="{_n(height - 1)}" rx="6" '
        f'fill="none" stroke="{LINE}" stroke-dasharray="4 3"/>',
        f'<text class="caption" x="{_n(width / 2)}" y="{_n(height / 2 + FONT_SIZE / 3)}" text-anchor="middle" '
        f'fill="{MUTED}">{_text(clip(text, width - 16))}</text>',
    ]
    return _svg(width, height, f"{title}: {text}", body, "empty")


def _has_values(data: Sequence[Datum]) -> bool:
    return any(value is not None and math.isfinite(value) for _, value in data)


def _value(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def bar_chart(
    data: Sequence[Datum],
    *,
    title: str,
    value_text: ValueText = number_text,
    classes: Sequence[str | None] | None = None,
    caption: str = "",
    empty_text: str = "No data",
    width: float = 560,
) -> Markup:
    """Horizontal bars, one per (label, value), longest for the largest value, lengths proportional.

    A value None is drawn as no bar with "—"; negative values as no bar. `classes` gives each bar an
    extra CSS class (e.g. "level-red"). `caption` names the values (under the bars). No data, or no
    value at all: `empty_chart`.
    """
    if not data or not _has_values(data):
        return empty_chart(title, empty_text, width=width)
    row, bar, top = 28.0, 18.0, 6.0
    labels = [str(label) for label, _ in data]
    values = [_value(value) for _, value in data]
    texts = ["—" if value is None else value_text(value) for value in values]
    label_width = min(max(max(text_width(label) for label in labels) + 12, 48), width * 0.4)
    value_width = max(text_width(text) for text in texts) + 12
    plot = max(width - label_width - value_width - 4, 40)
    largest = max((value for value in values if value is not None and value > 0), default=0)
    height = top * 2 + row * len(data) + (22 if caption else 0)
    body = []
    for index, (label, value, text) in enumerate(zip(labels, values, texts, strict=True)):
        y = top + row * index
        length = plot * value / largest if value is not None and value > 0 and largest else 0
        extra = _class(classes[index]) if classes and index < len(classes) else ""
        body.append(
            f'<g class="bar-row"><title>{_text(label)}: {_text(text)}</title>'
            f'<text class="label" x="{_n(label_width - 8)}" y="{_n(y + row / 2 + FONT_SIZE / 3)}" '
            f'text-anchor="end">{_text(clip(label, label_width - 12))}</text>'
            f'<rect class="bar{" " + extra if extra else ""}" x="{_n(label_width)}" y="{_n(y + (row - bar) / 2)}" '
            f'width="{_n(length)}" height="{_n(bar)}" rx="2" fill="{BRAND}"/>'
            f'<text class="value" x="{_n(label_width + length + 6)}" y="{_n(y + row / 2 + FONT_SIZE / 3)}">'
            f"{_text(text)}</text></g>"
        )
    axis_bottom = top + row * len(data)
    body.append(
        f'<line class="axis" x1="{_n(label_width)}" y1="{_n(top)}" x2="{_n(label_width)}" y2="{_n(axis_bottom)}" '
        f'stroke="{MUTED}"/>'
    )
    if caption:
        body.append(
            f'<text class="caption" x="{_n(label_width)}" y="{_n(axis_bottom + 16)}" fill="{MUTED}">'
            f"{_text(caption)}</text>"
        )
    return _svg(width, height, title, body, "bar")


def _nice_ceiling(value: float) -> float:
    """1, 2, 2.5, 5 or 10 × a power of ten, at or above the value (1 for nothing)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= value)


def line_chart(
    data: Sequence[Datum],
    *,
    title: str,
    value_text: ValueText = number_text,
    y_max: float | None = None,
    ticks: int = 4,
    caption: str = "",
    empty_text: str = "No data",
    width: float = 640,
    height: float = 240,
) -> Markup:
    """A line through the values, one point per (label, value), labels along the x axis.

    None is a gap (the line breaks there). The y axis runs from 0 to `y_max` (e.g. 1 for rates) or to
    a round number above the largest value, with `ticks` steps. Labels along the x axis are thinned
    to fit; every point has its label and value in its `<title>`. No value at all: `empty_chart`.
    """
    if not data or not _has_values(data):
        return empty_chart(title, empty_text, width=width)
    labels = [str(label) for label, _ in data]
    values = [_value(value) for _, value in data]
    highest = max(value for value in values if value is not None)
    top_value = y_max if y_max is not None and y_max > 0 else _nice_ceiling(highest)
    ticks = max(ticks, 1)
    tick_texts = [value_text(top_value * step / ticks) for step in range(ticks + 1)]
    axis_labels = [clip(label, 120) for label in labels]
    widest = max(text_width(label) for label in axis_labels) + 8
    left = max(text_width(text) for text in tick_texts) + 14
    right, top = min(max(16.0, widest / 2), 64.0), 18.0  # room for the last label
    bottom = 30.0 + (18 if caption else 0)
    plot_w, plot_h = max(width - left - right, 40), max(height - top - bottom, 40)
    slot = plot_w / len(data)  # each label has its slot; the point is at its middle

    def x_of(index: int) -> float:
        return left + slot * (index + 0.5)

    def y_of(value: float) -> float:
        return top + plot_h - plot_h * min(max(value, 0), top_value) / top_value

    body = []
    for step, text in enumerate(tick_texts):
        y = y_of(top_value * step / ticks)
        body.append(
            f'<line class="grid" x1="{_n(left)}" y1="{_n(y)}" x2="{_n(left + plot_w)}" y2="{_n(y)}" '
            f'stroke="{LINE}"/><text class="axis-label" x="{_n(left - 6)}" y="{_n(y + FONT_SIZE / 3)}" '
            f'text-anchor="end" fill="{MUTED}">{_text(text)}</text>'
        )
    body.append(
        f'<line class="axis" x1="{_n(left)}" y1="{_n(top + plot_h)}" x2="{_n(left + plot_w)}" '
        f'y2="{_n(top + plot_h)}" stroke="{MUTED}"/>'
    )
    every = max(1, math.ceil(widest / slot))
    for index, label in enumerate(axis_labels):
        if index % every == 0:
            body.append(
                f'<text class="axis-label" x="{_n(x_of(index))}" y="{_n(top + plot_h + 16)}" text-anchor="middle" '
                f'fill="{MUTED}">{_text(label)}</text>'
            )
    segments: list[list[int]] = []
    for index, value in enumerate(values):
        if value is None:
            continue
        if segments and segments[-1][-1] == index - 1:
            segments[-1].append(index)
        else:
            segments.append([index])
    for segment in segments:
        if len(segment) > 1:
            path = " ".join(
                f"{'M' if position == 0 else 'L'}{_n(x_of(index))} {_n(y_of(values[index]))}"
                for position, index in enumerate(segment)
            )
            body.append(f'<path class="line" d="{path}" fill="none" stroke="{BRAND}" stroke-width="2"/>')
    show_values = len(data) <= 16
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        if value is None:
            continue
        text = value_text(value)
        x, y = x_of(index), y_of(value)
        body.append(
            f'<g class="point-group"><title>{_text(label)}: {_text(text)}</title>'
            f'<circle class="point" cx="{_n(x)}" cy="{_n(y)}" r="3.5" fill="{BRAND}"/>'
            + (f'<text class="value" x="{_n(x)}" y="{_n(y - 8)}" text-anchor="middle">{_text(text)}</text>'
               if show_values else "")
            + "</g>"
        )  # fmt: skip
    if caption:
        body.append(
            f'<text class="caption" x="{_n(left + plot_w / 2)}" y="{_n(height - 6)}" text-anchor="middle" '
            f'fill="{MUTED}">{_text(caption)}</text>'
        )
    return _svg(width, height, title, body, "line")
