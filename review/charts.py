"""Chart geometry for the dashboard, drawn as inline SVG by the templates.

Server-side SVG needs no script and no third-party code in the browser, so the strict Content
Security Policy (no scripts at all) holds on the dashboard too. Colours come from CSS classes
(``c0``..``c11``), since the policy also forbids inline styles.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PALETTE = 12


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str
    anchor: str = "middle"


@dataclass
class Chart:
    width: int
    height: int
    bars: list[Bar] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    gridlines: list[tuple[float, float, float, float]] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)
    empty: bool = False


def _nice_max(value: float) -> int:
    if value <= 5:
        return 5
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return int(step * magnitude)
    return int(value)


def stacked_columns(columns: list[str], series: dict[str, list[int]], width: int = 760, height: int = 260) -> Chart:
    """One column per time window, stacked by series (e.g. clause); ``series[name][i]`` is column i."""
    left, bottom, top = 40, 34, 10
    chart = Chart(width, height)
    totals = [sum(values[i] for values in series.values()) for i in range(len(columns))]
    if not columns or not any(totals):
        chart.empty = True
        return chart
    peak = _nice_max(max(totals))
    plot_h = height - bottom - top
    slot = (width - left - 10) / len(columns)
    bar_w = max(2.0, slot * 0.7)
    for tick in range(5):
        value = peak * tick / 4
        y = top + plot_h - plot_h * tick / 4
        chart.gridlines.append((left, y, width - 10, y))
        chart.labels.append(Label(left - 6, y + 4, f"{value:g}", "end"))
    names = sorted(series)
    chart.legend = [(name, f"c{i % PALETTE}") for i, name in enumerate(names)]
    every = max(1, len(columns) // 8)
    for i, column in enumerate(columns):
        x = left + slot * i + (slot - bar_w) / 2
        base = float(top + plot_h)
        for s, name in enumerate(names):
            value = series[name][i]
            if not value:
                continue
            h = plot_h * value / peak
            base -= h
            chart.bars.append(
                Bar(
                    round(x, 1),
                    round(base, 1),
                    round(bar_w, 1),
                    round(h, 1),
                    f"c{s % PALETTE}",
                    f"{column}: {name} {value}",
                )
            )
        if i % every == 0:
            chart.labels.append(Label(round(x + bar_w / 2, 1), height - bottom + 16, column))
    return chart


def horizontal_bars(rows: list[tuple[str, int]], width: int = 480, row_h: int = 26) -> Chart:
    """One labelled bar per row (e.g. volume by platform), longest first as given."""
    label_w = 110
    chart = Chart(width, max(row_h * len(rows) + 10, 40))
    if not rows or not any(v for _, v in rows):
        chart.empty = True
        return chart
    peak = max(v for _, v in rows)
    for i, (name, value) in enumerate(rows):
        y = 5 + i * row_h
        w = (width - label_w - 60) * value / peak
        chart.bars.append(Bar(label_w, y, round(max(w, 1.0), 1), row_h - 8, f"c{i % PALETTE}", f"{name}: {value}"))
        chart.labels.append(Label(label_w - 8, y + row_h / 2 + 1, name[:16], "end"))
        chart.labels.append(Label(round(label_w + w + 6, 1), y + row_h / 2 + 1, str(value), "start"))
    return chart
