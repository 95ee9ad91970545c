-- Metered charges (usage and duration), in arrears: the cycles whose bill date is up to
-- as_of, priced by the usage_charges macro (macros/usage_charges.sql).
{{ usage_charges('period_end <= ' ~ as_of()) }}
