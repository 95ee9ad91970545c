"""Usage: this cycle against the plan's allowances, a daily chart, the sessions (start,
end, bytes, NAS), and for a prepaid account its credit and what it still buys."""

import polars as pl
import streamlit as st

from apps.streamlit.data import portal
from apps.streamlit.portal.context import page
from apps.streamlit.refusals import shown_refusals

settings, customer, account = page("Usage")
with shown_refusals():
    used = portal.usage(settings, customer, account)

st.caption(f"Account {used['account']} · plan {used['plan'] or 'none'} · "
           f"this cycle from {used['cycle_start']}")  # fmt: skip
prepaid = used["prepaid"]
if prepaid is not None:
    st.metric("Prepaid credit", f"{prepaid['currency']} {prepaid['credit']}")
    for item in prepaid["buys"]:
        st.caption(f"It still buys {item['quantity']} {item['unit'] or ''} of {item['what']}")
for row in used["allowances"].iter_rows(named=True):
    share = min(float(row["percent"] or 0) / 100, 1.0)
    st.progress(
        share,
        text=f"{row['product']}: {row['used']:.3f} of {row['included']:.0f} {row['unit'] or ''}"
        f" ({row['percent']} %)",
    )
st.subheader("Daily usage (GB)")
daily = used["daily"]
if daily.is_empty():
    st.caption("No usage yet this cycle: it appears after the next rating run.")
else:
    st.bar_chart(daily, x="day", y=["gigabytes_in", "gigabytes_out"])
MEGABYTES = [
    (pl.col("bytes_in") / 1e6).round(1).alias("MB in"),
    (pl.col("bytes_out") / 1e6).round(1).alias("MB out"),
]
if not used["online"].is_empty():
    st.subheader("Online now")
    online = used["online"].with_columns(MEGABYTES)
    st.dataframe(online.select("start", "MB in", "MB out", "nas", "last_seen"), hide_index=True)
st.subheader("Sessions")
sessions = used["sessions"].with_columns(MEGABYTES)
st.dataframe(sessions.select("started_at", "ended_at", "MB in", "MB out", "nas"), hide_index=True)
