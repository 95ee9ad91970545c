"""Drivers: what starts Jet's work and shows it, above the orchestration and below the
`jet` command and the apps. The demo (a deployment built from nothing and billed), `jet
simulate` (a scenario billed in a throw-away home), Dagster jobs run in this process, and
readable terminal output. They may use every layer below them; nothing below imports
them (`make lint` holds it)."""
