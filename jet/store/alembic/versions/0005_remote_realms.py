"""remote realms: realms whose logins another RADIUS server decides

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "remote_realms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("realm", sa.String(length=253), nullable=False),
        sa.Column("address", sa.String(length=15), nullable=False),
        sa.Column("auth_port", sa.Integer(), nullable=False),
        sa.Column("acct_port", sa.Integer(), nullable=True),
        sa.Column("secret", sa.String(length=128), nullable=False),
        sa.Column("timeout", sa.Float(), nullable=False),
        sa.Column("retries", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("realm"),
    )


def downgrade() -> None:
    op.drop_table("remote_realms")
