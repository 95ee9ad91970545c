"""prepaid ledger: a prepaid balance is the sum of the account's ledger entries

Every stored `accounts.prepaid_balance` becomes a ledger entry dated the day of the
upgrade, then the column goes: a positive balance is a `top_up` (credit), a negative one
`usage` (debit), a zero or missing one nothing. Each carries the key `0014:<account>`
and the reference "prepaid balance before 0014", so it can be told apart.

Revision ID: 0014
Revises: 0010
"""

from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

import jet.store.models

revision = "0014"
down_revision = "0010"
branch_labels = None
depends_on = None

REFERENCE = "prepaid balance before 0014"


def upgrade() -> None:
    conn = op.get_bind()
    now = datetime.now(UTC)
    rows = conn.execute(
        sa.text(
            "select a.id, a.realm_id, r.currency, a.prepaid_balance from accounts a "
            "join realms r on r.id = a.realm_id "
            "where a.prepaid_balance is not null order by a.id"
        )
    ).all()
    for account, realm, currency, stored in rows:
        left = Decimal(str(stored))
        if left == 0:
            continue
        conn.execute(
            sa.text(
                "insert into ledger_entries (account_id, realm_id, currency, kind, amount, "
                "entry_date, recorded_at, reference, key) "
                "values (:a, :r, :c, :k, :amount, :day, :at, :ref, :key)"
            ),
            {
                "a": account,
                "r": realm,
                "c": currency,
                "k": "top_up" if left > 0 else "usage",
                "amount": str(-left),
                "day": now.date(),
                "at": now,
                "ref": REFERENCE,
                "key": f"0014:{account}",
            },
        )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("prepaid_balance")


def downgrade() -> None:
    """The column again, holding each prepaid account's credit (minus its ledger balance);
    the entries stay: the ledger is only added to."""
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("prepaid_balance", jet.store.models.Money(length=48), nullable=True)
        )
    conn = op.get_bind()
    sums: dict[str, Decimal] = {}
    for account, amount in conn.execute(
        sa.text(
            "select e.account_id, e.amount from ledger_entries e "
            "join accounts a on a.id = e.account_id where a.prepaid"
        )
    ):
        sums[account] = sums.get(account, Decimal(0)) + Decimal(str(amount))
    for account, owed in sums.items():
        conn.execute(
            sa.text("update accounts set prepaid_balance = :b where id = :a"),
            {"b": str(-owed), "a": account},
        )
