"""An imported line item is billed on the next invoice, in arrears of its date, and taxed."""

from __future__ import annotations

from datetime import date

from click.testing import CliRunner

from jet.cli import main
from jet.config import PROJECT_ROOT
from jet.drafts import draft_invoices
from jet.drivers.simulate import load_scenario
from jet.warehouse import rate

SCENARIO = PROJECT_ROOT / "examples" / "scenarios" / "01-flat-monthly-prorata.yaml"


def test_an_imported_item_lands_on_the_next_invoice(settings, tmp_path):
    load_scenario(SCENARIO, settings)
    csv_file = tmp_path / "static-ip.csv"
    csv_file.write_text(
        "account,date,description,amount,taxable\nalice,2026-02-10,Static IP block /29,15.00,true\n"
    )
    result = CliRunner().invoke(main, ["import", "line-items", str(csv_file)])
    assert result.exit_code == 0, result.output
    assert result.output == f"imported 1 line items from {csv_file}\n"

    rate(settings, "2026-03-01", "run")
    invoices = {inv["bill_date"]: inv for inv in draft_invoices(settings, date(2026, 3, 1))}

    # dated 2026-02-10, so not on the invoice of 2026-02-01 ...
    assert [line["kind"] for line in invoices["2026-02-01"]["lines"]] == ["advance", "catch_up"]
    assert invoices["2026-02-01"]["total"] == "51.10"
    # ... but in arrears on the one of 2026-03-01, where it is taxed with the access fee
    march = invoices["2026-03-01"]
    items = [line for line in march["lines"] if line["kind"] == "item"]
    assert items == [
        {
            "account": "alice",
            "product": None,
            "kind": "item",
            "period_start": "2026-02-10",
            "period_end": "2026-02-10",
            "quantity": "1",
            "amount": "15.00",
        }
    ]
    assert (march["subtotal"], march["tax"], march["total"]) == ("45.00", "4.50", "49.50")
