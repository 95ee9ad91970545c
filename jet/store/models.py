"""The operational store: what people and payments change. Money is stored exactly.

SQLite has no decimal type, so `Money` keeps amounts as text there and as NUMERIC on
PostgreSQL; either way Python sees `decimal.Decimal`.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class Money(TypeDecorator[Decimal]):
    """An exact decimal on every backend (text on SQLite, NUMERIC(38,9) elsewhere)."""

    impl = String(48)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(48))
        return dialect.type_descriptor(Numeric(38, 9))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        value = Decimal(value)
        return str(value) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        return None if value is None else Decimal(value)


class Base(DeclarativeBase):
    pass


class Realm(Base):
    """A billing entity: currency, tax, cycle and invoice numbering of its accounts."""

    __tablename__ = "realms"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    minor_units: Mapped[int] = mapped_column(Integer)
    tax_rate: Mapped[Decimal] = mapped_column(Money)
    cycle: Mapped[str] = mapped_column(String(16))
    cycle_day: Mapped[int | None] = mapped_column(Integer)
    invoice_prefix: Mapped[str] = mapped_column(String(32))
    invoice_format: Mapped[str] = mapped_column(String(64))
    last_invoice_number: Mapped[int] = mapped_column(Integer, default=0)


class CatalogVersion(Base):
    """A realm's catalog as loaded: products and plans, effective from a date on."""

    __tablename__ = "catalog_versions"
    __table_args__ = (UniqueConstraint("realm_id", "effective_from"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    realm_id: Mapped[str] = mapped_column(ForeignKey("realms.id"))
    effective_from: Mapped[date] = mapped_column(Date)
    document: Mapped[dict] = mapped_column(JSON)
    checksum: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Account(Base):
    """A customer, a user under a cost-centre, or the cost-centre itself (no parent).

    `id` is the login: unique in the whole store, not only in its realm, because RADIUS
    accounting names a user by login and a NAS may leave the realm off (docs/decisions.md,
    "Customers"). `kind` is person or company; `delivery` how invoices go out (email or
    paper); `closed_on` the day a closed account's subscriptions ended.

    What RADIUS authentication needs: `radius_password` (clear text, because PAP and CHAP
    both need it; None means the account cannot log in), `expires_at` (access ends at
    00:00 UTC of that day), `prepaid` (it pays ahead: its balance is the sum of its ledger
    entries, jet/prepaid.py, and none left at <= 0), and `framed_ip`, a static IPv4
    address given in every Access-Accept."""

    __tablename__ = "accounts"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    realm_id: Mapped[str] = mapped_column(ForeignKey("realms.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    email: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    radius_password: Mapped[str | None] = mapped_column(String(128))
    expires_at: Mapped[date | None] = mapped_column(Date)
    prepaid: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    framed_ip: Mapped[str | None] = mapped_column(String(15))
    kind: Mapped[str] = mapped_column(String(16), default="person", server_default="person")
    phone: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[str | None] = mapped_column(String(500))
    country: Mapped[str | None] = mapped_column(String(2))
    tax_id: Mapped[str | None] = mapped_column(String(64))
    delivery: Mapped[str] = mapped_column(String(16), default="email", server_default="email")
    notes: Mapped[str | None] = mapped_column(Text)
    closed_on: Mapped[date | None] = mapped_column(Date)
    # Why a suspended account is suspended, when Jet did it ("non-payment": dunning; a
    # payment that clears what is overdue lifts it). None: a person did, and only a
    # person lifts it.
    hold: Mapped[str | None] = mapped_column(String(32))


class Subscription(Base):
    """An account on a plan over [start, end); a plan change ends one and starts another."""

    __tablename__ = "subscriptions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    plan_id: Mapped[str] = mapped_column(String(64))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)


class IpAssignment(Base):
    """A network an account owns, for attributing flows (`jet.addresses` reads it)."""

    __tablename__ = "ip_assignments"
    __table_args__ = (UniqueConstraint("network"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    network: Mapped[str] = mapped_column(String(64))


class LineItem(Base):
    """A charge or credit from outside Jet, billed in arrears of its date."""

    __tablename__ = "line_items"
    __table_args__ = (UniqueConstraint("source", "source_line"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    item_date: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(String(200))
    amount: Mapped[Decimal] = mapped_column(Money)
    taxable: Mapped[bool] = mapped_column(Boolean, default=True)
    source: Mapped[str] = mapped_column(String(200))
    source_line: Mapped[int] = mapped_column(Integer)


class Invoice(Base):
    """An issued invoice or credit note: a fact, never edited; numbered gaplessly per realm
    at issue (invoices and credit notes share the realm's sequence). An account has at
    most one invoice per bill date; a credit note names the invoice it corrects."""

    __tablename__ = "invoices"
    __table_args__ = (
        Index(
            "uq_invoices_account_bill_date",
            "account_id",
            "bill_date",
            unique=True,
            sqlite_where=text("kind = 'invoice'"),
            postgresql_where=text("kind = 'invoice'"),
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="invoice")
    credits_invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    reason: Mapped[str | None] = mapped_column(String(500))
    realm_id: Mapped[str] = mapped_column(ForeignKey("realms.id"))
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    bill_date: Mapped[date] = mapped_column(Date, index=True)
    currency: Mapped[str] = mapped_column(String(3))
    subtotal: Mapped[Decimal] = mapped_column(Money)
    tax: Mapped[Decimal] = mapped_column(Money)
    total: Mapped[Decimal] = mapped_column(Money)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", order_by="InvoiceLine.id"
    )


class InvoiceLine(Base):
    """One issued line; `line_key` names what it charged so it is never charged twice."""

    __tablename__ = "invoice_lines"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    line_key: Mapped[str] = mapped_column(String(200), unique=True)
    account_id: Mapped[str] = mapped_column(String(64))
    subscription_id: Mapped[int | None] = mapped_column(Integer)
    product_id: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(String(200))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    quantity: Mapped[Decimal] = mapped_column(Money)
    amount: Mapped[Decimal] = mapped_column(Money)
    taxable: Mapped[bool] = mapped_column(Boolean)
    invoice: Mapped[Invoice] = relationship(back_populates="lines")


class LedgerEntry(Base):
    """One entry of a billing account's ledger, never updated or deleted: a correction is
    a new entry. `amount` is signed: a debit (> 0: an invoice, a refund, a reversed
    payment, prepaid usage) raises what the account owes, a credit (< 0: a payment, a
    credit note, a write-off, a top-up) lowers it; the balance is their sum.

    `entry_date` is the day it counts from (a bill date, the day money arrived);
    `invoice_id` the invoice or credit note the entry is; `target_id` the debit a credit
    was meant for (a payment for a named invoice, a credit note's invoice, a write-off);
    `related_id` the payment a refund or reversal takes back. `key`, when set, makes it
    one of a kind: a bank statement line or a gateway charge is never recorded twice."""

    __tablename__ = "ledger_entries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    realm_id: Mapped[str] = mapped_column(ForeignKey("realms.id"))
    currency: Mapped[str] = mapped_column(String(3))
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal] = mapped_column(Money)
    entry_date: Mapped[date] = mapped_column(Date, index=True)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), unique=True)
    target_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    related_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"), index=True)
    method: Mapped[str | None] = mapped_column(String(16))
    reference: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(String(500))
    key: Mapped[str | None] = mapped_column(String(200), unique=True)
    invoice: Mapped[Invoice | None] = relationship()


class Allocation(Base):
    """How much of a credit entry pays a debit entry. Only ever added: a negative
    allocation takes part of an earlier one back (a reversed payment reopens what it
    paid). A debit is open by its amount less what is allocated to it."""

    __tablename__ = "allocations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    credit_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"), index=True)
    debit_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class NasClient(Base):
    """A NAS allowed to send RADIUS to Jet: packets from `address` are checked with
    `secret`, and its users belong to `realm_id` unless their name says otherwise. Jet
    sends it Disconnect and CoA requests (RFC 5176) on `coa_port`, signed with `secret`."""

    __tablename__ = "nas_clients"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    address: Mapped[str] = mapped_column(String(15), unique=True)
    secret: Mapped[str] = mapped_column(String(128))
    realm_id: Mapped[str] = mapped_column(ForeignKey("realms.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    coa_port: Mapped[int] = mapped_column(Integer, default=3799, server_default=text("3799"))


class Event(Base):
    """The outbox: what happened, written in the same transaction as the change.

    `account_id` is the account it is about (deliveries keep each account's order);
    `due_at` is when it takes effect and may be delivered (a plan change from a later
    day), none meaning at once. `key`, when set, makes an event announced once only (a
    usage warning per account, cycle and threshold). Each subscriber's delivery is an
    `EventDelivery`."""

    __tablename__ = "events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    topic: Mapped[str] = mapped_column(String(64), index=True)
    payload: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    account_id: Mapped[str | None] = mapped_column(String(64), index=True)
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    key: Mapped[str | None] = mapped_column(String(200), unique=True)


class EventDelivery(Base):
    """One subscriber's delivery of one event: `pending` until done (`delivered`) or
    given up (`dead`). A dispatcher claims it by moving `next_attempt_at` ahead while it
    works, and further ahead (backing off) after a failed attempt; `outcome` says how the
    last attempt went, `progress` what a subscriber keeps between attempts."""

    __tablename__ = "event_deliveries"
    __table_args__ = (Index("ix_event_deliveries_subscriber", "subscriber", "status", "event_id"),)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), primary_key=True)
    subscriber: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str | None] = mapped_column(String(500))
    progress: Mapped[dict | None] = mapped_column(JSON)


class AuditEntry(Base):
    """One change, by any path, in the transaction that made it: who (`actor`), through
    what (`channel`: cli, import, console, portal, dunning, demo), what (`action` on
    `entity` `entity_id`, of `account_id`), and the values `before` and `after` (only
    those that changed). Rows are only ever added."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(200))
    account_id: Mapped[str | None] = mapped_column(String(64), index=True)
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)


class RemoteRealm(Base):
    """A realm whose logins another RADIUS server decides: Access-Requests for it are
    forwarded to `address`:`auth_port` signed with `secret`, and its accounting, landed
    as any other, is also copied to `acct_port` when there is one. Each request is sent
    again after `timeout` seconds, up to `retries` times."""

    __tablename__ = "remote_realms"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    realm: Mapped[str] = mapped_column(String(253), unique=True)
    address: Mapped[str] = mapped_column(String(15))
    auth_port: Mapped[int] = mapped_column(Integer)
    acct_port: Mapped[int | None] = mapped_column(Integer)
    secret: Mapped[str] = mapped_column(String(128))
    timeout: Mapped[float] = mapped_column(Float)
    retries: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class QualityRun(Base):
    """One validation of the data contracts (schemas/contracts.py), for the bill dates
    [first_bill_date, last_bill_date] of a billing or rating run. The issue step of a
    bill date obeys the latest run that covered it."""

    __tablename__ = "quality_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    first_bill_date: Mapped[date] = mapped_column(Date)
    last_bill_date: Mapped[date] = mapped_column(Date)
    checked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    results: Mapped[list[QualityResult]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="QualityResult.id"
    )


class QualityResult(Base):
    """One check of a run. A failed blocking check holds the bill dates in `holds`
    (`[realm or null for every realm, first, last]`, ISO dates); `sample` is up to five
    of its failing rows, `error` why it could not be evaluated at all."""

    __tablename__ = "quality_results"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("quality_runs.id"), index=True)
    check: Mapped[str] = mapped_column(String(100))
    blocking: Mapped[bool] = mapped_column(Boolean)
    rows_checked: Mapped[int] = mapped_column(Integer)
    rows_failing: Mapped[int] = mapped_column(Integer)
    sample: Mapped[list] = mapped_column(JSON)
    holds: Mapped[list] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(String(2000))
    run: Mapped[QualityRun] = relationship(back_populates="results")


class QualityWaiver(Base):
    """A person's decision to issue a bill date's invoices although `check` fails for it,
    with who decided, when, and why. Withdrawing it records who, when and why instead of
    deleting it, so the history stays auditable; one waiver of a check and date is
    active (not withdrawn) at a time."""

    __tablename__ = "quality_waivers"
    __table_args__ = (
        Index(
            "uq_quality_waivers_active",
            "check",
            "bill_date",
            unique=True,
            sqlite_where=text("withdrawn_at IS NULL"),
            postgresql_where=text("withdrawn_at IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    check: Mapped[str] = mapped_column(String(100))
    bill_date: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(500))
    waived_by: Mapped[str] = mapped_column(String(64))
    waived_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    withdrawn_by: Mapped[str | None] = mapped_column(String(64))
    withdrawal_reason: Mapped[str | None] = mapped_column(String(500))

    @property
    def active(self) -> bool:
        return self.withdrawn_at is None


class Mandate(Base):
    """A SEPA direct-debit mandate: billing account `account_id` lets the realm collect
    from `iban` (normalised, checked) under `reference`, the mandate id the debtor
    signed on `signed_on`. Revoking sets `revoked_on`; the row stays, because the
    collections made under it name it."""

    __tablename__ = "mandates"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(35), unique=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    iban: Mapped[str] = mapped_column(String(34), index=True)
    bic: Mapped[str | None] = mapped_column(String(11))
    debtor_name: Mapped[str] = mapped_column(String(70))
    signed_on: Mapped[date] = mapped_column(Date)
    revoked_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Collection(Base):
    """One direct debit sent to the bank in a pain.008 message (`message_id`) for what was
    open of invoice entry `entry_id`: `pending` until a statement shows it `paid` (its
    payment `payment_id`) or `returned` (with the bank's `return_reason`)."""

    __tablename__ = "collections"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    end_to_end_id: Mapped[str] = mapped_column(String(35), unique=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    mandate_id: Mapped[int] = mapped_column(ForeignKey("mandates.id"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    collection_date: Mapped[date] = mapped_column(Date)
    sequence: Mapped[str] = mapped_column(String(4))
    message_id: Mapped[str] = mapped_column(String(35), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    return_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StatementLine(Base):
    """One booked line of an imported bank statement, kept whatever became of it: `key`
    (statement id and the bank's entry reference) makes a line imported once. `status`
    is `paid` (it became payment `entry_id`), `returned` (a returned debit, reversal
    `entry_id`), `unmatched` (for a person to decide) or `ignored` (a debit that is no
    return of ours)."""

    __tablename__ = "statement_lines"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    statement_id: Mapped[str] = mapped_column(String(100), index=True)
    realm_id: Mapped[str] = mapped_column(ForeignKey("realms.id"))
    booked_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    reference: Mapped[str | None] = mapped_column(String(500))
    counterparty: Mapped[str | None] = mapped_column(String(140))
    counterparty_iban: Mapped[str | None] = mapped_column(String(34))
    return_code: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), index=True)
    account_id: Mapped[str | None] = mapped_column(String(64))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    note: Mapped[str | None] = mapped_column(String(300))
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PaymentCard(Base):
    """A card stored at the realm's gateway for a billing account: its `token` there,
    and what a person needs to recognise it (`brand`, `last4`, expiry); never the number
    or the CVC. A removed card keeps its row (`removed_at`) for its charges' history; the
    newest card not removed is the one charged."""

    __tablename__ = "payment_cards"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    gateway: Mapped[str] = mapped_column(String(32))
    token: Mapped[str] = mapped_column(String(200), unique=True)
    brand: Mapped[str] = mapped_column(String(16))
    last4: Mapped[str] = mapped_column(String(4))
    exp_month: Mapped[int] = mapped_column(Integer)
    exp_year: Mapped[int] = mapped_column(Integer)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CardCharge(Base):
    """One call to a card gateway that moved or tried to move money, kept as the gateway
    answered: a `charge` of an invoice (`invoice_entry_id`, `attempt` 0 on issue, then
    each retry) or a top-up, or a `refund`. `key` is the idempotency key sent with it, so
    an attempt is never made twice; `outcome` is charged, declined or refunded, `reason`
    the decline code, `entry_id` the ledger entry of the payment or refund it recorded."""

    __tablename__ = "card_charges"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    card_id: Mapped[int | None] = mapped_column(ForeignKey("payment_cards.id"))
    kind: Mapped[str] = mapped_column(String(16))
    invoice_entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    attempt: Mapped[int | None] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(64))
    reference: Mapped[str] = mapped_column(String(200))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"), index=True)


class DunningAction(Base):
    """A step of the dunning ladder taken for an overdue invoice: once per (account,
    invoice, step), whatever runs again. `step` is its position in the realm's ladder,
    `action` what it did (remind, suspend, close), `fee` the late fee it billed."""

    __tablename__ = "dunning_actions"
    __table_args__ = (UniqueConstraint("entry_id", "step"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"))
    step: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))
    fee: Mapped[Decimal | None] = mapped_column(Money)
    due_date: Mapped[date] = mapped_column(Date)
    taken_on: Mapped[date] = mapped_column(Date)
    taken_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class InvoiceMailing(Base):
    """An invoice's e-mail to its account (reports/invoice_mail.py): `pending` until the
    server took it (`sent`), `sending` while it is handed over (its `message_id` committed
    first, so a crash sends it again under the same id), `failed` once refused for good.
    `resends` counts the re-sends people asked for (`jet invoice send`)."""

    __tablename__ = "invoice_mailings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), unique=True)
    to_address: Mapped[str] = mapped_column(String(200))
    message_id: Mapped[str | None] = mapped_column(String(250))
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(String(500))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resends: Mapped[int] = mapped_column(Integer, default=0)


class StaffMember(Base):
    """A person who signs in to the console (jet/staff.py): their `role` (jet.roles) in
    `realms` (a list of realm ids; None: every realm, present and future). Only an argon2
    hash of the password is kept, and the TOTP secret once they turn TOTP on, with the time
    step of the last code accepted (`totp_last_step`: a code works once).
    `failed_attempts` counts failed sign-ins in a row; `locked_until` ends a lockout."""

    __tablename__ = "staff_members"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    realms: Mapped[list | None] = mapped_column(JSON)
    password_hash: Mapped[str] = mapped_column(String(200))
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class StaffSession(Base):
    """A console sign-in: only the SHA-256 of its token is kept, so a copy of the store
    signs no one in. It ends at sign-out (`ended_at`), when the member is disabled, or
    by expiry (jet/staff.py), measured from `created_at` and `last_seen_at`."""

    __tablename__ = "staff_sessions"
    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PortalLogin(Base):
    """An account's portal password (jet/portal_logins.py), apart from its RADIUS one:
    only its argon2 hash. `failed_attempts` counts failed sign-ins in a row;
    `locked_until` ends a lockout."""

    __tablename__ = "portal_logins"
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PortalSession(Base):
    """A portal sign-in: only the SHA-256 of its token is kept. It ends at sign-out, when
    the password changes, or by expiry, measured from `created_at` and `last_seen_at`."""

    __tablename__ = "portal_sessions"
    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PortalToken(Base):
    """A link e-mailed to a customer (a password reset): the SHA-256 of its token, what it
    is `for`, until when it works and when it was used (a link works once)."""

    __tablename__ = "portal_tokens"
    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16))
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SignUp(Base):
    """A sign-up in the portal waiting for its e-mail address to be verified
    (jet/signup.py): the account it asks for (`login`, `plan_id`, `details`), its
    passwords (the RADIUS one in clear, as accounts keep it; the portal one as an argon2
    hash), the SHA-256 of the verification token and of the client's address (for the
    rate limit, without keeping the address), and `account_id` once verified."""

    __tablename__ = "signups"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    realm_id: Mapped[str] = mapped_column(ForeignKey("realms.id"))
    login: Mapped[str] = mapped_column(String(64))
    plan_id: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict] = mapped_column(JSON)
    radius_password: Mapped[str] = mapped_column(String(128))
    portal_password_hash: Mapped[str] = mapped_column(String(200))
    client_sha256: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    account_id: Mapped[str | None] = mapped_column(String(64))
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ContactMessage(Base):
    """A message a customer left for the realm's helpdesk (jet/contact_messages.py), kept
    on the account; `mailed_to` is the support address it was sent to, once sent."""

    __tablename__ = "contact_messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    author: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    mailed_to: Mapped[str | None] = mapped_column(String(254))
    mailed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
