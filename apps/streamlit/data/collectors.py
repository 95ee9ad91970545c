"""Each collector's health: the last packet of every NAS and NetFlow exporter."""

from __future__ import annotations

import polars as pl

from apps.streamlit.data.guard import may
from apps.streamlit.data.marts import frame, has
from jet.config import Settings
from jet.roles import Staff


def collectors(settings: Settings, staff: Staff) -> pl.DataFrame:
    """The senders of the landed usage, the most silent first (fct_source_freshness).
    Senders are the network's, not a realm's: the role decides (admins)."""
    may(settings, staff, "collectors.read")
    if not has(settings, "fct_source_freshness"):
        return pl.DataFrame()
    return frame(
        settings,
        """select source, sender, sender_name, last_landed_at, silent_seconds, status
           from fct_source_freshness order by silent_seconds desc, source, sender""",
    )
