"""`jet docs` on a home with no warehouse yet (a fresh clone): dbt's documentation site is
one page that opens from disk in Chromium, with the lineage mart's page and its lineage
graph from the raw sources."""

from __future__ import annotations

from click.testing import CliRunner

from jet.cli import main


def test_the_docs_site_opens_from_disk_with_the_lineage_graph(
    page, artifacts, tmp_path, monkeypatch
):
    monkeypatch.setenv("JET_HOME", str(tmp_path / "home"))
    ran = CliRunner().invoke(main, ["docs"])
    assert ran.exit_code == 0, ran.output
    site = tmp_path / "home" / "docs" / "index.html"
    assert f"wrote {site}" in ran.output
    page.goto(f"{site.as_uri()}#!/model/model.jet.fct_invoice_line_sources")
    page.get_by_text("int_usage_records").first.wait_for(timeout=30_000)  # its depends-on
    page.get_by_text("fct_invoice_line_sources").first.wait_for()
    page.screenshot(path=artifacts / "docs-lineage-mart.png", full_page=True)
    page.locator("a[title='View Lineage Graph']").click()
    graph = page.locator("#graph-viz-wrapper canvas").last  # cytoscape draws the graph
    graph.wait_for(timeout=30_000)
    assert graph.bounding_box()["width"] > 300
    page.screenshot(path=artifacts / "docs-lineage-graph.png")
