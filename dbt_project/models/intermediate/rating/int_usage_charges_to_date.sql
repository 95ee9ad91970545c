-- Metered charges of prepaid billing accounts rated so far: the closed cycles and the
-- open one (that started by as_of), priced as invoices price them (macros/usage_charges.sql).
-- A prepaid balance runs down by these (jet/prepaid.py) before the cycle is billed.
{{ usage_charges('period_start <= ' ~ as_of() ~ " and billing_account_id in (select account_id from " ~ ref('stg_ops__accounts') ~ " where prepaid)") }}
