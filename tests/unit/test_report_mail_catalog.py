"""A realm's report_mail block: which reports go to whom, how often, in which format."""

from __future__ import annotations

import pytest

from jet.catalog import CatalogError, load_catalog_file
from tests.unit.test_portal_catalog import EXAMPLES, parsed, refused


def test_a_report_mail_block_round_trips_with_its_defaults(tmp_path):
    catalog = parsed(tmp_path, "  report_mail:\n    - {reports: [finance], to: [Fin@Acme.example]}")
    [entry] = catalog.realm.report_mail
    assert entry.reports == ("finance",) and entry.every == "month" and entry.format == "pdf"
    assert entry.to == ("Fin@acme.example",)  # the domain in lower case
    assert catalog.to_dict()["realm"]["report_mail"] == [
        {"reports": ["finance"], "to": ["Fin@acme.example"], "every": "month", "format": "pdf"}
    ]
    assert parsed(tmp_path, "").realm.report_mail is None
    assert "report_mail" not in parsed(tmp_path, "").to_dict()["realm"]


def test_the_demo_realms_mail_their_finance_pack():
    entries = load_catalog_file(EXAMPLES / "acme.yaml").realm.report_mail
    assert any("finance" in e.reports and e.every == "month" for e in entries)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            "  report_mail:\n    - {reports: [], to: [a@b.example]}",
            "give at least one report or pack name",
        ),
        ("  report_mail:\n    - {reports: [finance], to: [nobody]}", "is not an e-mail address"),
        ("  report_mail:\n    - {reports: [finance], to: [a@b.example], every: day}", "every"),
        ("  report_mail:\n    - {reports: [x], to: [a@b.example], format: doc}", "format"),
        ("  report_mail:\n    - {reports: [x], to: [a@b.example], cc: [c@d.example]}", "every"),
    ],
)
def test_mistakes_in_a_report_mail_block_are_refused(tmp_path, extra, message):
    with pytest.raises(CatalogError):
        parsed(tmp_path, extra)
    assert message in refused(tmp_path, extra)
