"""The Overview page's figures, from the published marts, in the staff member's realms:
revenue, MRR, active accounts and ARPU by month, receivables by age and collections;
money by currency (staff of several realms may see several)."""

from __future__ import annotations

from datetime import date

import polars as pl

from apps.streamlit.data.collectors import collectors
from apps.streamlit.data.guard import may
from apps.streamlit.data.marts import SCOPED, frame, has, in_scope, per_publish
from apps.streamlit.data.quality import held_invoices, quality
from jet.config import Settings
from jet.roles import Staff

# Months of history the charts show.
MONTHS = 12

# The lines of the charts' months summed per realm (`{sums}`), then per currency: a realm
# bills in one currency (dim_accounts has it) and a billing account is of one realm, so
# amounts of different currencies are never added and counts per realm add up.
_BY_REALM = f"""
    select date_trunc('month', bill_date)::date as month, realm_id, {{sums}}
    from fct_invoice_lines where {SCOPED} and bill_date >= $since group by all
"""
_CURRENCIES = "left join (select distinct realm_id, currency from dim_accounts) using (realm_id)"
_NO_CURRENCY = "cross join (select null::varchar as currency)"  # dim_accounts not published


def overview(settings: Settings, staff: Staff) -> dict[str, pl.DataFrame]:
    """Each chart's frame, by name; a mart not published yet leaves its charts out."""
    may(settings, staff, "overview.read")
    out = dict(
        per_publish(
            settings, ("overview", staff.realms, date.today()), lambda: _figures(settings, staff)
        )
    )
    if staff.role == "admin":
        out["held_invoices"] = held_invoices(settings, staff)
        out["quality"] = quality(settings, staff)
        out["collectors"] = collectors(settings, staff)
    return out


def _figures(settings: Settings, staff: Staff) -> dict[str, pl.DataFrame]:
    """The charts of the marts, made once per publish and set of realms (`per_publish`)."""
    scope = in_scope(staff.realms) | {"since": _since()}
    out: dict[str, pl.DataFrame] = {}
    if has(settings, "fct_invoice_lines"):
        currencies = _CURRENCIES if has(settings, "dim_accounts") else _NO_CURRENCY
        by_product = _BY_REALM.format(sums="product_id as product, sum(amount) as revenue")
        out["revenue_by_month_plan"] = frame(
            settings,
            f"""select month, product, currency, sum(revenue) as revenue
                from ({by_product}) {currencies} group by all order by month, product, currency""",
            scope,
        )
        by_month = _BY_REALM.format(
            sums="""sum(amount) filter (where kind = 'advance') as mrr, sum(amount) as revenue,
                    count(distinct billing_account_id) as accounts"""
        )
        monthly = frame(
            settings,
            f"""select month, currency, sum(mrr) as mrr, sum(accounts)::bigint as accounts,
                       round(sum(revenue) / sum(accounts), 2) as arpu
                from ({by_month}) {currencies} group by all order by month, currency""",
            scope,
        )
        out["mrr"] = monthly.select("month", "currency", "mrr")
        out["arpu"] = monthly.select("month", "currency", "arpu")
        out["active_accounts"] = monthly.group_by("month", maintain_order=True).agg(
            pl.col("accounts").sum()
        )
    if has(settings, "fct_invoices"):
        out["receivables_by_age"] = frame(
            settings,
            f"""select case when age <= 30 then '0-30 days' when age <= 60 then '31-60 days'
                            when age <= 90 then '61-90 days' else 'over 90 days' end as age,
                       currency, sum(amount_due) as due
                from (select currency, amount_due, $today - bill_date as age
                      from fct_invoices where {SCOPED} and amount_due > 0)
                group by all order by age, currency""",
            in_scope(staff.realms) | {"today": date.today()},
        )
    if has(settings, "fct_ledger_entries"):
        out["collections"] = frame(
            settings,
            f"""select date_trunc('month', entry_date)::date as month, currency,
                       sum(amount) as collected
                from fct_ledger_entries
                where {SCOPED} and kind = 'payment' and entry_date >= $since
                group by all order by month, currency""",
            scope,
        )
    return out


def _since() -> date:
    today = date.today()
    month = today.month - MONTHS
    return date(today.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)
