"""The catalog file: what parses, what is refused and how the refusal reads."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from jet.catalog import (
    UNIT_DIVISORS,
    Catalog,
    CatalogError,
    load_catalog_file,
    load_yaml,
    parse_catalog,
    parse_realm_and_catalog,
    rate_limit_bps,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples" / "catalogs").glob("*.yaml"))
GOLDEN = sorted(Path("/work/shared/golden").glob("*.yaml"))

GOOD = """\
realm: {id: acme, name: Acme, currency: AUD, tax_rate: "0.10", cycle: fixed_date, cycle_day: 1}
effective_from: 2026-01-01
products:
  access: {type: flat, price: "59.95", period: quarterly}
  setup: {type: once, price: "99"}
  data:
    type: usage
    metric: bytes_total
    unit: GB
    tiers: [{upto: 10, price: "0"}, {upto: 50, price: "2.50"}, {price: "1.50"}]
    tier_mode: graduated
  time: {type: duration, unit: hour, price: "1.20"}
plans:
  home: {products: [access, setup, data]}
  hotspot: {products: [time]}
"""


def write(tmp_path: Path, text: str, name: str = "bad-catalog.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def golden_catalog(path: Path) -> Catalog:
    data = load_yaml(path.read_text(encoding="utf-8"), str(path))
    return parse_realm_and_catalog(data["realm"], data["catalog"], date(2026, 1, 1), str(path))


def refusal(tmp_path: Path, text: str) -> CatalogError:
    with pytest.raises(CatalogError) as caught:
        load_catalog_file(write(tmp_path, text))
    return caught.value


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_catalogs_parse(path: Path) -> None:
    catalog = load_catalog_file(path)
    assert catalog.plans and catalog.products
    for plan in catalog.plans.values():
        assert set(plan.products) <= set(catalog.products)


def test_a_plan_names_a_known_usage_source(tmp_path: Path) -> None:
    old = "home: {products: [access, setup, data]}"
    error = refusal(tmp_path, GOOD.replace(old, old[:-1] + ", usage_source: snmp}"))
    assert error.problems[0][0] == "plans.home.usage_source"
    assert "radius" in error.problems[0][1] and "netflow" in error.problems[0][1]


def test_acme_example_reads_as_written() -> None:
    acme = load_catalog_file(ROOT / "examples" / "catalogs" / "acme.yaml")
    assert acme.realm.name == "Acme Broadband"
    assert acme.realm.invoice_prefix == "ACME"
    assert acme.realm.tax_rate == Decimal("0.10")
    assert acme.effective_from == date(2026, 1, 1)
    assert set(acme.plans) == {"home", "home-wholesale", "business", "hotspot"}
    assert acme.plans["business"].usage_source == "netflow"
    assert acme.plans["home-wholesale"].radius is None
    assert {p.tier_mode for p in acme.products.values()} >= {"graduated", "volume"}


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.name)
def test_golden_catalogs_parse(path: Path) -> None:
    catalog = golden_catalog(path)
    assert catalog.realm.name == catalog.realm.id  # golden realms have no name
    assert catalog.effective_from == date(2026, 1, 1)


def test_good_catalog_values() -> None:
    catalog = parse_catalog(load_yaml(GOOD, "good.yaml"), "good.yaml")
    access, data = catalog.products["access"], catalog.products["data"]
    assert (access.price, access.months, access.refund_unused) == (Decimal("59.95"), 3, True)
    assert catalog.products["setup"].price == Decimal(99)
    assert [t.upto for t in data.tiers] == [Decimal(10), Decimal(50), None]
    assert data.months is None
    assert catalog.plans["home"].products == ("access", "setup", "data")
    assert UNIT_DIVISORS["GiB"] == 1024**3 and UNIT_DIVISORS["hour"] == 3600


@pytest.mark.parametrize(
    ("old", "new", "path", "expected"),
    [
        pytest.param(
            "products: [time]",
            "products: [time, roaming]",
            "plans.hotspot.products[1]",
            "plan 'hotspot' names unknown product 'roaming'",
            id="plan-names-unknown-product",
        ),
        pytest.param(
            'price: "59.95"',
            'price: "-59.95"',
            "products.access.price",
            "money must not be negative, got '-59.95'",
            id="negative-price",
        ),
        pytest.param(
            "upto: 50",
            "upto: 10",
            "products.data.tiers[1].upto",
            "expected a bound greater than the previous tier's upto 10, got 10",
            id="tier-bounds-not-increasing",
        ),
        pytest.param(
            "unit: GB",
            "unit: TB",
            "products.data.unit",
            "expected one of B, KB, MB, GB, KiB, MiB, GiB, got 'TB'",
            id="unknown-unit",
        ),
        pytest.param(
            "metric: bytes_total",
            "metric: packets",
            "products.data.metric",
            "expected 'bytes_in', 'bytes_out' or 'bytes_total', got 'packets'",
            id="unknown-metric",
        ),
        pytest.param(
            'price: "59.95"',
            "price: 59.95",
            "products.access.price",
            'money must be a quoted decimal string such as "59.95", got the YAML float 59.95',
            id="money-as-yaml-float",
        ),
        pytest.param(
            'tax_rate: "0.10"',
            "tax_rate: 0.1",
            "realm.tax_rate",
            "got the YAML float 0.1",
            id="tax-rate-as-yaml-float",
        ),
        pytest.param(
            'price: "1.20"',
            'price: "1.2000001"',
            "products.time.price",
            "at most 6 decimal places, got '1.2000001'",
            id="too-many-decimal-places",
        ),
        pytest.param(
            "unit: hour",
            "unit: day",
            "products.time.unit",
            "expected one of second, minute, hour, got 'day'",
            id="unknown-duration-unit",
        ),
        pytest.param(
            "    tier_mode: graduated\n",
            "",
            "products.data.tier_mode",
            "tiers need tier_mode (graduated or volume)",
            id="tiers-without-mode",
        ),
        pytest.param(
            '{price: "1.50"}',
            '{upto: 90, price: "1.50"}',
            "products.data.tiers[2].upto",
            "the last tier has no upto",
            id="last-tier-bounded",
        ),
        pytest.param(
            "period: quarterly",
            "period: weekly",
            "products.access.period",
            "expected 'monthly', 'quarterly' or 'yearly', got 'weekly'",
            id="unknown-period",
        ),
        pytest.param(
            "time: {type: duration, unit: hour, ",
            "time: {type: duration, unit: hour, colour: red, ",
            "products.time.colour",
            "unknown key; expected one of: type, name, price",
            id="unknown-key",
        ),
        pytest.param(
            'setup: {type: once, price: "99"}',
            'setup: {type: once, price: "99", period: monthly}',
            "products.setup.period",
            "a once product does not take period",
            id="field-of-another-type",
        ),
        pytest.param(
            "effective_from: 2026-01-01\n",
            "",
            "effective_from",
            "required, but missing",
            id="no-effective-from",
        ),
        pytest.param(
            "cycle_day: 1",
            "cycle_day: 31",
            "realm.cycle_day",
            "expected a day from 1 to 28, got 31",
            id="cycle-day-out-of-range",
        ),
        pytest.param(
            "currency: AUD",
            "currency: dollars",
            "realm.currency",
            "expected a 3-letter ISO 4217 code",
            id="bad-currency",
        ),
    ],
)
def test_bad_catalog_is_refused(tmp_path: Path, old: str, new: str, path: str, expected: str):
    assert old in GOOD
    error = refusal(tmp_path, GOOD.replace(old, new, 1))
    message = str(error)
    assert message.splitlines()[0].endswith("bad-catalog.yaml: catalog refused, nothing was stored")
    assert f"\n  {path}: " in message
    assert expected in dict(error.problems)[path]


def test_every_problem_is_reported(tmp_path: Path) -> None:
    text = (
        GOOD.replace("cycle_day: 1", "cycle_day: 0")
        .replace('price: "59.95"', "price: 59.95")
        .replace("unit: GB", "unit: TB")
        .replace("upto: 50", "upto: 5")
        .replace("unit: hour", "unit: furlong")
        .replace("[access, setup, data]", "[access, setup, data, voip]")
    )
    error = refusal(tmp_path, text)
    assert [path for path, _ in error.problems] == [
        "realm.cycle_day",
        "products.access.price",
        "products.data.unit",
        "products.data.tiers[1].upto",
        "products.time.unit",
        "plans.home.products[3]",
    ]
    assert len(str(error).splitlines()) == 1 + len(error.problems)


def test_cycle_rules(tmp_path: Path) -> None:
    anniversary = GOOD.replace("cycle: fixed_date", "cycle: anniversary")
    assert refusal(tmp_path, anniversary).problems == [
        ("realm.cycle_day", "an anniversary cycle takes no cycle_day, got 1")
    ]
    catalog = load_catalog_file(write(tmp_path, anniversary.replace(", cycle_day: 1", "")))
    assert catalog.realm.cycle_day is None
    missing = GOOD.replace(", cycle_day: 1", "")
    assert refusal(tmp_path, missing).problems[0][0] == "realm.cycle_day"


@pytest.mark.parametrize(
    ("text", "where"),
    [("realm: {id: acme\nplans: {}\n", "line 2"), ("a: 1\nb: 2\na: 3\n", "line 3")],
    ids=["syntax", "duplicate-key"],
)
def test_invalid_yaml_names_the_line(tmp_path: Path, text: str, where: str) -> None:
    error = refusal(tmp_path, text)
    assert error.problems[0][0] == where
    assert "invalid YAML" in str(error) and "bad-catalog.yaml" in str(error)


def test_scenario_catalog_paths_name_the_catalog_block() -> None:
    realm = {"id": "demo", "currency": "AUD", "tax_rate": "0.10", "cycle": "anniversary"}
    catalog = {"products": {"fee": {"type": "flat", "price": "-1", "period": "monthly"}}}
    catalog |= {"plans": {"basic": {"products": ["fee"]}}, "extras": {}}
    with pytest.raises(CatalogError) as caught:
        parse_realm_and_catalog(realm, catalog, date(2026, 1, 1), "scenario.yaml")
    assert [p for p, _ in caught.value.problems] == ["catalog.extras", "catalog.products.fee.price"]


def round_trip_cases() -> list[Catalog]:
    return [
        *(load_catalog_file(path) for path in EXAMPLES),
        *(golden_catalog(path) for path in GOLDEN),
        parse_catalog(load_yaml(GOOD, "good.yaml"), "good.yaml"),
    ]


def test_to_dict_round_trips() -> None:
    for catalog in round_trip_cases():
        stored = json.loads(json.dumps(catalog.to_dict()))
        again = parse_catalog(stored, "stored")
        assert again == catalog
        assert again.to_dict() == stored


ONE_PRODUCT = {
    "products": {"a": {"type": "once", "price": "1"}},
    "plans": {"p": {"products": ["a"]}},
}


@pytest.mark.parametrize(
    "fmt, number",
    [("{prefix}-{year}-{number:06d}", "ACME-2026-000123"), ("INV{number:08d}", "INV00000123")],
)
def test_invoice_format_is_set_per_realm(fmt, number):
    from jet.invoicing import invoice_number

    realm = parse_realm_and_catalog(
        {
            "id": "acme",
            "currency": "AUD",
            "tax_rate": "0.1",
            "cycle": "anniversary",
            "invoice_format": fmt,
        },
        {"products": {"a": {"type": "once", "price": "1"}}, "plans": {"p": {"products": ["a"]}}},
        date(2026, 1, 1),
        "t.yaml",
    ).realm
    assert realm.invoice_format.format(prefix=realm.invoice_prefix, year=2026, number=123) == number
    assert invoice_number  # the issue step fills the same format


@pytest.mark.parametrize("fmt", ["{prefix}-{year}", "{prefix}/{number}", "{customer}-{number}"])
def test_a_bad_invoice_format_is_refused(fmt):
    with pytest.raises(CatalogError, match="invoice_format"):
        parse_realm_and_catalog(
            {
                "id": "acme",
                "currency": "AUD",
                "tax_rate": "0.1",
                "cycle": "anniversary",
                "invoice_format": fmt,
            },
            {
                "products": {"a": {"type": "once", "price": "1"}},
                "plans": {"p": {"products": ["a"]}},
            },
            date(2026, 1, 1),
            "t.yaml",
        )


# --- a plan's RADIUS reply attributes ---------------------------------------------------

RADIUS_PLAN = "  hotspot: {products: [time]}\n"


def with_radius(block: str) -> str:
    assert RADIUS_PLAN in GOOD
    return GOOD.replace(RADIUS_PLAN, f"  hotspot: {{products: [time], radius: {block}}}\n")


def test_plan_radius_block_parses_and_round_trips() -> None:
    text = with_radius("{session_timeout: 3600, idle_timeout: 600, rate_limit: 2M/10M}")
    catalog = parse_catalog(load_yaml(text, "good.yaml"), "good.yaml")
    radius = catalog.plans["hotspot"].radius
    assert (radius.session_timeout, radius.idle_timeout, radius.rate_limit) == (3600, 600, "2M/10M")
    assert catalog.plans["home"].radius is None
    assert rate_limit_bps(radius.rate_limit) == (2_000_000, 10_000_000)
    assert rate_limit_bps("512k/1G") == (512_000, 10**9)
    stored = json.loads(json.dumps(catalog.to_dict()))
    assert stored["plans"]["hotspot"]["radius"] == {
        "session_timeout": 3600,
        "idle_timeout": 600,
        "rate_limit": "2M/10M",
    }
    assert "radius" not in stored["plans"]["home"]  # catalogs without one store as before
    assert parse_catalog(stored, "stored") == catalog
    only_rate = with_radius("{rate_limit: 10M/50M}")
    assert parse_catalog(load_yaml(only_rate, "x"), "x").to_dict()["plans"]["hotspot"] == {
        "products": ["time"],
        "radius": {"rate_limit": "10M/50M"},
    }


@pytest.mark.parametrize(
    ("block", "path", "expected"),
    [
        ("{session_timeout: 0}", "session_timeout", "expected seconds from 1 to 4294967295, got 0"),
        ("{session_timeout: -5}", "session_timeout", "got -5"),
        ("{session_timeout: 4294967296}", "session_timeout", "got 4294967296"),
        ("{idle_timeout: 1.5}", "idle_timeout", "expected a whole number of seconds"),
        ("{idle_timeout: '600'}", "idle_timeout", "got '600'"),
        ("{idle_timeout: true}", "idle_timeout", "got True"),
        ("{idle_timeout: }", "idle_timeout", "expected a value for idle_timeout, got nothing"),
        (
            "{rate_limit: 10M}",
            "rate_limit",
            'expected upload/download rates in bit/s such as "10M/50M"',
        ),
        ("{rate_limit: 0/10M}", "rate_limit", "got '0/10M'"),
        ("{rate_limit: 10m/50m}", "rate_limit", "got '10m/50m'"),
        ("{rate_limit: 10M/50M/1}", "rate_limit", "got '10M/50M/1'"),
        ("{rate_limit: 100}", "rate_limit", "got 100"),
        (
            "{speed: 10M/50M}",
            "speed",
            "unknown key; expected one of: session_timeout, idle_timeout, rate_limit",
        ),
        ("{}", "", "expected at least one of session_timeout, idle_timeout, rate_limit"),
        ("3600", "", "expected a mapping of session_timeout, idle_timeout, rate_limit, got 3600"),
        ("", "", "expected a mapping of session_timeout, idle_timeout, rate_limit, got nothing"),
    ],
)
def test_bad_plan_radius_is_refused(tmp_path: Path, block: str, path: str, expected: str) -> None:
    error = refusal(tmp_path, with_radius(block))
    key = "plans.hotspot.radius" + (f".{path}" if path else "")
    assert [p for p, _ in error.problems] == [key]
    assert expected in error.problems[0][1]


@pytest.mark.parametrize(
    ("ladder", "said"),
    [
        ("[{after_days: 0, action: remind}]", "after_days counts days past the due date"),
        ('[{after_days: 7, action: remind, fee: "0"}]', "a late fee of 0 bills nothing"),
        ("[{after_days: 7, action: remind}, {after_days: 7, action: remind}]",
         "dunning has two remind steps at 7 days"),
        ("[{after_days: 7, action: warn}]", "dunning"),
    ],
)  # fmt: skip
def test_a_bad_dunning_ladder_is_refused_saying_why(tmp_path: Path, ladder: str, said: str):
    text = GOOD.replace("cycle_day: 1}", f"cycle_day: 1, dunning: {ladder}}}", 1)
    assert said in str(refusal(tmp_path, text))
