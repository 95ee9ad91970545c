"""Data contracts: what every landed table and billing mart must hold before invoices
go out on it (docs/decisions.md, "Data quality").

A contract is a table as its checks see it, the SQL that reads it with the derived
columns its rules need, and its checks. Each check is one rule on one column: Great
Expectations validates it (jet/quality/validation.py) and, when it fails, the rule's own
SQL finds the failing rows again, so the gate can name them and hold only the bill dates
they touch. A blocking check's failure holds those invoices; a warning's is reported and
holds nothing. Checks are named `<asset>.<check>`; names under `freshness.` belong to
source freshness (dagster_jet/freshness.py), which warns and never holds.

The SQL runs in DuckDB (jet/quality/frames.py) over a view `rows` of the table: for a raw
source, the rows of the files the run bills, each with `_file`, `_row`, `_partition_date`,
`_partition_offset_days` (its timestamp's UTC date less that), `_landed_date` and
`_schema_mismatch`; for a mart, its Parquet file with `_schema_mismatch`. It may read the
ops snapshot's `accounts` and `invoices`, the store's `remote_realms`, the mart
`fct_invoice_lines`, the macros `utc_date` and `holds_until`, and the parameters `$first`
and `$last` (the run's bill dates) and `$first_day` (the first day they bill, a month
before `$first`). Every frame has `_realm` (null: every realm) and `_hold_from`/`_hold_to`:
the bill dates a failing row holds. A usage row dated D holds D + 1 day to
`holds_until(D)`: every bill date whose monthly arrears window can contain D.
"""

from __future__ import annotations

from dataclasses import dataclass

# --- rules -----------------------------------------------------------------------------


@dataclass(frozen=True)
class IsNull:
    """`column` is null in every row: a derived column that names what is wrong."""

    column: str

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.column,)

    def failing(self) -> str:
        return f"select * from frame where {self.column} is not null"


@dataclass(frozen=True)
class Between:
    """`column` lies in [low, high] (an open end is None); nulls pass."""

    column: str
    low: float | None = None
    high: float | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.column,)

    def failing(self) -> str:
        outside = [f"{self.column} < {self.low}"] if self.low is not None else []
        outside += [f"{self.column} > {self.high}"] if self.high is not None else []
        return f"select * from frame where {' or '.join(outside)}"


@dataclass(frozen=True)
class InSet:
    """`column` is one of `values`; nulls pass."""

    column: str
    values: tuple[str, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.column,)

    def failing(self) -> str:
        listed = ", ".join(f"'{v}'" for v in self.values)
        return f"select * from frame where {self.column} not in ({listed})"


@dataclass(frozen=True)
class Equal:
    """`column` equals `other` in every row (both null passes)."""

    column: str
    other: str

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.column, self.other)

    def failing(self) -> str:
        return f"select * from frame where {self.column} is distinct from {self.other}"


