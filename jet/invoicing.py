"""The issue step: draft lines become immutable, numbered invoices. Their PDFs are the
layer above's (`reports.issued_invoices`, rendered after the issue step).

Issued invoices are facts in the operational store, not models. Each draft invoice
is copied with its lines in one transaction that also takes the realm's next number,
so numbers are gapless per realm. Issuing again finds the (account, bill date) taken
and the line keys used, and issues nothing twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from jet.config import Settings
from jet.errors import JetError
from jet.ledger import accounts_in_credit, enter_invoice, settle
from jet.money import round_money
from jet.outbox import publish
from jet.prepaid import has_deductions, undeducted
from jet.quality.gate import Gate
from jet.quality.results import Finding
from jet.store.db import session
from jet.store.models import Invoice, InvoiceLine, Realm
from jet.warehouse import marts


@dataclass
class IssueSummary:
    issued: int = 0
    already_issued: int = 0
    totals: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    # (bill date, realm) -> the failed blocking checks that held its invoices
    held: dict[tuple[date, str], list[Finding]] = field(default_factory=dict)
    # (bill date, realm) -> the earlier held bill date its accounts' invoices wait for
    behind: dict[tuple[date, str], date] = field(default_factory=dict)


def invoice_number(realm: Realm, bill_date: date, sequence: int) -> str:
    """The realm's `invoice_format` filled in, e.g. ACME-2026-000123: the realm's prefix,
    the bill date's year, the realm-wide gapless sequence."""
    return realm.invoice_format.format(
        prefix=realm.invoice_prefix, year=bill_date.year, number=sequence
    )


_DRAFTS = """
    select billing_account_id, bill_date, realm_id, currency, minor_units,
           subtotal, tax, total, line_count
    from fct_invoice_drafts where bill_date between ? and ?
    order by bill_date, realm_id, billing_account_id
"""
# Each account's oldest draft before a range: if the gate holds it, the account's later
# invoices wait, so that they go out in order (issuing a later one would move the held
# lines onto the next invoice).
_PENDING_BEFORE = """
    select billing_account_id, realm_id, min(bill_date)
    from fct_invoice_drafts where bill_date < ?
    group by all
"""
_LINES = """
    select billing_account_id, bill_date, line_key, account_id, subscription_id, product_id,
           kind, description, period_start, period_end, quantity, amount, taxable
    from fct_invoice_lines where status = 'draft' and bill_date between ? and ?
    order by account_id, product_id nulls last, kind, period_start
"""


def issue_invoices(settings: Settings, first: date, last: date) -> IssueSummary:
    """Issue every draft invoice with a bill date in [first, last], oldest first, but those
    the data quality gate holds (`summary.held`: their data failed a blocking check) and
    the later ones of their accounts (`summary.behind`)."""
    con = marts(settings)
    drafts = con.execute(_DRAFTS, [first, last]).fetchall()
    pending = con.execute(_PENDING_BEFORE, [first]).fetchall()
    lines: dict[tuple, list[tuple]] = defaultdict(list)
    for row in con.execute(_LINES, [first, last]).fetchall():
        lines[(row[0], row[1])].append(row[2:])
    con.close()

    summary = IssueSummary()
    now = datetime.now(UTC)
    with session(settings.db_url) as s:
        taken = set(
            s.execute(
                select(Invoice.account_id, Invoice.bill_date).where(
                    Invoice.kind == "invoice", Invoice.bill_date.between(first, last)
                )
            ).all()
        )
        used_keys = set(
            s.scalars(
                select(InvoiceLine.line_key)
                .join(Invoice)
                .where(Invoice.bill_date.between(first, last))
            )
        )
        realms = {r.id: r for r in s.scalars(select(Realm).with_for_update())}
        gate = Gate(s, min([first, *(day for *_, day in pending)]), last)
        waiting = {acct: day for acct, realm, day in pending if gate.holding(realm, day)}
        in_credit = accounts_in_credit(s, sorted({row[0] for row in drafts}))
        deducting = has_deductions(s, sorted({row[0] for row in drafts}))
        for account, bill, realm_id, currency, places, subtotal, tax, total, count in drafts:
            if account in waiting:
                summary.behind.setdefault((bill, realm_id), waiting[account])
                continue
            holding = gate.holding(realm_id, bill)
            if holding:
                summary.held[(bill, realm_id)] = holding
                waiting[account] = bill
                continue
            draft_lines = lines[(account, bill)]
            if (account, bill) in taken or any(line[0] in used_keys for line in draft_lines):
                summary.already_issued += 1
                continue
            amounts = [round_money(line[9], places) for line in draft_lines]
            if len(draft_lines) != count or sum(amounts, Decimal(0)) != subtotal:
                raise RuntimeError(
                    f"draft invoice of {account} at {bill} does not add up; rebuild the marts "
                    "(`jet rate`) and issue again"
                )
            realm = realms[realm_id]
            realm.last_invoice_number += 1
            invoice = Invoice(
                number=invoice_number(realm, bill, realm.last_invoice_number),
                kind="invoice",
                realm_id=realm_id,
                account_id=account,
                bill_date=bill,
                currency=currency,
                subtotal=round_money(subtotal, places),
                tax=round_money(tax, places),
                total=round_money(total, places),
                issued_at=now,
                lines=[
                    InvoiceLine(
                        line_key=key,
                        account_id=acct,
                        subscription_id=sub,
                        product_id=product,
                        kind=kind,
                        description=description,
                        period_start=p_start,
                        period_end=p_end,
                        quantity=qty,
                        amount=amount,
                        taxable=taxable,
                    )
                    for (
                        key,
                        acct,
                        sub,
                        product,
                        kind,
                        description,
                        p_start,
                        p_end,
                        qty,
                        _,
                        taxable,
                    ), amount in zip(draft_lines, amounts, strict=True)
                ],
            )
            s.add(invoice)
            charge = None
            if account in deducting:
                s.flush()
                charge = undeducted(s, account, bill, invoice.total)
            enter_invoice(s, invoice, charge)
            publish(
                s,
                "invoice.issued",
                account,
                {
                    "number": invoice.number,
                    "account": account,
                    "total": str(invoice.total),
                    "currency": currency,
                },
            )
            summary.issued += 1
            summary.counts[realm_id] += 1
            summary.totals[realm_id] += invoice.total
        s.flush()
        for account in in_credit:
            settle(s, account)
    return summary


