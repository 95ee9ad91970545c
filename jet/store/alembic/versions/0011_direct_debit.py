"""direct debit: SEPA mandates, the collections sent in pain.008 files, and the lines of
imported bank statements

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

import jet.store.models

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mandates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=35), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("iban", sa.String(length=34), nullable=False),
        sa.Column("bic", sa.String(length=11), nullable=True),
        sa.Column("debtor_name", sa.String(length=70), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("revoked_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reference"),
    )
    with op.batch_alter_table("mandates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mandates_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_mandates_iban"), ["iban"], unique=False)

    op.create_table(
        "collections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("end_to_end_id", sa.String(length=35), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("mandate_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("amount", jet.store.models.Money(length=48), nullable=False),
        sa.Column("collection_date", sa.Date(), nullable=False),
        sa.Column("sequence", sa.String(length=4), nullable=False),
        sa.Column("message_id", sa.String(length=35), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column("return_reason", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["ledger_entries.id"],
        ),
        sa.ForeignKeyConstraint(
            ["mandate_id"],
            ["mandates.id"],
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["ledger_entries.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("end_to_end_id"),
    )
    with op.batch_alter_table("collections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_collections_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_collections_entry_id"), ["entry_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_collections_mandate_id"), ["mandate_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_collections_message_id"), ["message_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_collections_status"), ["status"], unique=False)

    op.create_table(
        "statement_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("statement_id", sa.String(length=100), nullable=False),
        sa.Column("realm_id", sa.String(length=64), nullable=False),
        sa.Column("booked_on", sa.Date(), nullable=False),
        sa.Column("amount", jet.store.models.Money(length=48), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reference", sa.String(length=500), nullable=True),
        sa.Column("counterparty", sa.String(length=140), nullable=True),
        sa.Column("counterparty_iban", sa.String(length=34), nullable=True),
        sa.Column("return_code", sa.String(length=8), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=True),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=300), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["ledger_entries.id"],
        ),
        sa.ForeignKeyConstraint(
            ["realm_id"],
            ["realms.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    with op.batch_alter_table("statement_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_statement_lines_statement_id"), ["statement_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_statement_lines_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("statement_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_statement_lines_status"))
        batch_op.drop_index(batch_op.f("ix_statement_lines_statement_id"))

    op.drop_table("statement_lines")
    with op.batch_alter_table("collections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_collections_status"))
        batch_op.drop_index(batch_op.f("ix_collections_message_id"))
        batch_op.drop_index(batch_op.f("ix_collections_mandate_id"))
        batch_op.drop_index(batch_op.f("ix_collections_entry_id"))
        batch_op.drop_index(batch_op.f("ix_collections_account_id"))

    op.drop_table("collections")
    with op.batch_alter_table("mandates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mandates_iban"))
        batch_op.drop_index(batch_op.f("ix_mandates_account_id"))

    op.drop_table("mandates")