@dataclass(frozen=True)
class Unique:
    """No two rows share the values of `key`."""

    key: tuple[str, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return self.key

    def failing(self) -> str:
        key = ", ".join(self.key)
        return f"select * from frame qualify count(*) over (partition by {key}) > 1"


Rule = IsNull | Between | InSet | Equal | Unique


@dataclass(frozen=True)
class Check:
    """One rule of a contract: what must hold (`description`), whether its failure holds
    invoices (`blocking`), and what a person does when it fails (`action`)."""

    name: str
    rule: Rule
    blocking: bool
    description: str
    action: str


@dataclass(frozen=True)
class Contract:
    """A table as its checks see it. `source` names a raw source (schemas/raw.py) or a
    mart (`fct_...`); `columns` are a mart's required columns and DuckDB types (a raw
    source's are its landing schema); `sample` identifies a failing row in reports."""

    asset: str
    source: str
    sql: str
    sample: tuple[str, ...]
    checks: tuple[Check, ...]
    columns: tuple[tuple[str, str], ...] = ()

    @property
    def is_raw(self) -> bool:
        return not self.columns


# --- the checks every table shares ------------------------------------------------------

# Landing files every row under the UTC date of its timestamp (ingest/landing.py), so the
# tolerance is nothing: a row elsewhere was written by hand or by a faulty collector.
PARTITION_TOLERANCE_DAYS = 0

_RELAND = (
    "the file was not written by ingest/landing.py (a faulty collector or a copied file): "
    "remove it and its manifest (_manifests/<batch>.json) and land its records again"
)


def _columns(what: str) -> Check:
    return Check(
        "columns",
        IsNull("_schema_mismatch"),
        blocking=True,
        description=f"every file has the columns and types {what}",
        action=_RELAND
        if what.startswith("landing")
        else "rebuild the marts (`jet rate`); "
        "if a model changed on purpose, change its contract in schemas/contracts.py with it",
    )


def _not_negative(column: str, what: str, action: str = _RELAND) -> Check:
    return Check(
        f"{column}_not_negative",
        Between(column, low=0),
        blocking=True,
        description=f"{what} is never negative",
        action=action,
    )


def _in_partition(column: str) -> Check:
    return Check(
        f"{column}_in_partition",
        Between("_partition_offset_days", -PARTITION_TOLERANCE_DAYS, PARTITION_TOLERANCE_DAYS),
        blocking=True,
        description=f"{column} falls on the date of its file's date= partition",
        action=_RELAND,
    )


def _known_account(what: str) -> Check:
    return Check(
        "known_account",
        IsNull("_unknown_account"),
        blocking=True,
        description=f"{what} names an account in the store",
        action="create the missing account (or fix the name it is known by at the source) "
        "so its usage is billed, or remove the rows if they are not usage of yours",
    )


def _usage_holds(day: str) -> str:
    """The bill dates a usage row holds: those whose arrears windows can contain any of
    `day`, its partition's date and the day it landed (late usage is billed late)."""
    days = f"{day}, _partition_date, _landed_date"
    return f"least({days}) + 1 as _hold_from, holds_until(greatest({days})) as _hold_to"


# --- raw sources -------------------------------------------------------------------------

RADIUS = Contract(
    asset="raw_radius",
    source="radius",
    sql=f"""
        select
            rows._file, rows._row, rows.event_time, rows.status_type, rows.user_name,
            rows.input_octets, rows.output_octets, rows.session_time, rows._schema_mismatch,
            rows._partition_offset_days,
            case when rows.user_name is not null and accounts.account_id is null
                and remote_realms.realm is null then rows.user_name end as _unknown_account,
            case when lower(nullif(split_part(rows.user_name, '@', 2), '')) <> accounts.realm_id
                and remote_realms.realm is null then rows.user_name end as _other_realm,
            accounts.realm_id as _realm,
            {_usage_holds("utc_date(rows.event_time)")}
        from rows
        left join accounts on accounts.account_id = split_part(rows.user_name, '@', 1)
        left join remote_realms
            on remote_realms.realm = lower(split_part(rows.user_name, '@', 2))
    """,
    sample=("_file", "_row", "event_time", "status_type", "user_name"),
    checks=(
        _columns("landing writes (schemas/raw.py)"),
        _not_negative("input_octets", "Acct-Input-Octets"),
        _not_negative("output_octets", "Acct-Output-Octets"),
        _not_negative("session_time", "Acct-Session-Time"),
        _in_partition("event_time"),
        _known_account("every user name (user or user@realm, but a remote realm's)"),
        Check(
            "realm_of_account",
            IsNull("_other_realm"),
            blocking=False,
            description="a user@realm name's realm is its account's realm (or a remote realm)",
            action="the usage is billed to the account's own realm; check the NAS's realm "
            "(`jet nas list`) and the user's login name",
        ),
        Check(
            "status_type_known",
            InSet(
                "status_type",
                ("Start", "Interim-Update", "Stop", "Accounting-On", "Accounting-Off"),
            ),
            blocking=False,
            description="Acct-Status-Type is Start, Interim-Update, Stop, Accounting-On or -Off",
            action="rating ignores other records; check what the NAS sends",
        ),
    ),
)

NETFLOW = Contract(
    asset="raw_netflow",
    source="netflow",
    sql=f"""
        select
            rows._file, rows._row, rows.exporter, rows.first_ts, rows.last_ts, rows.bytes,
            rows.packets, rows._schema_mismatch,
            rows._partition_offset_days,
            epoch(rows.last_ts) - epoch(rows.first_ts) as _flow_seconds,
            cast(null as varchar) as _realm,  -- flows are attributed by address, later
            {_usage_holds("utc_date(rows.last_ts)")}
        from rows
    """,
    sample=("_file", "_row", "exporter", "first_ts", "last_ts"),
    checks=(
        _columns("landing writes (schemas/raw.py)"),
        _not_negative("bytes", "a flow's bytes"),
        _not_negative("packets", "a flow's packets"),
        _in_partition("last_ts"),
        Check(
            "first_ts_not_after_last_ts",
            Between("_flow_seconds", low=0),
            blocking=False,
            description="a flow does not end before it starts",
            action="the flow is billed at its end (last_ts); check the exporter's clock",
        ),
    ),
)

UPSTREAM_CSV = Contract(
    asset="raw_upstream_csv",
    source="upstream_csv",
    sql=f"""
        select
            rows._file, rows._row, rows.account_id, rows.ts, rows.bytes_in, rows.bytes_out,
            rows.seconds, rows.source_file, rows.source_line, rows._batch_id,
            rows._schema_mismatch,
            rows._partition_offset_days,
            case when accounts.account_id is null then rows.account_id end as _unknown_account,
            accounts.realm_id as _realm,
            {_usage_holds("utc_date(rows.ts)")}
        from rows
        left join accounts using (account_id)
    """,
    sample=("_file", "_row", "account_id", "ts", "source_file", "source_line"),
    checks=(
        _columns("landing writes (schemas/raw.py)"),
        _not_negative("bytes_in", "bytes in"),
        _not_negative("bytes_out", "bytes out"),
        _not_negative("seconds", "a record's seconds"),
        _in_partition("ts"),
        _known_account("every record"),
        Check(
            "lines_landed_once",
            Unique(("_batch_id", "source_line")),
            blocking=True,
            description="each line of an imported file is landed once",
            action="a batch's file is in the lake twice (copied by hand): remove the copy "
            "that its manifest (_manifests/<batch>.json) does not list",
        ),
    ),
)

# --- billing marts -------------------------------------------------------------------------

_MONEY = "DECIMAL(18,3)"
_NEGATIVE_USAGE = (
    "a raw source has negative counters (its checks name the rows) or a usage model is "
    "wrong: fix that, then run the bill date again"
)

USAGE_DAILY = Contract(
    asset="fct_usage_daily",
    source="fct_usage_daily",
    columns=(
        ("account_id", "VARCHAR"),
        ("usage_date", "DATE"),
        ("source", "VARCHAR"),
        ("bytes_in", "BIGINT"),
        ("bytes_out", "BIGINT"),
        ("seconds", "BIGINT"),
    ),
    sql="""
        select
            rows.account_id, rows.usage_date, rows.source, rows.bytes_in, rows.bytes_out,
            rows.seconds, rows._schema_mismatch,
            case when accounts.account_id is null then rows.account_id end as _unknown_account,
            accounts.realm_id as _realm,
            rows.usage_date + 1 as _hold_from,
            holds_until(rows.usage_date) as _hold_to
        from rows
        left join accounts using (account_id)
        where rows.usage_date >= $first_day and rows.usage_date < $last
    """,
    sample=("account_id", "usage_date", "source"),
    checks=(
        _columns("the marts' contract lists"),
        _not_negative("bytes_in", "a day's bytes in", _NEGATIVE_USAGE),
        _not_negative("bytes_out", "a day's bytes out", _NEGATIVE_USAGE),
        _not_negative("seconds", "a day's seconds", _NEGATIVE_USAGE),
        _known_account("every day of usage"),
    ),
)

INVOICE_LINES = Contract(
    asset="fct_invoice_lines",
    source="fct_invoice_lines",
    columns=(
        ("line_key", "VARCHAR"),
        ("billing_account_id", "VARCHAR"),
        ("realm_id", "VARCHAR"),
        ("bill_date", "DATE"),
        ("account_id", "VARCHAR"),
        ("kind", "VARCHAR"),
        ("period_start", "DATE"),
        ("period_end", "DATE"),
        ("amount", _MONEY),
        ("status", "VARCHAR"),
    ),
    sql="""
        select
            rows.line_key, rows.billing_account_id, rows.bill_date, rows.kind,
            rows.period_start, rows.period_end, rows.amount, rows._schema_mismatch,
            rows.period_end - rows.period_start as _period_days,
            rows.realm_id as _realm,
            rows.bill_date as _hold_from,
            rows.bill_date as _hold_to
        from rows
        where rows.status = 'draft' and rows.bill_date between $first and $last
    """,
    sample=("line_key", "billing_account_id", "bill_date", "period_start", "period_end"),
    checks=(
        _columns("the marts' contract lists"),
        Check(
            "period_ordered",
            Between("_period_days", low=0),
            blocking=True,
            description="a line's period does not end before it starts",
            action="a rating model is wrong: fix it, then run the bill date again",
        ),
    ),
)

INVOICE_DRAFTS = Contract(
    asset="fct_invoice_drafts",
    source="fct_invoice_drafts",
    columns=(
        ("billing_account_id", "VARCHAR"),
        ("bill_date", "DATE"),
        ("realm_id", "VARCHAR"),
        ("currency", "VARCHAR"),
        ("minor_units", "INTEGER"),
        ("line_count", "BIGINT"),
        ("subtotal", _MONEY),
        ("tax", _MONEY),
        ("total", _MONEY),
    ),
    sql="""
        with lines as (
            select billing_account_id, bill_date, sum(amount) as subtotal
            from fct_invoice_lines
            where status = 'draft' and bill_date between $first and $last
            group by all
        )

        select
            rows.billing_account_id, rows.bill_date, rows.subtotal, rows.tax, rows.total,
            rows._schema_mismatch,
            rows.subtotal + rows.tax as _subtotal_plus_tax,
            coalesce(lines.subtotal, 0) as _lines_subtotal,
            (select min(invoice_number) from invoices
             where invoices.document_kind = 'invoice'
               and invoices.account_id = rows.billing_account_id
               and invoices.bill_date = rows.bill_date) as _issued_invoice,
            rows.realm_id as _realm,
            rows.bill_date as _hold_from,
            rows.bill_date as _hold_to
        from rows
        left join lines using (billing_account_id, bill_date)
        where rows.bill_date between $first and $last
    """,
    sample=("billing_account_id", "bill_date", "subtotal", "tax", "total"),
    checks=(
        _columns("the marts' contract lists"),
        Check(
            "total_is_subtotal_plus_tax",
            Equal("total", "_subtotal_plus_tax"),
            blocking=True,
            description="an invoice's total is its subtotal plus its tax",
            action="a rating model is wrong: fix it, then run the bill date again",
        ),
        Check(
            "subtotal_is_sum_of_lines",
            Equal("subtotal", "_lines_subtotal"),
            blocking=True,
            description="an invoice's subtotal is the sum of its draft lines",
            action="the marts are from different runs or a model is wrong: rebuild them "
            "(`jet rate`), then run the bill date again",
        ),
        Check(
            "not_invoiced_already",
            IsNull("_issued_invoice"),
            blocking=True,
            description="no account is invoiced twice for one bill date",
            action="the draft's lines would be dropped as already issued: a rating model "
            "should have moved them to the next bill date; fix it and run again",
        ),
    ),
)

CONTRACTS: tuple[Contract, ...] = (
    RADIUS,
    NETFLOW,
    UPSTREAM_CSV,
    USAGE_DAILY,
    INVOICE_LINES,
    INVOICE_DRAFTS,
)


def check_names() -> dict[str, tuple[Contract, Check]]:
    """Every check by its full name, `<asset>.<check>`."""
    return {f"{c.asset}.{check.name}": (c, check) for c in CONTRACTS for check in c.checks}
