"""Every field an invoice and a credit note carry (docs/invoices.md), found by pdftotext
on those of each demo realm, and a picture of each page (pdftoppm) kept for review."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from jet.catalog import load_catalog_file
from jet.invoicing import credit_invoice
from jet.realms import store_catalog
from jet.store.db import session
from jet.store.models import Account, Invoice, InvoiceLine, Realm
from reports.issued_invoices import pdf_path, render_pdfs
from tests.invoice_documents import pdf_pages

CATALOGS = Path(__file__).parents[2] / "examples" / "catalogs"
ISSUED = datetime(2026, 10, 1, 6, 30, tzinfo=UTC)
SEP = (date(2026, 9, 1), date(2026, 10, 1))
D = Decimal

# realm: (lines as (product, kind, quantity, amount, taxable), tax, what must print)
REALMS = {
    "acme": (
        [
            ("home-access", "advance", "1", "69.00", True),
            ("home-data", "usage", "750", "12.50", True),
        ],
        "8.15",
        [
            "Acme Broadband Pty Ltd",
            "ABN 51 824 753 556",
            "Level 12, 60 Margaret Street",
            "billing@acme.example",
            "Home broadband",
            "Home data",
            "1–30 Sept 2026",
            "1 month",
            "750 GB",
            "69.00",
            "tier: up to 500 GB",
            "tier: up to 1,000 GB",
            "250 GB",
            "0.05",
            "12.50",
            "Tax 10% on $81.50",
            "$8.15",
            "Total AUD $89.65",
            "Due date 15 Oct 2026",
            "BSB 062-000",
            "Account number 1234 5678",
            "Reference ACME-2026-000001",
            "https://portal.acme.example/pay/ACME-2026-000001",
            "Issue date 1 Oct 2026",
        ],
    ),
    "skyfi": (
        [
            ("unlimited-pass", "advance", "1", "39.00", True),
            ("pay-as-you-go-data", "usage", "450", "2.50", True),
            ("device-deposit", "once", "1", "80.00", False),
        ],
        "6.23",
        [
            "SkyFi Hotspots Limited",
            "GST 123-456-789",
            "155 Fanshawe Street, Auckland",
            "Unlimited pass",
            "Pay-as-you-go data",
            "Hotspot device deposit",
            "450 MB",
            "1 each",
            "Tax 15% on $41.50",
            "No tax (exempt) on $80.00",
            "Total NZD $127.73",
            "Due date 8 Oct 2026",
            "12-3456-0123456-00",
            "https://my.skyfi.example/pay/",
        ],
    ),
    "eurowave": (
        [("fibre-access", "advance", "1", "39.90", True), ("setup", "once", "1", "49.00", True)],
        "16.89",
        [
            "EuroWave GmbH",
            "DE123456789",
            "Friedrichstraße 123, 10117 Berlin",
            "Glasfaser-Anschluss",
            "Einrichtung",
            "1.–30. Sept. 2026",
            "39,90",
            "49,00",
            "Tax 19% on 88,90 €",
            "16,89 €",
            "Total EUR 105,79 €",
            "Due date 15.10.2026",
            "DE89 3704 0044 0532 0130 00",
            "COBADEFFXXX",
            "Scan to pay (EPC QR)",
            "Zahlbar bis 15.10.2026 ohne Abzug.",
        ],
    ),
}
BUYER = "Иван Петров & Ελένη Παπαδοπούλου"  # Cyrillic and Greek


def words(text: str) -> str:
    return re.sub(r"[ \t]+", " ", text)


@pytest.fixture(scope="session")
def pictures(tmp_path_factory) -> Path:
    folder = tmp_path_factory.getbasetemp() / "invoice-pictures"
    folder.mkdir(exist_ok=True)
    print(f"\ninvoice pictures: {folder}")
    return folder


def _issue(settings, realm_id: str) -> str:
    lines, tax, _ = REALMS[realm_id]
    with session(settings.db_url) as s:
        path = CATALOGS / f"{realm_id}.yaml"
        store_catalog(s, load_catalog_file(path), str(path))
        s.flush()
        realm = s.get(Realm, realm_id)
        s.add(
            Account(
                id=f"{realm_id}-co", realm_id=realm_id, name=BUYER, kind="company",
                address="Unit 4, 12 Example Road\nSpringfield 1234", country="GR",
                tax_id="EL123456789", email="accounts@buyer.example", created_at=ISSUED,
            )
        )  # fmt: skip
        s.flush()
        s.add(
            Account(
                id=f"{realm_id[:3]}-user", realm_id=realm_id, name="Zoë User",
                parent_id=f"{realm_id}-co", created_at=ISSUED,
            )
        )  # fmt: skip
        s.flush()
        subtotal = sum((D(amount) for *_, amount, _t in lines), D(0))
        realm.last_invoice_number = 1
        number = realm.invoice_format.format(prefix=realm.invoice_prefix, year=2026, number=1)
        s.add(
            Invoice(
                number=number, realm_id=realm_id, account_id=f"{realm_id}-co",
                bill_date=SEP[1], currency=realm.currency, subtotal=subtotal, tax=D(tax),
                total=subtotal + D(tax), issued_at=ISSUED,
                lines=[
                    InvoiceLine(
                        line_key=f"{number}:{k}", account_id=f"{realm_id[:3]}-user",
                        subscription_id=1, product_id=product, kind=kind,
                        description=f"{product} ({kind})", period_start=SEP[0],
                        period_end=SEP[1], quantity=D(quantity), amount=D(amount),
                        taxable=taxable,
                    )
                    for k, (product, kind, quantity, amount, taxable) in enumerate(lines)
                ],
            )
        )  # fmt: skip
    return number


@pytest.mark.skipif(not shutil.which("pdftoppm"), reason="needs poppler-utils")
@pytest.mark.parametrize("realm_id", sorted(REALMS))
def test_every_field_prints_on_an_invoice_and_a_credit_note(
    settings, realm_id, tmp_path, pictures
) -> None:
    number = _issue(settings, realm_id)
    note = credit_invoice(settings, number, "agreed refund — line fault").number
    render_pdfs(settings, processes=1)
    invoice = pdf_path(settings, realm_id, number).read_bytes()
    text = words("\n".join(pdf_pages(invoice, tmp_path)))
    for expected in [
        *REALMS[realm_id][2],
        number, BUYER, "Unit 4, 12 Example Road", "Springfield 1234", "Tax id: EL123456789",
        f"{realm_id[:3]}-user", "Zoë User",  # the user under the cost-centre
        "Bill to", "Unit price", "Tax invoice",
    ]:  # fmt: skip
        assert expected in text, (realm_id, expected, text)
    credit = words("\n".join(pdf_pages(pdf_path(settings, realm_id, note).read_bytes(), tmp_path)))
    for expected in ["Credit note", f"Credits invoice {number}", note, BUYER, "Credit: "]:
        assert expected in credit, (realm_id, expected, credit)
    assert "Amount due" not in credit and "How to pay" not in credit
    for name in (number, note):
        subprocess.run(
            ["pdftoppm", "-png", "-r", "60", str(pdf_path(settings, realm_id, name)),
             str(pictures / f"{realm_id}-{name}")],
            check=True,
        )  # fmt: skip
        assert list(pictures.glob(f"{realm_id}-{name}*.png"))


@pytest.mark.skipif(not shutil.which("pdftoppm"), reason="needs poppler-utils")
def test_a_logo_and_non_latin_names_render(settings, tmp_path, pictures) -> None:
    """acme has a logo: its picture is not blank where the logo is, and the Cyrillic and
    Greek name is text a reader can search."""
    number = _issue(settings, "acme")
    render_pdfs(settings, processes=1)
    pdf = pdf_path(settings, "acme", number)
    assert b"/Subtype /Image" in pdf.read_bytes()
    assert BUYER in "\n".join(pdf_pages(pdf.read_bytes(), tmp_path))
    subprocess.run(["pdftoppm", "-png", "-r", "40", str(pdf), str(tmp_path / "p")], check=True)
    from PIL import Image

    page = Image.open(next(tmp_path.glob("p*.png"))).convert("RGB")
    w, h = page.size
    corner = page.crop((int(w * 0.6), 0, w, int(h * 0.12)))  # the logo, top right
    assert any(r < 100 and b > 60 for r, g, b in corner.getdata())  # its blue
    shutil.copy(next(tmp_path.glob("p*.png")), pictures / "acme-logo-cyrillic-greek.png")


def test_the_realm_brand_file_overrides_the_catalog(settings, tmp_path) -> None:
    from jet.realm_branding import write_brand

    write_brand(settings.root, "acme", {"footer": "Brand file footer {{ number }}"})
    number = _issue(settings, "acme")
    render_pdfs(settings, processes=1)
    text = words("\n".join(pdf_pages(pdf_path(settings, "acme", number).read_bytes(), tmp_path)))
    assert f"Brand file footer {number}" in text
    assert "Acme Broadband Pty Ltd, ABN" not in text  # the catalog's footer


@pytest.mark.skipif(not shutil.which("pdftoppm"), reason="needs poppler-utils")
def test_the_epc_qr_code_drawn_is_segnos_code_of_the_payment(settings, tmp_path) -> None:
    """The QR code is drawn as rectangles: read back module by module from a picture of
    the page, it is segno's EPC code for the amount due and the reference."""
    import segno
    from PIL import Image

    from reports.invoice_pdf import _MARGIN, _QR_MASK, _QR_SIZE

    number = _issue(settings, "eurowave")
    render_pdfs(settings, processes=1)
    pdf = pdf_path(settings, "eurowave", number)
    subprocess.run(["pdftoppm", "-png", "-r", "300", str(pdf), str(tmp_path / "p")], check=True)
    page = Image.open(next(tmp_path.glob("p*.png"))).convert("L")
    text = "\n".join(pdf_pages(pdf.read_bytes(), tmp_path))
    assert "Scan to pay (EPC QR)" in text
    data = segno.helpers._make_epc_qr_data(
        "EuroWave GmbH", "DE89370400440532013000", D("105.79"), number, None,
        "COBADEFFXXX", None, "UTF-8",
    )  # fmt: skip
    expected = segno.make_qr(data, error="m", boost_error=False, mask=_QR_MASK).matrix
    dots = 300 / 25.4
    module = _QR_SIZE / (len(expected) + 4)
    x0 = page.size[0] / dots - _MARGIN - _QR_SIZE + 2 * module  # mm, the modules' left

    def dark(x: float, y: float) -> bool:  # mm
        return page.getpixel((int(x * dots), int(y * dots))) < 128

    def finder_top(y: float) -> bool:  # a finder pattern's top row: 7 dark, a light ring
        row = all(dark(x0 + (c + 0.5) * module, y) for c in range(7))
        ring = not dark(x0 + 1.5 * module, y + 1.5 * module)
        return (
            row
            and ring
            and dark(x0 + 0.5 * module, y + 3 * module)
            and dark(x0 + 3.5 * module, y + 3 * module)
        )

    y0 = next(y / dots for y in range(page.size[1]) if finder_top(y / dots))
    read = [
        [dark(x0 + (c + 0.5) * module, y0 + (r + 0.5) * module) for c in range(len(expected))]
        for r in range(len(expected))
    ]
    assert read == [[bool(x) for x in row] for row in expected]
