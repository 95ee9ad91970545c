"""A report's HTML file opened in Chromium as someone would open the e-mailed file: the
title, the rows and the chart render from the file alone (nothing fetched)."""

from __future__ import annotations

from tests.unit.test_report_runs import home, jet  # noqa: F401


def test_the_html_report_renders_in_chromium(home, page, artifacts, tmp_path):  # noqa: F811
    out = tmp_path / "plans.html"
    ran = jet("report", "run", "plan_revenue", "--realm", "acme", "--format", "html",
              "--out", str(out))  # fmt: skip
    assert ran.exit_code == 0, ran.output
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(out.as_uri())
    assert page.title() == "Revenue per plan"
    assert page.locator("h1").inner_text() == "Revenue per plan"
    cells = page.locator("tbody tr").all_inner_texts()
    assert [" ".join(c.split()) for c in cells] == [
        "acme biz 2026-01-01 99.99",
        "acme home 2026-01-01 1234.50",
        "acme home 2026-02-01 1300.00",
    ]
    chart = page.locator("figure.chart svg")
    assert chart.is_visible() and chart.locator("rect").count() > 3
    assert chart.bounding_box()["width"] > 300
    assert requests == [out.as_uri()]  # self-contained: nothing else was fetched
    page.screenshot(path=artifacts / "report-html.png", full_page=True)
