"""What an issued invoice or credit note says, as plain data: the one document the PDF
(`reports.invoice_pdf`), the EN 16931 e-invoice (`reports.facturx`), the e-mail and the
exports are made from, so that they cannot disagree.

`reports.issued_invoices` builds it from the store (the invoice, its lines, the account)
and the catalog in force for the bill date (the realm's seller, payment and branding
blocks, the products' names and units). Amounts are Decimal and already rounded by
billing; a tier's or a unit price's figures are exact."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal


@dataclass(frozen=True)
class Party:
    """A seller or a buyer as the invoice names it."""

    name: str
    address: tuple[str, ...] = ()  # the printed lines: street, town and postcode ...
    country: str | None = None  # ISO 3166-1 alpha-2
    tax_id: str | None = None  # ABN, GST number, VAT number
    email: str | None = None
    phone: str | None = None
    website: str | None = None


@dataclass(frozen=True)
class TierPart:
    """One tier of a tiered usage line: how much of the quantity fell in it and its price
    (a `volume` tier prices the whole quantity at one tier's price: one part)."""

    quantity: Decimal
    unit_price: Decimal
    amount: Decimal  # exact: quantity x unit price, not rounded
    upto: Decimal | None = None  # the tier's upper bound, in the line's unit


@dataclass(frozen=True)
class InvoiceDocumentLine:
    """One printed line: the user (account) that caused it, what it is, for when."""

    account_id: str
    description: str  # the product's display name from the catalog
    kind: str  # advance | refund | usage | once | adjustment ...
    period_start: date
    period_end: date  # exclusive, as billing stores it; `last_day` is what prints
    quantity: Decimal
    amount: Decimal
    product_id: str | None = None
    unit: str | None = None  # GB, hour, month ...
    unit_price: Decimal | None = None  # None where no single price applies (tiers)
    tiers: tuple[TierPart, ...] = ()
    taxable: bool = True
    user_name: str | None = None  # the user's name, on a cost-centre's invoice

    @property
    def last_day(self) -> date:
        return max(self.period_start, self.period_end - timedelta(days=1))


@dataclass(frozen=True)
class TaxSubtotal:
    """Tax per rate: the UNCL5305 category (jet.tax_categories), its rate, the lines'
    amount it applies to and the tax."""

    category: str
    rate: Decimal
    basis: Decimal
    tax: Decimal


@dataclass(frozen=True)
class PaymentInstructions:
    """How to pay: the bank account, the reference to quote, the portal's link, and
    whether an EPC (SEPA credit transfer) QR code prints."""

    account_name: str | None = None
    iban: str | None = None
    bic: str | None = None
    bank_code: str | None = None  # a domestic routing code: an Australian BSB ...
    account_number: str | None = None  # ... with its account number
    reference: str | None = None
    pay_url: str | None = None
    text: str = ""  # the realm's rendered payment text block
    epc_qr: bool = False


@dataclass(frozen=True)
class Brand:
    """How a realm's documents look and speak."""

    logo: str | None = None  # path to a PNG or JPEG
    primary_colour: str = "#1F3A5F"
    accent_colour: str = "#E1E5EB"
    font_regular: str | None = None  # a TTF; None: the shipped Unicode font
    font_bold: str | None = None
    locale: str = "en_AU"  # dates and money (babel)
    footer: str = ""  # rendered text blocks (Jinja2 templates a realm may override)
    terms: str = ""
    einvoice: bool = True  # also embed the EN 16931 Factur-X XML


@dataclass
class InvoiceDocument:
    """Everything an issued invoice or credit note prints."""

    number: str
    realm_id: str
    realm_name: str
    currency: str
    bill_date: date
    issued_at: datetime
    account_id: str
    account_name: str
    lines: list[InvoiceDocumentLine]
    subtotal: Decimal
    tax: Decimal
    tax_rate: Decimal
    total: Decimal
    kind: str = "invoice"  # or "credit_note"
    title: str = "Tax invoice"  # "Credit note" for a credit note
    note: str = ""  # printed under the title: what a credit note corrects, and why
    credited_number: str | None = None  # the invoice a credit note credits
    due_date: date | None = None
    # The account's credit that paid it at issue (jet.ledger_documents), and what is due.
    credit_applied: Decimal | None = None
    seller: Party | None = None
    buyer: Party | None = None
    taxes: list[TaxSubtotal] = field(default_factory=list)
    payment: PaymentInstructions | None = None
    brand: Brand = field(default_factory=Brand)

    @property
    def amount_due(self) -> Decimal:
        return self.total - (self.credit_applied or Decimal(0))
