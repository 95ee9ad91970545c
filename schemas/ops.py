"""Arrow schemas of the operational snapshot (`lake/ops/*.parquet`) that dbt stages."""

from __future__ import annotations

import pyarrow as pa

MONEY = pa.decimal128(38, 9)
RATE = pa.decimal128(18, 6)
TS = pa.timestamp("us", tz="UTC")

OPS_TABLES: dict[str, pa.Schema] = {
    "realms": pa.schema(
        [
            ("realm_id", pa.string()),
            ("name", pa.string()),
            ("currency", pa.string()),
            ("minor_units", pa.int32()),
            ("tax_rate", RATE),
            ("cycle", pa.string()),
            ("cycle_day", pa.int32()),
            ("invoice_prefix", pa.string()),
        ]
    ),
    "accounts": pa.schema(
        [
            ("account_id", pa.string()),
            ("realm_id", pa.string()),
            ("name", pa.string()),
            ("parent_id", pa.string()),
            ("status", pa.string()),
            ("prepaid", pa.bool_()),
            ("tax_id", pa.string()),
        ]
    ),
    "subscriptions": pa.schema(
        [
            ("subscription_id", pa.int64()),
            ("account_id", pa.string()),
            ("plan_id", pa.string()),
            ("start_date", pa.date32()),
            ("end_date", pa.date32()),
        ]
    ),
    "products": pa.schema(
        [
            ("realm_id", pa.string()),
            ("effective_from", pa.date32()),
            ("product_id", pa.string()),
            ("product_type", pa.string()),
            ("price", RATE),
            ("months", pa.int32()),
            ("refund_unused", pa.bool_()),
            ("taxable", pa.bool_()),
            ("metric", pa.string()),
            ("unit", pa.string()),
            ("unit_divisor", pa.int64()),
            ("tier_mode", pa.string()),
        ]
    ),
    "product_tiers": pa.schema(
        [
            ("realm_id", pa.string()),
            ("effective_from", pa.date32()),
            ("product_id", pa.string()),
            ("tier_index", pa.int32()),
            ("lower_bound", RATE),
            ("upto", RATE),
            ("price", RATE),
        ]
    ),
    "plan_products": pa.schema(
        [
            ("realm_id", pa.string()),
            ("effective_from", pa.date32()),
            ("plan_id", pa.string()),
            ("product_id", pa.string()),
            ("usage_source", pa.string()),  # the one source metering it; null: every one
        ]
    ),
    "line_items": pa.schema(
        [
            ("line_item_id", pa.int64()),
            ("account_id", pa.string()),
            ("item_date", pa.date32()),
            ("description", pa.string()),
            ("amount", MONEY),
            ("taxable", pa.bool_()),
        ]
    ),
    "ip_assignments": pa.schema(
        [
            ("account_id", pa.string()),
            ("network", pa.string()),  # as entered: 192.0.2.0/29, 2001:db8::/48
            ("first_ip", pa.binary(16)),  # its first and last address, IPv6 in network
            ("last_ip", pa.binary(16)),  # order (IPv4 mapped), so ranges compare as bytes
            ("prefix_length", pa.uint8()),  # in IPv6 terms: the longest prefix wins
        ]
    ),
    "invoices": pa.schema(
        [
            ("invoice_number", pa.string()),
            ("document_kind", pa.string()),
            ("credits_invoice_number", pa.string()),
            ("realm_id", pa.string()),
            ("account_id", pa.string()),
            ("bill_date", pa.date32()),
            ("currency", pa.string()),
            ("subtotal", MONEY),
            ("tax", MONEY),
            ("total", MONEY),
            ("issued_at", TS),
        ]
    ),
    "issued_lines": pa.schema(
        [
            ("line_key", pa.string()),
            ("invoice_number", pa.string()),
            ("document_kind", pa.string()),
            ("billing_account_id", pa.string()),
            ("realm_id", pa.string()),
            ("bill_date", pa.date32()),
            ("account_id", pa.string()),
            ("subscription_id", pa.int64()),
            ("product_id", pa.string()),
            ("kind", pa.string()),
            ("description", pa.string()),
            ("period_start", pa.date32()),
            ("period_end", pa.date32()),
            ("quantity", MONEY),
            ("amount", MONEY),
            ("taxable", pa.bool_()),
            ("line_id", pa.int64()),  # the store's id: the order an invoice prints its lines
        ]
    ),
    "ledger_entries": pa.schema(
        [
            ("entry_id", pa.int64()),
            ("account_id", pa.string()),
            ("realm_id", pa.string()),
            ("currency", pa.string()),
            ("kind", pa.string()),
            ("amount", MONEY),  # signed: debits > 0, credits < 0 (jet.ledger)
            ("entry_date", pa.date32()),
            ("recorded_at", TS),
            ("invoice_number", pa.string()),
            ("target_entry_id", pa.int64()),
            ("related_entry_id", pa.int64()),
            ("method", pa.string()),
            ("reference", pa.string()),
            ("reason", pa.string()),
        ]
    ),
    "statement_lines": pa.schema(
        [
            ("line_id", pa.int64()),
            ("statement_id", pa.string()),
            ("realm_id", pa.string()),
            ("booked_on", pa.date32()),
            ("amount", MONEY),
            ("currency", pa.string()),
            ("status", pa.string()),  # paid, returned, unmatched or ignored
            ("account_id", pa.string()),
            ("entry_id", pa.int64()),
            ("reference", pa.string()),
        ]
    ),
    # The NAS registered to send RADIUS (jet nas add), never their secrets: where usage
    # was collected, for the traffic and settlement reports.
    "nas_clients": pa.schema(
        [
            ("nas_ip", pa.string()),
            ("realm_id", pa.string()),
            ("nas_name", pa.string()),
        ]
    ),
    "allocations": pa.schema(
        [
            ("allocation_id", pa.int64()),
            ("credit_entry_id", pa.int64()),
            ("debit_entry_id", pa.int64()),
            ("amount", MONEY),  # negative: part of an earlier allocation taken back
            ("allocated_at", TS),
        ]
    ),
}
