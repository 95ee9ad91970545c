import warnings

# Single-run backfills (BackfillPolicy) are what the billing cycle is built on; Dagster
# still labels the parameter beta, which would print on every load.
warnings.filterwarnings("ignore", message="Parameter `backfill_policy`")
