"""The catalog versions of the staff member's realms."""

from __future__ import annotations

import polars as pl

from apps.streamlit.data.guard import may
from jet.config import Settings
from jet.realms import catalog_versions as stored_versions
from jet.roles import Staff
from jet.store.db import session


def catalog_versions(settings: Settings, staff: Staff) -> pl.DataFrame:
    may(settings, staff, "catalog.read")
    with session(settings.db_url) as s:
        rows = stored_versions(s, staff.realms)
    return pl.DataFrame(
        rows,
        schema={
            "realm": pl.String, "effective_from": pl.Date, "plans": pl.Int64,
            "products": pl.Int64, "loaded_at": pl.Datetime(time_zone="UTC"), "checksum": pl.String,
        },
    )  # fmt: skip
