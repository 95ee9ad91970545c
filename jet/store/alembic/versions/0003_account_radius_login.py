"""account radius login: password, expiry, prepaid balance and static address of accounts

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

import jet.store.models

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("radius_password", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("expires_at", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("prepaid", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("prepaid_balance", jet.store.models.Money(length=48), nullable=True)
        )
        batch_op.add_column(sa.Column("framed_ip", sa.String(length=15), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("framed_ip")
        batch_op.drop_column("prepaid_balance")
        batch_op.drop_column("prepaid")
        batch_op.drop_column("expires_at")
        batch_op.drop_column("radius_password")
