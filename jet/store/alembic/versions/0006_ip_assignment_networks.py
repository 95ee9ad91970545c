"""ip assignment networks: an assignment is its network text, IPv4 or IPv6

The integer range columns held IPv4 only; ranges are now derived from `network` when
the store is snapshotted (jet.addresses), and a network is assigned to one account.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ip_assignments", schema=None) as batch_op:
        batch_op.drop_column("first_ip")
        batch_op.drop_column("last_ip")
        batch_op.create_unique_constraint("uq_ip_assignments_network", ["network"])


def downgrade() -> None:
    with op.batch_alter_table("ip_assignments", schema=None) as batch_op:
        batch_op.drop_constraint("uq_ip_assignments_network", type_="unique")
        batch_op.add_column(sa.Column("first_ip", sa.Numeric(12, 0), nullable=True))
        batch_op.add_column(sa.Column("last_ip", sa.Numeric(12, 0), nullable=True))
