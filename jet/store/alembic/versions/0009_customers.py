"""customers: account profiles, the audit log, and event deliveries per subscriber

Accounts get what an ISP keeps on a customer (kind, phone, address, country, tax id,
invoice delivery, notes, the day they closed). Every change is written to `audit_log`.
The outbox's events are now business events (`account.suspended`, `plan.changed`, ...)
delivered to each subscriber on its own (`event_deliveries`): the RADIUS Disconnect and
CoA events written before become those events, each with the RADIUS subscriber's
delivery as it stood, so nothing queued is lost and nothing delivered is sent again.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

RADIUS = "radius"  # the subscriber that sends Disconnect and CoA


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), server_default="person", nullable=False)
        )
        batch_op.add_column(sa.Column("phone", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("address", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("country", sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column("tax_id", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("delivery", sa.String(length=16), server_default="email", nullable=False)
        )
        batch_op.add_column(sa.Column("notes", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("closed_on", sa.Date(), nullable=True))
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.String(length=200), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_account_id", "audit_log", ["account_id"])
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("account_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("key", sa.String(length=200), nullable=True))
        batch_op.create_index("ix_events_account_id", ["account_id"])
        batch_op.create_index("ix_events_created_at", ["created_at"])
        batch_op.create_unique_constraint("uq_events_key", ["key"])
    queued = _radius_events()
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("outcome")
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("delivered_at")
    # after the events table is rebuilt (SQLite copies it): a row referring to it would
    # stop its DROP with foreign keys on
    deliveries = op.create_table(
        "event_deliveries",
        sa.Column("event_id", sa.Integer(), sa.ForeignKey("events.id"), primary_key=True),
        sa.Column("subscriber", sa.String(length=64), primary_key=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=500), nullable=True),
        sa.Column("progress", sa.JSON(), nullable=True),
    )
    op.create_index("ix_event_deliveries_status", "event_deliveries", ["status"])
    op.create_index(
        "ix_event_deliveries_subscriber", "event_deliveries", ["subscriber", "status", "event_id"]
    )
    op.bulk_insert(deliveries, queued)


def _radius_events() -> list[dict]:
    """The Disconnect and CoA events of 0004 made business events; the RADIUS
    subscriber's delivery of each (delivered ones delivered, the others pending as they
    were), to insert once `event_deliveries` exists."""
    bind = op.get_bind()
    events = sa.table(
        "events",
        sa.column("id", sa.Integer),
        sa.column("topic", sa.String),
        sa.column("payload", sa.JSON),
        sa.column("account_id", sa.String),
        sa.column("due_at", sa.DateTime(timezone=True)),
        sa.column("delivered_at", sa.DateTime(timezone=True)),
        sa.column("next_attempt_at", sa.DateTime(timezone=True)),
        sa.column("outcome", sa.String),
    )
    rows = bind.execute(
        sa.select(events).where(events.c.topic.in_(("radius.disconnect", "radius.coa")))
    ).all()
    deliveries = []
    for row in rows:
        payload = row.payload
        if row.topic == "radius.coa":
            topic, due = "plan.changed", row.next_attempt_at
        else:
            topic = "account.closed" if payload.get("status") == "closed" else "account.suspended"
            due = None
        bind.execute(
            events.update()
            .where(events.c.id == row.id)
            .values(topic=topic, account_id=payload.get("account"), due_at=due)
        )
        deliveries.append(
            {
                "event_id": row.id,
                "subscriber": RADIUS,
                "status": "delivered" if row.delivered_at is not None else "pending",
                "attempts": 0,
                "next_attempt_at": row.next_attempt_at,
                "delivered_at": row.delivered_at,
                "outcome": row.outcome,
            }
        )
    return deliveries


def downgrade() -> None:
    op.drop_index("ix_event_deliveries_subscriber", "event_deliveries")
    op.drop_index("ix_event_deliveries_status", "event_deliveries")
    op.drop_table("event_deliveries")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("outcome", sa.String(length=500), nullable=True))
        batch_op.drop_constraint("uq_events_key", type_="unique")
        batch_op.drop_index("ix_events_created_at")
        batch_op.drop_index("ix_events_account_id")
        batch_op.drop_column("key")
        batch_op.drop_column("due_at")
        batch_op.drop_column("account_id")
    op.drop_index("ix_audit_log_account_id", "audit_log")
    op.drop_index("ix_audit_log_at", "audit_log")
    op.drop_table("audit_log")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        for column in ("closed_on", "notes", "delivery", "tax_id", "country", "address", "phone"):
            batch_op.drop_column(column)
        batch_op.drop_column("kind")
