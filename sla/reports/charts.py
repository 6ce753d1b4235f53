"""The reports' charts as SVG drawn here, inline in the page: no chart library, no CDN, nothing
for the Content-Security-Policy to refuse (presentation attributes, no style attributes or
scripts). Every chart has a title and a description for screen readers, and its numbers are
written on it or in its CSV.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from .figures import FRT_LABELS, WEEKDAY_NAMES, Table

# Distinguishable on white and for the common colour blindnesses (Okabe-Ito), then greys.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#555555", "#999999")
ACCENT = "#4338ca"
GRID = "#e5e7eb"
TEXT = "#374151"
FONT = 'font-family="system-ui, sans-serif" font-size="11"'


def _svg(width: int, height: int, label: str, body: list[str]) -> SafeString:
    inner = "".join(body)
    return mark_safe(  # noqa: S308 (every text put in is escaped where it is added)
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg" {FONT}>'
        f"<title>{escape(label)}</title>{inner}</svg>"
    )


def _text(x: float, y: float, text: Any, anchor: str = "start", fill: str = TEXT) -> str:
    return str(
        format_html(
            '<text x="{}" y="{}" text-anchor="{}" fill="{}">{}</text>',
            f"{x:.1f}",
            f"{y:.1f}",
            anchor,
            fill,
            text,
        )
    )


def response_rate(table: Table) -> SafeString:
    """One line per store (daily response rate, %), the market targets dashed."""
    days: list[date] = table.extra["days"]
    stores = table.extra["stores"]
    width, height, left, right, top, bottom = 720, 260, 40, 150, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    index = {day.isoformat(): n for n, day in enumerate(days)}
    step = plot_w / max(len(days) - 1, 1)

    def y(percent: float) -> float:
        return top + plot_h * (1 - percent / 100)

    body = []
    for percent in (0, 25, 50, 75, 100):
        body.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(percent):.1f}" '
            f'y2="{y(percent):.1f}" stroke="{GRID}"/>'
        )
        body.append(_text(left - 4, y(percent) + 4, f"{percent}%", "end"))
    for n in range(0, len(days), max(len(days) // 6, 1)):
        body.append(_text(left + n * step, height - 8, days[n].strftime("%d %b"), "middle"))
    targets = sorted({row[5] for row in table.rows}) or []
    for target in targets:
        body.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(target):.1f}" y2="{y(target):.1f}" '
            f'stroke="{TEXT}" stroke-dasharray="5 4"/>'
        )
        body.append(_text(left + plot_w + 4, y(target) + 4, f"target {target}%"))
    legend_y = top + 14 + 16 * len(targets)
    for n, store in enumerate(stores):
        colour = PALETTE[n % len(PALETTE)]
        points = [
            f"{left + index[row[0]] * step:.1f},{y(row[4]):.1f}"
            for row in table.rows
            if row[1] == store.name and row[4] is not None and row[0] in index
        ]
        if len(points) == 1:
            x_, y_ = points[0].split(",")
            body.append(f'<circle cx="{x_}" cy="{y_}" r="3" fill="{colour}"/>')
        elif points:
            body.append(
                f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" '
                'stroke-width="2"/>'
            )
        body.append(
            f'<rect x="{left + plot_w + 4}" y="{legend_y + 16 * n - 8}" width="10" height="10" '
            f'fill="{colour}"/>'
        )
        body.append(_text(left + plot_w + 18, legend_y + 16 * n + 1, store.name[:18]))
    return _svg(width, height, "Daily response rate per store against the target", body)


def bars(table: Table, labels: list[str], values: list[float], *, label: str) -> SafeString:
    """Vertical bars with their value above each."""
    width, height, top, bottom = 360, 200, 18, 24
    plot_h = height - top - bottom
    peak = max(values, default=0) or 1
    slot = width / max(len(values), 1)
    body = [f'<line x1="0" x2="{width}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="{GRID}"/>']
    for n, (name, value) in enumerate(zip(labels, values, strict=True)):
        bar_h = plot_h * value / peak
        x = n * slot + slot * 0.2
        body.append(
            f'<rect x="{x:.1f}" y="{top + plot_h - bar_h:.1f}" width="{slot * 0.6:.1f}" '
            f'height="{bar_h:.1f}" fill="{ACCENT}"/>'
        )
        body.append(_text(x + slot * 0.3, top + plot_h - bar_h - 4, f"{value:,.0f}", "middle"))
        body.append(_text(x + slot * 0.3, height - 8, name, "middle"))
    return _svg(width, height, label, body)


def first_response(table: Table) -> SafeString:
    return bars(
        table,
        list(FRT_LABELS),
        [row[1] for row in table.rows],
        label="First response time: how many first replies took 0-2, 2-12, 12-24 or over 24 h",
    )


def _shade(share: float) -> str:
    """White to the accent colour."""
    r, g, b = 0x43, 0x38, 0xCA
    mix = 0.08 + 0.92 * share if share > 0 else 0
    return "#{:02x}{:02x}{:02x}".format(*(round(255 + (c - 255) * mix) for c in (r, g, b)))


def volume(table: Table) -> SafeString:
    grid: list[list[int]] = table.extra["grid"]
    cell, left, top = 24, 36, 16
    width, height = left + 24 * cell + 4, top + 7 * cell + 4
    peak = max((max(row) for row in grid), default=0) or 1
    body = []
    for hour in range(0, 24, 3):
        body.append(_text(left + hour * cell + cell / 2, top - 4, f"{hour:02d}", "middle"))
    for wd, row in enumerate(grid):
        body.append(_text(left - 6, top + wd * cell + cell / 2 + 4, WEEKDAY_NAMES[wd], "end"))
        for hour, count in enumerate(row):
            body.append(
                f'<rect x="{left + hour * cell}" y="{top + wd * cell}" width="{cell - 2}" '
                f'height="{cell - 2}" fill="{_shade(count / peak)}" stroke="{GRID}">'
                f"<title>{WEEKDAY_NAMES[wd]} {hour:02d}:00 — {count:,} buyer messages</title>"
                "</rect>"
            )
    return _svg(width, height, "Buyer messages by weekday and hour of the day", body)


def attainment(table: Table) -> SafeString:
    """Agents down, weeks across; each cell the week's attainment in words and shade."""
    weeks: list[date] = table.extra["weeks"][-12:]
    agents = sorted({row[1] for row in table.rows})
    cells = {(row[0], row[1]): row for row in table.rows}
    left, top, cell_w, cell_h = 200, 18, 56, 22
    width, height = left + cell_w * max(len(weeks), 1) + 4, top + cell_h * max(len(agents), 1) + 4
    body = []
    for n, week in enumerate(weeks):
        body.append(
            _text(left + n * cell_w + cell_w / 2, top - 5, week.strftime("%d %b"), "middle")
        )
    for m, agent in enumerate(agents):
        body.append(_text(left - 6, top + m * cell_h + cell_h / 2 + 4, agent[:30], "end"))
        for n, week in enumerate(weeks):
            row = cells.get((week.isoformat(), agent))
            if row is None or row[4] is None:
                continue
            percent = row[4]
            body.append(
                f'<rect x="{left + n * cell_w}" y="{top + m * cell_h}" width="{cell_w - 2}" '
                f'height="{cell_h - 2}" fill="{_shade(percent / 100)}"/>'
            )
            body.append(
                _text(
                    left + n * cell_w + cell_w / 2,
                    top + m * cell_h + cell_h / 2 + 4,
                    f"{percent:g}%",
                    "middle",
                    "#ffffff" if percent >= 50 else TEXT,
                )
            )
    return _svg(width, height, "SLA attainment per agent per week", body)


