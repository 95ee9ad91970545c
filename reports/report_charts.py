"""A report's chart as one SVG, for both its HTML page (inline) and its PDF (fpdf2 draws
SVG): bars or lines of `y` over `x`, one colour per `series`, or a heatmap of `y` over
`x` by `series`. Plain SVG with no script or external reference, so the page stays
self-contained and the PDF renders it the same."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from decimal import Decimal
from html import escape

import pyarrow as pa

WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 70, 150, 20, 60
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")
MAX_X = 60  # the last categories shown: a chart of more says nothing more


def chart_svg(table: pa.Table, spec: Mapping[str, str] | None) -> str | None:
    """The SVG of `spec` over `table`, or None (no chart asked, or nothing to draw)."""
    if not spec or table.num_rows == 0:
        return None
    names = set(table.column_names)
    x, y, series = spec["x"], spec.get("y"), spec.get("series")
    if x not in names or y not in names or (series and series not in names):
        return None
    points: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    xs = table.column(x).to_pylist()
    ys = table.column(y).to_pylist()
    ss = table.column(series).to_pylist() if series else [y] * len(xs)
    for xv, yv, sv in zip(xs, ys, ss, strict=True):
        if yv is not None:
            points[str(sv)][str(xv)] += float(yv) if isinstance(yv, Decimal) else yv
    categories = [str(v) for v in _in_order(xs) if any(str(v) in p for p in points.values())]
    categories = categories[-MAX_X:]
    if not categories:
        return None
    if spec["kind"] == "heatmap":
        return _heatmap(points, categories, f"{y} by {x} and {series}")
    return _plot(points, categories, spec["kind"], f"{y} by {x}")


def _in_order(values: list) -> list:
    """The distinct values in their own order (hours 0, 1, 2 ... 10, not "10" before
    "2"; dates by date), None last."""
    return sorted(set(values), key=lambda v: (v is None, v if v is not None else 0))


def _frame(title: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="10" '
        f'aria-label="{escape(title)}"><rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>'
        + "".join(body)
        + "</svg>"
    )


def _plot(
    points: Mapping[str, Mapping[str, float]], categories: list[str], kind: str, title: str
) -> str:
    top = max([0.0, *(v for s in points.values() for v in s.values())])
    low = min([0.0, *(v for s in points.values() for v in s.values())])
    span = (top - low) or 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / len(categories)

    def at(value: float) -> float:
        return TOP + plot_h * (top - value) / span

    body = [
        f'<line x1="{LEFT}" y1="{at(0):.1f}" x2="{LEFT + plot_w}" y2="{at(0):.1f}" stroke="#444"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="#444"/>',
    ]
    for value in (low, (low + top) / 2, top):
        body.append(
            f'<text x="{LEFT - 4}" y="{at(value) + 3:.1f}" text-anchor="end">{value:,.0f}</text>'
        )
    label_every = max(1, len(categories) // 12)
    for i, name in enumerate(categories):
        if i % label_every == 0:
            x = LEFT + step * (i + 0.5)
            body.append(
                f'<text x="{x:.1f}" y="{TOP + plot_h + 12}" text-anchor="end" '
                f'transform="rotate(-35 {x:.1f} {TOP + plot_h + 12})">{escape(name[:16])}</text>'
            )
    bar_w = step * 0.8 / max(1, len(points))
    for n, (series, values) in enumerate(sorted(points.items())):
        colour = COLOURS[n % len(COLOURS)]
        if kind == "bar":
            for i, name in enumerate(categories):
                value = values.get(name, 0.0)
                x = LEFT + step * (i + 0.1) + bar_w * n
                y0, y1 = sorted((at(0), at(value)))
                body.append(
                    f'<rect x="{x:.1f}" y="{y0:.1f}" width="{bar_w:.1f}" '
                    f'height="{max(y1 - y0, 0.5):.1f}" fill="{colour}"/>'
                )
        else:
            line = " ".join(
                f"{LEFT + step * (i + 0.5):.1f},{at(values.get(name, 0.0)):.1f}"
                for i, name in enumerate(categories)
            )
            body.append(f'<polyline points="{line}" fill="none" stroke="{colour}" '
                        'stroke-width="2"/>')  # fmt: skip
        y, key = TOP + 14 * n, WIDTH - RIGHT + 10
        body.append(f'<rect x="{key}" y="{y}" width="10" height="10" fill="{colour}"/>')
        body.append(f'<text x="{WIDTH - RIGHT + 24}" y="{y + 9}">{escape(series[:20])}</text>')
    return _frame(title, body)


def _heatmap(points: Mapping[str, Mapping[str, float]], categories: list[str], title: str) -> str:
    rows = sorted(points, key=lambda r: (0, int(r)) if r.lstrip("-").isdigit() else (1, r))
    top = max([v for s in points.values() for v in s.values()] or [1.0]) or 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    cell_w, cell_h = plot_w / len(categories), plot_h / max(1, len(rows))
    body = []
    for r, row in enumerate(rows):
        y = TOP + cell_h * r
        body.append(f'<text x="{LEFT - 4}" y="{y + cell_h / 2 + 3:.1f}" text-anchor="end">'
                    f"{escape(row[:12])}</text>")  # fmt: skip
        for c, name in enumerate(categories):
            share = points[row].get(name, 0.0) / top
            shade = int(255 - 200 * max(0.0, min(1.0, share)))
            body.append(
                f'<rect x="{LEFT + cell_w * c:.1f}" y="{y:.1f}" width="{cell_w:.1f}" '
                f'height="{cell_h:.1f}" fill="rgb({shade},{shade},255)"/>'
            )
    for c, name in enumerate(categories):
        x = LEFT + cell_w * (c + 0.5)
        body.append(f'<text x="{x:.1f}" y="{TOP + plot_h + 12}" text-anchor="middle">'
                    f"{escape(name[:6])}</text>")  # fmt: skip
    return _frame(title, body)
