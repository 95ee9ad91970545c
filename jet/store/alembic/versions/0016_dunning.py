"""dunning: the ladder's steps taken, once per (invoice, step), and why Jet suspended an
account (`accounts.hold`), so that paying lifts only what non-payment caused

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

import jet.store.models

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dunning_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("fee", jet.store.models.Money(length=48), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("taken_on", sa.Date(), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["ledger_entries.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("entry_id", "step"),
    )
    with op.batch_alter_table("dunning_actions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dunning_actions_account_id"), ["account_id"], unique=False
        )

    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hold", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("hold")

    with op.batch_alter_table("dunning_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dunning_actions_account_id"))

    op.drop_table("dunning_actions")
