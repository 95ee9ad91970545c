"""What the console's pages read and do, scoped to the staff member signed in: each read
checks the role (`jet.roles.check`) and keeps to their realms in its query; the marts
are read through DuckDB (`marts`), the store only through the core's functions."""

from apps.streamlit.data.accounts import account_page, search_accounts
from apps.streamlit.data.catalog import catalog_versions
from apps.streamlit.data.collectors import collectors
from apps.streamlit.data.guard import AccountNotFound
from apps.streamlit.data.invoices import invoices
from apps.streamlit.data.overview import overview
from apps.streamlit.data.quality import held_invoices, quality

__all__ = [
    "AccountNotFound", "account_page", "catalog_versions", "collectors", "held_invoices",
    "invoices", "overview", "quality", "search_accounts",
]  # fmt: skip
