-- The landed batches the usage models have aggregated, and each run's as_of and
-- fingerprint (int_usage_changes): appended once int_usage_daily and int_usage_by_cycle
-- are built from them, so a batch is marked only after it counted, and a run that fails
-- before this leaves its changes to the next.
{{ config(materialized='incremental', incremental_strategy='append') }}
-- depends_on: {{ ref('int_usage_daily') }}
-- depends_on: {{ ref('int_usage_by_cycle') }}

select source, batch_id, as_of, fingerprint, now() as rated_at
from {{ ref('int_usage_changes') }}
