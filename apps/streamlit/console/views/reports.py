"""Reports: the standard and custom reports (`jet report`) of what the last build
published, for the staff member's realms, with their chart and a download in every
format; and the exports written so far (`jet invoice export`, `jet invoice journal`),
for staff of every realm."""

import streamlit as st

from apps.streamlit.console.context import page
from apps.streamlit.console.navigation import exports
from apps.streamlit.data import reports
from apps.streamlit.refusals import shown_refusals
from reports.report_charts import chart_svg
from reports.report_formats import FORMATS, render

settings, staff = page("reports.read")
st.title("Reports")
with shown_refusals():
    found = reports.reports_for(settings, staff)
if not found:
    st.info("No reports: `jet report list` shows what there is.")
    st.stop()
chosen = st.selectbox(
    "Report", found, format_func=lambda r: f"{r.title} ({r.name}, {r.kind})", key="report"
)
st.caption(chosen.description)
realms = sorted(staff.realms) if staff.realms is not None else [None]
names = {p.name for p in chosen.parameters}
cols = st.columns(3)
realm = cols[0].selectbox("Realm", realms, format_func=lambda r: r or "every realm")
start = cols[1].date_input("From", value=None) if "from" in names else None
end = cols[2].date_input("To", value=None) if "to" in names else None
if st.button("Run", type="primary"):
    with shown_refusals(), st.spinner(f"Running {chosen.name}"):
        st.session_state["report_result"] = reports.run(settings, staff, chosen, realm, start, end)
result = st.session_state.get("report_result")
if result is not None and result.report.name == chosen.name:
    st.write(f"{result.table.num_rows:,} rows, made {result.generated_at:%Y-%m-%d %H:%M} UTC")
    svg = chart_svg(result.table, result.report.chart)
    if svg:
        st.html(svg)
    st.dataframe(result.table.slice(0, 5000).to_pandas(), hide_index=True)
    buttons = st.columns(len(FORMATS))
    for column, fmt in zip(buttons, FORMATS, strict=True):
        column.download_button(
            fmt,
            data=lambda fmt=fmt: render(result, fmt),
            file_name=f"{result.report.name}.{fmt}",
            on_click="ignore",
            key=f"report_{fmt}",
        )

files = exports(settings) if staff.realms is None else []
if files:
    st.subheader("Exports")
for path in files:
    st.download_button(
        f"{path.name} ({path.stat().st_size:,} bytes)",
        data=path.read_bytes,
        file_name=path.name,
        on_click="ignore",
        key=f"export_{path.name}",
    )
