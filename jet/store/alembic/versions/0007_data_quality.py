"""data quality: validation runs of the data contracts, their results, and waivers

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quality_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("first_bill_date", sa.Date(), nullable=False),
        sa.Column("last_bill_date", sa.Date(), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_quality_runs_checked_at", "quality_runs", ["checked_at"])
    op.create_table(
        "quality_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("check", sa.String(length=100), nullable=False),
        sa.Column("blocking", sa.Boolean(), nullable=False),
        sa.Column("rows_checked", sa.Integer(), nullable=False),
        sa.Column("rows_failing", sa.Integer(), nullable=False),
        sa.Column("sample", sa.JSON(), nullable=False),
        sa.Column("holds", sa.JSON(), nullable=False),
        sa.Column("error", sa.String(length=2000), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["quality_runs.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_quality_results_run_id", "quality_results", ["run_id"])
    op.create_table(
        "quality_waivers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("check", sa.String(length=100), nullable=False),
        sa.Column("bill_date", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("waived_by", sa.String(length=64), nullable=False),
        sa.Column("waived_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("check", "bill_date"),
    )


def downgrade() -> None:
    op.drop_table("quality_waivers")
    op.drop_index("ix_quality_results_run_id", table_name="quality_results")
    op.drop_table("quality_results")
    op.drop_index("ix_quality_runs_checked_at", table_name="quality_runs")
    op.drop_table("quality_runs")
