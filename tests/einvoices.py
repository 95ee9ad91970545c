"""What the e-invoice tests check of an EN 16931 CII XML besides its XSD: `checked_totals`
asserts the standard's arithmetic (the business rules the XSD cannot hold) and returns
the document's totals. Used by tests/unit/test_facturx.py and
tests/integration/test_facturx_month.py."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import facturx
from lxml import etree

NS = facturx.get_xml_namespaces("factur-x")


def text(node: etree._Element, path: str) -> str:
    return node.xpath(path, namespaces=NS)[0].text


def amounts(node: etree._Element, path: str) -> list[Decimal]:
    return [Decimal(e.text) for e in node.xpath(path, namespaces=NS)]


def checked_totals(xml: bytes) -> dict[str, Decimal]:
    """The header totals of `xml` (LineTotal, TaxBasisTotal, TaxTotal, GrandTotal,
    TotalPrepaid, DuePayable), after asserting that it is valid against the shipped
    EN 16931 XSD and that its figures add up as EN 16931's rules say."""
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    root = etree.fromstring(xml)
    assert text(root, "//ram:GuidelineSpecifiedDocumentContextParameter/ram:ID") == (
        "urn:cen.eu:en16931:2017"
    )
    summation = root.xpath("//ram:SpecifiedTradeSettlementHeaderMonetarySummation", namespaces=NS)[
        0
    ]
    totals = {
        name: sum(amounts(summation, f"ram:{name}Amount"), Decimal(0))
        for name in ("LineTotal", "TaxBasisTotal", "TaxTotal", "GrandTotal", "TotalPrepaid")
    }
    totals["DuePayable"] = amounts(summation, "ram:DuePayableAmount")[0]
    places = -Decimal(totals["GrandTotal"]).as_tuple().exponent

    def rounded(value: Decimal) -> Decimal:
        return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)

    lines = root.xpath("//ram:IncludedSupplyChainTradeLineItem", namespaces=NS)
    assert lines, "BR-16: at least one line"
    by_category: dict[tuple[str, Decimal], Decimal] = {}
    for line in lines:
        net = amounts(
            line, ".//ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount"
        )[0]
        price = amounts(line, ".//ram:NetPriceProductTradePrice/ram:ChargeAmount")[0]
        quantity = amounts(line, ".//ram:BilledQuantity")[0]
        basis = amounts(line, ".//ram:NetPriceProductTradePrice/ram:BasisQuantity") or [1]
        assert price >= 0, "BR-27: the net price is never negative"
        assert rounded(price * quantity / basis[0]) == net, "net = price x quantity / base"
        tax = line.xpath(
            ".//ram:SpecifiedLineTradeSettlement/ram:ApplicableTradeTax", namespaces=NS
        )[0]
        key = (text(tax, "ram:CategoryCode"), Decimal(text(tax, "ram:RateApplicablePercent")))
        by_category[key] = by_category.get(key, Decimal(0)) + net
    assert sum(by_category.values(), Decimal(0)) == totals["LineTotal"], "BR-CO-10"
    assert totals["TaxBasisTotal"] == totals["LineTotal"], "BR-CO-13 (no allowances, charges)"
    assert totals["GrandTotal"] == totals["TaxBasisTotal"] + totals["TaxTotal"], "BR-CO-15"
    assert totals["DuePayable"] == totals["GrandTotal"] - totals["TotalPrepaid"], "BR-CO-16"

    header_taxes = root.xpath(
        "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax", namespaces=NS
    )
    assert (
        sum(
            amounts(
                root,
                "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:CalculatedAmount",
            ),
            Decimal(0),
        )
        == totals["TaxTotal"]
    ), "BR-CO-14"
    seen = {}
    for tax in header_taxes:
        key = (text(tax, "ram:CategoryCode"), Decimal(text(tax, "ram:RateApplicablePercent")))
        basis, calculated = (
            amounts(tax, "ram:BasisAmount")[0],
            amounts(tax, "ram:CalculatedAmount")[0],
        )
        seen[key] = basis
        assert basis == by_category.get(key), f"BR-{key[0]}-08: basis = its lines' sum"
        assert calculated == rounded(basis * key[1] / 100), f"BR-{key[0]}-09"
        if key[0] == "E":
            assert tax.xpath("ram:ExemptionReason", namespaces=NS), "BR-E-10"
    assert seen.keys() == by_category.keys(), "BR-CO-18: a tax breakdown per category"
    return totals
