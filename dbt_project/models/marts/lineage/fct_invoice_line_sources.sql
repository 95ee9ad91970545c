-- Lineage: each metered invoice line (usage, duration; issued or draft) with the landed
-- records that made its quantity, one row per record: its source, batch, landed file
-- and row, the NAS, exporter or upstream file it came from, and what it added to the
-- line in the product's base unit (bytes or seconds). The records of a line are those
-- of its cycle that int_usage_by_cycle sums: the subscription's account, the line's
-- period, the subscription's dates and the plan's usage source.
--
-- A cycle billed in several lines (usage that arrived after its invoice, billed late,
-- int_invoice_lines_pending) splits its records by when they landed: each line takes
-- those landed by the time its invoice was issued and after the one before it (drafts
-- last). Landing time is kept in the raw data, so this survives a warehouse rebuilt
-- from scratch (docs/reports.md, "Lineage", says where it can still differ).
--
-- Built on demand (`jet invoice explain`, the lineage job), never by the rating path:
-- it is a row per usage record.
with lines as (
    select
        lines.line_key,
        lines.line_id,
        lines.invoice_number,
        lines.status,
        lines.billing_account_id,
        lines.realm_id,
        lines.bill_date,
        lines.account_id,
        lines.subscription_id,
        lines.product_id,
        lines.kind,
        lines.period_start,
        lines.period_end,
        lines.quantity,
        invoices.issued_at
    from {{ ref('fct_invoice_lines') }} as lines
    left join {{ ref('stg_ops__invoices') }} as invoices using (invoice_number)
    where lines.kind in ('usage', 'duration') and lines.document_kind = 'invoice'
),

meters as (
    select
        subscription_id, product_id, start_date, end_date, usage_source, metric, unit_divisor
    from {{ ref('int_subscription_products') }}
    where product_type in ('usage', 'duration')
),

-- the lines of each cycle in the order they were issued, drafts last, each with the
-- issue time of the one before it
sequenced as (
    select
        lines.*,
        meters.* exclude (subscription_id, product_id),
        lag(lines.issued_at) over (
            partition by lines.subscription_id, lines.product_id, lines.period_start
            order by lines.issued_at nulls last, lines.line_id
        ) as after
    from lines
    inner join meters using (subscription_id, product_id)
),

records as (
    select *, {{ utc_date('ts') }} as usage_date from {{ ref('int_usage_records') }}
),

matched as (
    select
        sequenced.* exclude (after, start_date, end_date, usage_source),
        records.source,
        records.batch_id,
        records.landed_file,
        records.file_row,
        records.collector,
        records.ts,
        records.landed_at,
        cast({{ metered_quantity('sequenced.metric', 'records') }} as bigint) as base_quantity
    from sequenced
    inner join records
        on records.account_id = sequenced.account_id
        and records.usage_date >= sequenced.period_start
        and records.usage_date < sequenced.period_end
        and records.usage_date >= sequenced.start_date
        and (sequenced.end_date is null or records.usage_date < sequenced.end_date)
        and (sequenced.usage_source is null or records.source = sequenced.usage_source)
        and (sequenced.after is null or records.landed_at > sequenced.after)
        and (sequenced.issued_at is null or records.landed_at <= sequenced.issued_at)
),

final as (
    select * exclude (metric) from matched where base_quantity <> 0
)

select * from final
