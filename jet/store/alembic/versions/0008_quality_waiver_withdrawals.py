"""quality waivers are withdrawn, not deleted: who, when and why

A waiver is now active until withdrawn, and only one waiver of a check and bill date is
active at a time; the withdrawn ones stay, so a date can be waived again and the history
of who let what out stays auditable.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# 0007's UNIQUE ("check", bill_date) has no name on SQLite; this names it for batch mode
NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}
ACTIVE = "withdrawn_at IS NULL"


def upgrade() -> None:
    with op.batch_alter_table("quality_waivers", naming_convention=NAMING) as batch_op:
        batch_op.drop_constraint(_unique_name(), type_="unique")
        batch_op.add_column(sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("withdrawn_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("withdrawal_reason", sa.String(length=500), nullable=True))
    op.create_index(
        "uq_quality_waivers_active",
        "quality_waivers",
        ["check", "bill_date"],
        unique=True,
        sqlite_where=sa.text(ACTIVE),
        postgresql_where=sa.text(ACTIVE),
    )


def downgrade() -> None:
    # the history cannot fit 0007's one waiver per check and date: withdrawn ones go
    op.execute(sa.text(f"DELETE FROM quality_waivers WHERE NOT ({ACTIVE})"))
    op.drop_index("uq_quality_waivers_active", table_name="quality_waivers")
    with op.batch_alter_table("quality_waivers") as batch_op:
        batch_op.drop_column("withdrawal_reason")
        batch_op.drop_column("withdrawn_by")
        batch_op.drop_column("withdrawn_at")
        batch_op.create_unique_constraint("uq_quality_waivers_check", ["check", "bill_date"])


def _unique_name() -> str:
    """0007's constraint as the database named it (PostgreSQL does), else as NAMING does."""
    for constraint in sa.inspect(op.get_bind()).get_unique_constraints("quality_waivers"):
        if constraint["column_names"] == ["check", "bill_date"]:
            return constraint["name"] or "uq_quality_waivers_check"
    raise RuntimeError("quality_waivers has no unique (check, bill_date) to replace")
