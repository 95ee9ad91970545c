"""The data quality gate: contracts validated on every run, and the invoices they hold."""
