"""Charts as plain SVG strings, drawn on the server.

No script and no library: the same `<svg>` is put inline in the statistics
page (it scales with its card through `viewBox`) and in the PDF (WeasyPrint
draws inline SVG, text included, so the labels stay selectable text). The
charts only draw figures a selector already computed; the tables beside
them carry the exact numbers.
"""

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from accounts.i18n import in_english

WIDTH = 480
HEIGHT = 260
LEFT = 50  # room for the axis labels
RIGHT = 12
TOP = 36  # room for the legend
BOTTOM = 44  # room for the category labels
FONT = "Noto Sans CJK SC, Noto Sans SC, Microsoft YaHei, sans-serif"
COLORS = ("#c8102e", "#0b57a4", "#2e7d32", "#ef6c00", "#6a1b9a")
GRID = "#dddddd"
INK = "#333333"

Number = int | Decimal


@dataclass
class Series:
    name: str
    values: Sequence[Number]


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def nice_step(value: float, *, whole: bool) -> float:
    """A grid step of 1, 2, 2.5 or 5 × 10ⁿ such that four steps reach
    `value`; counts get whole steps (1, 2, 5 × 10ⁿ, at least 1)."""
    quarter = value / 4
    if quarter <= 0 or (whole and quarter <= 1):
        return 1.0
    power = 10 ** math.floor(math.log10(quarter))
    steps = (1, 2, 5, 10) if whole else (1, 2, 2.5, 5, 10)
    for step in steps:
        candidate = step * power
        if candidate >= quarter and (not whole or candidate >= 1):
            return float(candidate)
    return float(10 * power)  # pragma: no cover - the loop always returns


def short(value: float, money: bool) -> str:
    """A bar's label: whole numbers, and big amounts in ten-thousands (万),
    or in English in thousands (k)."""
    if money and abs(value) >= 10000:
        if in_english():
            return f"{value / 1000:,.0f}k"
        return _("%(n)s万") % {"n": f"{value / 10000:.1f}"}
    return f"{value:,.0f}"


def bar_chart(
    title: str, labels: Sequence[str], series: Sequence[Series], *, money: bool = False
) -> SafeString:
    """Bars per category; several series stand side by side with a legend."""
    count = max(len(labels), 1)
    groups = max(len(series), 1)
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    highest = max((float(v) for s in series for v in s.values), default=0.0)
    top_value = 4 * nice_step(highest, whole=not money)
    slot = plot_w / count
    bar = min(slot * 0.8 / groups, 48.0)
    base_y = TOP + plot_h
    label_size = 12 if slot >= 40 else 10

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" preserveAspectRatio="xMidYMid meet" role="img" '
        f'aria-label="{_esc(title)}" class="chart" font-family="{FONT}" font-size="12">',
        f"<title>{_esc(title)}</title>",
    ]
    # Grid lines and the axis labels: 0, ¼, ½, ¾ and the top.
    for i in range(5):
        value = top_value * i / 4
        y = base_y - plot_h * i / 4
        out.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" '
            f'stroke="{GRID if i else INK}" stroke-width="{0.6 if i else 1}"/>'
        )
        out.append(
            f'<text x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end" fill="{INK}">'
            f"{_esc(short(value, money))}</text>"
        )
    for index, label in enumerate(labels):
        left = LEFT + slot * index + (slot - bar * groups) / 2
        for g, s in enumerate(series):
            value = float(s.values[index]) if index < len(s.values) else 0.0
            height = plot_h * value / top_value if top_value else 0
            x = left + g * bar
            color = COLORS[g % len(COLORS)]
            tip = _("%(what)s：%(value)s") % {
                "what": f"{label} {s.name}",
                "value": short(value, money),
            }
            out.append(
                f'<rect x="{x:.1f}" y="{base_y - height:.1f}" width="{bar:.1f}" '
                f'height="{height:.1f}" fill="{color}"><title>{_esc(tip)}</title></rect>'
            )
            if value:
                out.append(
                    f'<text x="{x + bar / 2:.1f}" y="{base_y - height - 3:.1f}" '
                    f'text-anchor="middle" font-size="{label_size - 1}" fill="{INK}">'
                    f"{_esc(short(value, money))}</text>"
                )
        center = LEFT + slot * index + slot / 2
        out.append(
            f'<text x="{center:.1f}" y="{base_y + 16}" text-anchor="middle" '
            f'font-size="{label_size}" fill="{INK}">{_esc(label)}</text>'
        )
    # The legend, top left, when there is more than one series.
    if len(series) > 1:
        x = float(LEFT)
        for g, s in enumerate(series):
            color = COLORS[g % len(COLORS)]
            out.append(f'<rect x="{x:.1f}" y="9" width="13" height="13" fill="{color}"/>')
            out.append(f'<text x="{x + 16:.1f}" y="20" fill="{INK}">{_esc(s.name)}</text>')
            x += 26 + 13 * len(s.name)
    out.append("</svg>")
    return mark_safe("".join(out))  # noqa: S308 - every text went through html.escape
