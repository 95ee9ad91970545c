"""cards: payment cards stored at a realm's gateway, and each gateway charge and refund

`payment_cards` keeps a gateway's token, brand, last four digits and expiry of a card,
never its number; `card_charges` each call that moved or tried to move money, with the
idempotency key that keeps it from being made twice (docs/cards.md).

Revision ID: 0012
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

import jet.store.models

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payment_cards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("gateway", sa.String(length=32), nullable=False),
        sa.Column("token", sa.String(length=200), nullable=False),
        sa.Column("brand", sa.String(length=16), nullable=False),
        sa.Column("last4", sa.String(length=4), nullable=False),
        sa.Column("exp_month", sa.Integer(), nullable=False),
        sa.Column("exp_year", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token"),
    )
    with op.batch_alter_table("payment_cards", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payment_cards_account_id"), ["account_id"], unique=False
        )

    op.create_table(
        "card_charges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("invoice_entry_id", sa.Integer(), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=True),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amount", jet.store.models.Money(length=48), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
        ),
        sa.ForeignKeyConstraint(
            ["card_id"],
            ["payment_cards.id"],
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["ledger_entries.id"],
        ),
        sa.ForeignKeyConstraint(
            ["invoice_entry_id"],
            ["ledger_entries.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    with op.batch_alter_table("card_charges", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_card_charges_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_card_charges_entry_id"), ["entry_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("card_charges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_card_charges_entry_id"))
        batch_op.drop_index(batch_op.f("ix_card_charges_account_id"))

    op.drop_table("card_charges")
    with op.batch_alter_table("payment_cards", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_cards_account_id"))

    op.drop_table("payment_cards")
