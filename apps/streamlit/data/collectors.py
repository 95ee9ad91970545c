"""Each collector's health: the last packet of every NAS and NetFlow exporter."""

from __future__ import annotations

import polars as pl

from apps.streamlit.data.guard import may
from apps.streamlit.data.marts import frame, has
from jet.config import Settings
from jet.nas import nas_clients
from jet.roles import Staff
from jet.store.db import session


def collectors(settings: Settings, staff: Staff) -> pl.DataFrame:
    """The senders of the landed usage, the most silent first (fct_source_freshness).
    A NAS belongs to the realm it is registered for (`jet nas add`); an exporter, or a
    sender no NAS client is registered at, to no one realm. So staff of every realm see
    every sender, and staff of some realms only the NAS of those realms."""
    may(settings, staff, "collectors.read")
    if not has(settings, "fct_source_freshness"):
        return pl.DataFrame()
    with session(settings.db_url) as s:
        theirs = [c.address for c in nas_clients(s) if staff.sees(c.realm_id)]
    return frame(
        settings,
        """select source, sender, sender_name, last_landed_at, silent_seconds, status
           from fct_source_freshness
           where $all or (source = 'radius' and list_contains($theirs, sender))
           order by silent_seconds desc, source, sender""",
        {"all": staff.realms is None, "theirs": theirs},
    )
