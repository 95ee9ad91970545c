"""Refusals shown as messages rather than tracebacks, on every page of both apps."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from jet.errors import JetError


@contextmanager
def shown_refusals(stop: bool = True) -> Iterator[None]:
    """A refusal (`Forbidden`, `NotYours`, or any JetError: an unknown account, a catalog
    that does not validate, a declined card) shown as its message; with `stop`, the rest of
    the page is not run (a read that failed), without, it is (an action that failed, under
    its form)."""
    try:
        yield
    except JetError as err:
        st.error(str(err), icon=":material/block:")
        if stop:
            st.stop()
