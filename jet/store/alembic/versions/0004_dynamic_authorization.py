"""dynamic authorization: the CoA port of NAS clients, and retries of outbox events

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("nas_clients", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("coa_port", sa.Integer(), server_default=sa.text("3799"), nullable=False)
        )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("outcome", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("outcome")
        batch_op.drop_column("next_attempt_at")
    with op.batch_alter_table("nas_clients", schema=None) as batch_op:
        batch_op.drop_column("coa_port")