class CreditError(JetError, ValueError):
    pass


def invoice_lines(
    s: Session, number: str, positions: Sequence[int] | None, error: type[JetError]
) -> tuple[Invoice, list[tuple[int, InvoiceLine]]]:
    """Invoice `number` and its lines at the 1-based `positions` as printed (every line
    when None), numbered; raise `error` for an unknown number, a credit note or a line
    the invoice does not have."""
    invoice = s.scalar(
        select(Invoice).options(selectinload(Invoice.lines)).where(Invoice.number == number)
    )
    if invoice is None:
        raise error(
            f'no invoice is numbered {number}; `jet sql "select '
            'invoice_number from fct_invoices"` lists them'
        )
    if invoice.kind != "invoice":
        raise error(f"{number} is a credit note; name the invoice it credits")
    wanted = positions or range(1, len(invoice.lines) + 1)
    wrong = [p for p in wanted if not 1 <= p <= len(invoice.lines)]
    if wrong:
        raise error(
            f"{number} has lines 1 to {len(invoice.lines)}; "
            f"there is no line {', '.join(map(str, wrong))}"
        )
    return invoice, [(p, invoice.lines[p - 1]) for p in wanted]


def credit_invoice(
    settings: Settings, number: str, reason: str, lines: list[int] | None = None
) -> Invoice:
    """Issue a credit note reversing invoice `number`: all of it, or its lines at the
    1-based positions `lines` (as printed). A line is never credited twice.

    Crediting a whole invoice reverses its tax exactly; a partial credit taxes the
    credited taxable lines at the realm's rate, rounded half away from zero."""
    if not reason.strip():
        raise CreditError("a credit note needs a reason (--reason), which it prints")
    now = datetime.now(UTC)
    with session(settings.db_url) as s:
        original, numbered = invoice_lines(s, number, lines, CreditError)
        chosen = [line for _, line in numbered]
        credited = set(
            s.scalars(
                select(InvoiceLine.line_key).where(
                    InvoiceLine.line_key.in_([f"credit:{line.line_key}" for line in chosen])
                )
            )
        )
        again = [p for p, line in numbered if f"credit:{line.line_key}" in credited]
        if again:
            raise CreditError(
                f"line {', '.join(map(str, again))} of {number} was credited "
                "already; nothing was issued"
            )
        realm = s.scalar(select(Realm).where(Realm.id == original.realm_id).with_for_update())
        places = realm.minor_units
        subtotal = -sum((line.amount for line in chosen), Decimal(0))
        if len(chosen) == len(original.lines):
            tax = -original.tax
        else:
            taxable = sum((line.amount for line in chosen if line.taxable), Decimal(0))
            tax = -round_money(taxable * realm.tax_rate, places)
        realm.last_invoice_number += 1
        note = Invoice(
            number=invoice_number(realm, now.date(), realm.last_invoice_number),
            kind="credit_note",
            credits_invoice_id=original.id,
            reason=reason.strip(),
            realm_id=realm.id,
            account_id=original.account_id,
            bill_date=now.date(),
            currency=original.currency,
            subtotal=round_money(subtotal, places),
            tax=round_money(tax, places),
            total=round_money(subtotal + tax, places),
            issued_at=now,
            lines=[
                InvoiceLine(
                    line_key=f"credit:{line.line_key}",
                    account_id=line.account_id,
                    subscription_id=line.subscription_id,
                    product_id=line.product_id,
                    kind=line.kind,
                    description=f"Credit: {line.description}",
                    period_start=line.period_start,
                    period_end=line.period_end,
                    quantity=line.quantity,
                    amount=-line.amount,
                    taxable=line.taxable,
                )
                for line in chosen
            ],
        )
        s.add(note)
        enter_invoice(s, note)
        s.flush()
        settle(s, original.account_id)
        publish(
            s,
            "credit_note.issued",
            original.account_id,
            {
                "number": note.number,
                "account": original.account_id,
                "credits": number,
                "total": str(note.total),
                "reason": note.reason,
            },
        )
    return note
