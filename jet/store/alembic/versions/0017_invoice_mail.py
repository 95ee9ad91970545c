"""invoice mail: each invoice's e-mail to its account, its Message-ID recorded before it
is handed to the server and its state after (reports/invoice_mail.py)

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "invoice_mailings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("to_address", sa.String(length=200), nullable=False),
        sa.Column("message_id", sa.String(length=250), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resends", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoices.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("invoice_id"),
    )
    with op.batch_alter_table("invoice_mailings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invoice_mailings_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("invoice_mailings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoice_mailings_status"))
    op.drop_table("invoice_mailings")