def backlog(table: Table) -> SafeString:
    labels = [row[0] + ("+" if row[2] else "") for row in table.rows]
    return bars(table, labels, [row[1] for row in table.rows], label="Current backlog")


def intents(table: Table) -> SafeString:
    """One horizontal bar per intent (every intent, none left out), its count and share."""
    left, right, top, row_h = 150, 90, 4, 20
    width, height = 520, top + row_h * len(table.rows) + 4
    plot_w = width - left - right
    peak = max((row[2] for row in table.rows), default=0) or 1
    body = [f'<line x1="{left}" x2="{left}" y1="0" y2="{height}" stroke="{GRID}"/>']
    for n, (_, label, count, share) in enumerate(table.rows):
        y = top + n * row_h
        body.append(_text(left - 6, y + row_h / 2 + 4, label, "end"))
        bar_w = plot_w * count / peak
        if count:
            body.append(
                f'<rect x="{left}" y="{y + 3}" width="{bar_w:.1f}" height="{row_h - 6}" '
                f'fill="{ACCENT}"/>'
            )
        words = f"{count:,}" + (f" · {share:g}%" if share is not None else "")
        body.append(_text(left + bar_w + 6, y + row_h / 2 + 4, words))
    return _svg(width, height, "Buyer messages by intent: how many, and their share", body)


CHARTS = {
    "response-rate": response_rate,
    "first-response": first_response,
    "attainment": attainment,
    "volume": volume,
    "backlog": backlog,
    "intents": intents,
}
