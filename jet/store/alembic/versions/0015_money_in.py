"""money in: joins the direct-debit (0011), card (0012) and prepaid (0014) branches, all
built on the ledger (0010) at the same time; it changes nothing itself.

Revision ID: 0015
Revises: 0011, 0012, 0014
"""

revision = "0015"
down_revision = ("0011", "0012", "0014")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
