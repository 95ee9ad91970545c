"""Frames of the data layer drawn as charts: the first text or date column along the x
axis, a second one (a plan, an age bucket) as the colour, the numbers as bars or lines."""

from __future__ import annotations

from typing import Literal

import polars as pl
import streamlit as st


def chart(title: str, frame: pl.DataFrame | None, kind: Literal["bar", "line"] = "bar") -> None:
    st.subheader(title)
    if frame is None or frame.is_empty():
        st.caption("Nothing yet: it appears after the next billing or rating run.")
        return
    numeric = [c for c, t in frame.schema.items() if t.is_numeric()]
    labels = [c for c in frame.columns if c not in numeric and not c.endswith("_id")]
    if not numeric or not labels:
        st.dataframe(frame, hide_index=True)
        return
    # Money is Decimal in the marts; a chart only needs to draw it.
    shown = frame.with_columns(pl.col(numeric).cast(pl.Float64))
    x, color = labels[0], (labels[1] if len(labels) > 1 else None)
    draw = st.line_chart if kind == "line" else st.bar_chart
    draw(shown, x=x, y=numeric[0] if color else numeric, color=color)


def metrics(frame: pl.DataFrame | None, label: str) -> None:
    """The last row's numbers of a one-figure-per-row frame (active accounts, ARPU)."""
    if frame is None or frame.is_empty():
        st.metric(label, "–")
        return
    numeric = [c for c, t in frame.schema.items() if t.is_numeric()]
    if not numeric:
        st.metric(label, "–")
        return
    value = frame.tail(1).row(0, named=True)[numeric[0]]
    # Counts as they are; amounts (Decimal in the marts, a float where DuckDB divided) to cents.
    st.metric(label, f"{value:,}" if isinstance(value, int) else f"{value:,.2f}")
