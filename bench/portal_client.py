"""A Streamlit client small enough to run fifty of in one process: it speaks the app's
websocket protocol (/_stcore/stream, protobuf BackMsg up, ForwardMsg down) as the
browser's JavaScript does, without rendering anything, so that what bench_portal.py
times is the server's work and the wire, not a browser's layout.

A run is one `rerun_script` request (the page to run, the query string, the widget values
the user set) and lasts until the server says `script_finished` (a run that ends in
`st.rerun()` is followed by the next one, as the browser sees it). Each run keeps the
widgets it drew (by form and label, with their ids), its alerts and exceptions, and the
app's pages as `st.navigation` sent them."""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass, field

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import ClientConnection, connect

WIDGETS = ("text_input", "text_area", "button", "selectbox", "radio", "download_button")
DONE = (ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_WITH_COMPILE_ERROR)
ALERT_KINDS = {1: "error", 2: "warning", 3: "info", 4: "success"}


@dataclass
class Run:
    """What one run of a page drew, as far as the bench needs it."""

    seconds: float = 0.0
    widgets: dict[tuple[str, str], str] = field(default_factory=dict)  # (form, label) -> id
    alerts: list[tuple[str, str]] = field(default_factory=list)  # (kind, text)
    exceptions: list[str] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    bytes: int = 0


class StreamlitSession:
    """One browser tab's session with the app at `url` (wss://host:port/)."""

    def __init__(self, url: str, query: str, tls: ssl.SSLContext | None) -> None:
        self.url = url.rstrip("/") + "/_stcore/stream"
        self.query = query
        self.tls = tls
        self.pages: dict[str, tuple[str, str]] = {}  # title -> (script hash, url path)
        self.page_hash = ""
        self._ws: ClientConnection | None = None

    async def open(self) -> None:
        self._ws = await connect(
            self.url, ssl=self.tls, subprotocols=["streamlit"], max_size=None, open_timeout=60
        )

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()

    async def run(self, page: str | None = None, values: dict[str, object] | None = None) -> Run:
        """Run `page` (a title from the navigation; None: the page now shown) with the
        widget `values` (id -> str for text, True for a button), and wait for its end."""
        assert self._ws is not None, "open() the session first"
        state = ClientState(query_string=self.query)
        if page is not None:
            self.page_hash, path = self.pages[page]
            state.page_name = path
        state.page_script_hash = self.page_hash
        for widget_id, value in (values or {}).items():
            state.widget_states.widgets.append(_widget_state(widget_id, value))
        began = time.perf_counter()
        await self._ws.send(BackMsg(rerun_script=state).SerializeToString())
        run = Run()
        while True:
            data = await self._ws.recv()
            run.bytes += len(data)
            msg = ForwardMsg()
            msg.ParseFromString(data)
            kind = msg.WhichOneof("type")
            if kind == "delta":
                _read_delta(msg, run)
            elif kind == "navigation":
                self.pages = {
                    p.page_name: (p.page_script_hash, p.url_pathname)
                    for p in msg.navigation.app_pages
                }
                self.page_hash = msg.navigation.page_script_hash
            elif kind == "script_finished":
                if msg.script_finished in DONE:
                    break
                run = Run(bytes=run.bytes)  # ended for a rerun: the next run draws the page
        run.seconds = time.perf_counter() - began
        return run


def _widget_state(widget_id: str, value: object) -> WidgetState:
    if value is True:
        return WidgetState(id=widget_id, trigger_value=True)
    return WidgetState(id=widget_id, string_value=str(value))


def _read_delta(msg: ForwardMsg, run: Run) -> None:
    if msg.delta.WhichOneof("type") != "new_element":
        return
    element = msg.delta.new_element
    kind = element.WhichOneof("type")
    if kind in WIDGETS:
        widget = getattr(element, kind)
        run.widgets[(widget.form_id, widget.label)] = widget.id
    elif kind == "alert":
        run.alerts.append((ALERT_KINDS.get(element.alert.format, "?"), element.alert.body))
    elif kind == "exception":
        run.exceptions.append(f"{element.exception.type}: {element.exception.message}")
    elif kind == "heading":
        run.titles.append(element.heading.body)
