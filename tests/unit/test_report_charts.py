"""Charts draw their axes in the values' own order: hours 0 to 23, not "10" before "2"."""

from __future__ import annotations

import re

import pyarrow as pa

from reports.report_charts import chart_svg


def labels(svg: str) -> list[str]:
    return re.findall(r">([^<>]+)</text>", svg)


def test_a_heatmaps_hours_and_weekdays_run_in_numeric_order():
    table = pa.table({
        "hour": [h for h in range(24) for _ in (1, 2)],
        "weekday": [d for _ in range(24) for d in (10, 2)],
        "gigabytes": [1.0] * 48,
    })  # fmt: skip
    svg = chart_svg(table, {"kind": "heatmap", "x": "hour", "y": "gigabytes", "series": "weekday"})
    shown = labels(svg)
    assert [t for t in shown if t in {"2", "10"}][:2] == ["2", "10"]  # rows: 2 above 10
    hours = [t for t in shown if t.isdigit()][2:]
    assert hours == [str(h) for h in range(24)]


def test_bars_over_dates_and_numbers_keep_their_order():
    table = pa.table({"months_since": [10, 2, 1], "accounts": [3, 2, 1]})
    svg = chart_svg(table, {"kind": "bar", "x": "months_since", "y": "accounts"})
    assert [t for t in labels(svg) if t in {"1", "2", "10"}][-3:] == ["1", "2", "10"]
