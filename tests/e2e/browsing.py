"""What the browser tests do on a page of Jet's Streamlit apps (console and portal): wait
for a run to finish, open a page from the sidebar, keep a screenshot."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

LONG_RUN = 600_000  # ms: a billing cycle runs dbt and Dagster on the server


def settled(page: Page) -> None:
    """Until the app's script has finished its run (Streamlit marks it on the page; its
    own browser tests wait on the same attribute)."""
    page.wait_for_timeout(150)  # a click's rerun may not have begun yet
    app = page.get_by_test_id("stApp")
    expect(app).to_have_attribute("data-test-script-state", "notRunning", timeout=LONG_RUN)


def shot(page: Page, artifacts: Path, name: str) -> None:
    """The whole page once it has settled (tables are drawn on a canvas just after)."""
    settled(page)
    page.wait_for_timeout(300)
    page.screenshot(path=artifacts / f"{name}.png", full_page=True)


def open_page(page: Page, title: str) -> None:
    """Through the sidebar, as a person does (a new URL would start a new session)."""
    page.get_by_role("navigation").get_by_role("link", name=title, exact=True).click()
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()


def no_exception(page: Page) -> None:
    expect(page.get_by_test_id("stException")).to_have_count(0)
