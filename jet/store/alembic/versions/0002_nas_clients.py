"""nas clients: the NAS allowed to send RADIUS, with their secrets and realms

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "nas_clients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=15), nullable=False),
        sa.Column("secret", sa.String(length=128), nullable=False),
        sa.Column("realm_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["realm_id"], ["realms.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("address"),
    )
    with op.batch_alter_table("nas_clients", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_nas_clients_realm_id"), ["realm_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("nas_clients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_nas_clients_realm_id"))
    op.drop_table("nas_clients")
