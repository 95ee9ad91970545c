"""bench/portal_client.py against a real `streamlit run` server: the load test's clients
must drive an app as a browser does (pages from st.navigation, a form filled and
submitted, a run that ends in st.rerun), or its timings mean nothing."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from urllib.request import urlopen

import pytest

from bench.portal_client import StreamlitSession

APP = """
import streamlit as st

def greet():
    st.title("Greet")
    with st.form("hello"):
        name = st.text_input("Name")
        sent = st.form_submit_button("Send")
    if sent:  # as the portal's sign-in: keep, then rerun; the next run shows it
        st.session_state["name"] = name
        st.rerun()
    if "name" in st.session_state:
        st.success(f"hello {st.session_state['name']}")

def other():
    st.title("Other")
    st.error(f"realm {st.query_params.get('realm')}")

st.navigation([st.Page(greet, title="Greet"), st.Page(other, title="Other")]).run()
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> str:
    app = tmp_path_factory.mktemp("app") / "app.py"
    app.write_text(APP)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    argv = [sys.executable, "-m", "streamlit", "run", str(app), "--server.port", str(port),
            "--server.address", "127.0.0.1", "--server.headless", "true",
            "--browser.gatherUsageStats", "false"]  # fmt: skip
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(120):
            try:
                with urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("streamlit did not start in 60 s")
        yield f"ws://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_a_form_is_filled_and_submitted_through_a_rerun(server: str) -> None:
    async def visit():
        tab = StreamlitSession(server, "realm=acme", None)
        await tab.open()
        try:
            shown = await tab.run()
            sent = await tab.run(
                values={
                    shown.widgets[("hello", "Name")]: "Ada",
                    shown.widgets[("hello", "Send")]: True,
                }
            )
            other = await tab.run("Other")
            return shown, sent, other, set(tab.pages)
        finally:
            await tab.close()

    shown, sent, other, pages = asyncio.run(visit())
    assert pages == {"Greet", "Other"}
    assert shown.titles == ["Greet"] and shown.alerts == [] and shown.seconds > 0
    assert sent.alerts == [("success", "hello Ada")]  # the run after st.rerun(), whole
    assert other.titles == ["Other"] and other.alerts == [("error", "realm acme")]
    assert not (shown.exceptions or sent.exceptions or other.exceptions)
