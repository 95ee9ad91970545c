"""Property tests of the rating engine against billing-rules.md, batched.

A dbt run costs seconds, so one hypothesis example is a list of independent cases,
each in its own realm (`r0`, `r1`, ...) with its own catalog and accounts (`r3-a`).
Every case of an example is loaded into ONE fresh home, rated by ONE dbt run, and
then checked on its own. A failing example reports each failing case as a scenario
file (realm id -> case) that `jet simulate` runs alone: the cases are independent, so
that is the shrunk counterexample, and hypothesis's own shrinking (a dbt run per
step) is switched off.
"""

from __future__ import annotations

import calendar
import itertools
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
import yaml
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from ingest.landing import land
from jet.config import Settings
from jet.drafts import draft_invoices
from jet.drivers.simulate import load_scenario
from jet.money import minor_units, round_money
from jet.warehouse import rate

pytestmark = pytest.mark.integration

BATCHED = hsettings(
    max_examples=3,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.filter_too_much,
    ],
)
CASES = st.integers(20, 40)
CURRENCIES = ["JPY", "AUD", "KWD"]  # 0, 2 and 3 minor units
MONTHS = {"monthly": 1, "quarterly": 3, "yearly": 12}
USAGE_UNITS = {
    "B": 1,
    "KB": 1000,
    "MB": 10**6,
    "GB": 10**9,
    "KiB": 1024,
    "MiB": 1024**2,
    "GiB": 1024**3,
}
DURATION_UNITS = ["second", "minute", "hour"]
YEAR_START, YEAR_END = date(2026, 1, 1), date(2026, 12, 31)


# --- cycle arithmetic, from the rules -------------------------------------------------


def month_index(d: date) -> int:
    return d.year * 12 + d.month - 1


def boundary(anchor_day: int, mi: int) -> date:
    """The cycle boundary of month index `mi`: the anchor day, or the month's last day."""
    year, month = divmod(mi, 12)
    month += 1
    return date(year, month, min(anchor_day, calendar.monthrange(year, month)[1]))


def unit(places: int) -> Decimal:
    return Decimal(1).scaleb(-places)


# --- strategies -----------------------------------------------------------------------


def decimals(low: str, high: str, places: st.SearchStrategy[int]) -> st.SearchStrategy[Decimal]:
    """Exact decimals between low and high with a drawn number of places, spread over
    the whole range (a whole number of 10^-places, never through a float)."""

    def scaled(p: int) -> st.SearchStrategy[Decimal]:
        lo, hi = (int(Decimal(x).scaleb(p)) for x in (low, high))
        return st.integers(lo, hi).map(lambda n: Decimal(n).scaleb(-p))

    return places.flatmap(scaled)


def money(low: str = "0", high: str = "1000") -> st.SearchStrategy[str]:
    """A price as a decimal string with 0 to 6 places."""
    return decimals(low, high, st.integers(0, 6)).map(lambda d: format(d, "f"))


def month_ends(low: date, high: date) -> st.SearchStrategy[date]:
    """The 28th to 31st (clamped to the month), where anniversary cycles are hard."""

    def day(month: int, dom: int) -> date:
        return date(2026, month, min(dom, calendar.monthrange(2026, month)[1]))

    days = st.builds(day, st.integers(1, 12), st.integers(28, 31))
    return days.filter(lambda d: low <= d <= high)


def days_in_2026(low: date = YEAR_START, high: date = YEAR_END) -> st.SearchStrategy[date]:
    return st.one_of(st.dates(min_value=low, max_value=high), month_ends(low, high))


@st.composite
def realms(draw) -> dict:
    realm = {
        "currency": draw(st.sampled_from(CURRENCIES)),
        "tax_rate": format(draw(decimals("0", "0.5", st.integers(1, 6))), "f"),
        "cycle": draw(st.sampled_from(["fixed_date", "anniversary"])),
    }
    if realm["cycle"] == "fixed_date":
        realm["cycle_day"] = draw(st.integers(1, 28))
    return realm


def first_boundary(draw, realm: dict) -> date:
    """A cycle boundary in 2026 that, for an anniversary realm, becomes the anchor when a
    subscription of the account starts on it (any day, the 29th to 31st included)."""
    if realm["cycle"] == "fixed_date":
        return boundary(realm["cycle_day"], 2026 * 12 + draw(st.integers(0, 11)))
    return draw(days_in_2026())


@st.composite
def tiers(draw) -> list[dict]:
    """2 to 4 tiers with strictly rising inclusive bounds (in units) and prices >= 0."""
    n = draw(st.integers(2, 4))
    bounds = sorted(
        draw(
            st.lists(
                decimals("0.001", "100", st.integers(0, 3)).filter(lambda d: d > 0),
                min_size=n - 1,
                max_size=n - 1,
                unique=True,
            )
        )
    )
    prices = draw(st.lists(money("0", "20"), min_size=n, max_size=n))
    out = [{"upto": format(b, "f"), "price": p} for b, p in zip(bounds, prices, strict=False)]
    return [*out, {"price": prices[-1]}]


def timestamps(low: date, high: date) -> st.SearchStrategy[datetime]:
    """UTC timestamps in [low, high)."""
    start = datetime(low.year, low.month, low.day, tzinfo=UTC)
    seconds = (high - low).days * 86400 - 1
    return st.integers(0, seconds).map(lambda s: start + timedelta(seconds=s))


# --- one home, one dbt run for a batch of cases ---------------------------------------


@contextmanager
def fresh_home() -> Iterator[Settings]:
    """A throw-away JET_HOME; the process environment is restored afterwards."""
    saved = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="jet-props-") as home:
        settings = Settings(home=Path(home), database_url=None)
        settings.export()
        os.environ["DBT_LOG_PATH"] = str(settings.root / "dbt" / "logs")
        try:
            yield settings
        finally:
            os.environ.clear()
            os.environ.update(saved)


def scenario(rid: str, case: dict) -> dict:
    """The case as a scenario file of realm `rid`, account ids prefixed with it."""

    def acc(name: str) -> str:
        return f"{rid}-{name}"

    return {
        "realm": {"id": rid, **case["realm"]},
        "catalog": {"products": case["products"], "plans": case["plans"]},
        "accounts": [
            {"id": acc(a["id"]), "name": a["id"]}
            | ({"parent": acc(a["parent"])} if a.get("parent") else {})
            for a in case["accounts"]
        ],
        "subscriptions": [
            {**s, "account": acc(s["account"])} for s in case.get("subscriptions", [])
        ],
        "usage": [
            {**u, "account": acc(u["account"]), "ts": u["ts"].isoformat().replace("+00:00", "Z")}
            for u in case.get("usage", [])
        ],
        "line_items": [{**i, "account": acc(i["account"])} for i in case.get("line_items", [])],
        "until": case["until"],
    }


def land_usage(settings: Settings, rid: str, batch: str, usage: list[dict]) -> None:
    table = pa.table(
        {
            "account_id": [f"{rid}-{u['account']}" for u in usage],
            "ts": [u["ts"] for u in usage],
            "bytes_in": [u.get("bytes_in", 0) for u in usage],
            "bytes_out": [u.get("bytes_out", 0) for u in usage],
            "seconds": [u.get("seconds", 0) for u in usage],
            "source_file": [f"{rid}.yaml"] * len(usage),
            "source_line": list(range(1, len(usage) + 1)),
        }
    )
    land("upstream_csv", table, batch, settings.raw)


def rate_batch(cases: list[dict], tmp: Path) -> dict[str, list[dict]]:
    """Load every case as realm r<i> into one home, rate once up to the latest `until`,
    and return each realm's draft invoices (up to its own `until`), account ids local."""
    until = max(case["until"] for case in cases)
    with fresh_home() as settings:
        for i, case in enumerate(cases):
            rid = f"r{i}"
            doc = scenario(rid, case)
            doc.pop("usage")  # landed below, a batch of its own per case
            path = tmp / f"{rid}.yaml"
            path.write_text(yaml.safe_dump(doc, sort_keys=False))
            load_scenario(path, settings)
            if case.get("usage"):
                land_usage(settings, rid, f"case-{i}", case["usage"])
        rate(settings, until.isoformat(), "run")
        invoices = draft_invoices(settings, until)
    by_realm: dict[str, list[dict]] = {f"r{i}": [] for i in range(len(cases))}
    for inv in invoices:
        rid, _, local = inv["account"].partition("-")
        lines = [{**line, "account": line["account"].partition("-")[2]} for line in inv["lines"]]
        by_realm[rid].append({**inv, "account": local, "lines": lines})
    return {
        rid: [inv for inv in invs if date.fromisoformat(inv["bill_date"]) <= cases[i]["until"]]
        for i, (rid, invs) in enumerate(by_realm.items())
    }


def check_batch(
    cases: list[dict], check: Callable[[dict, list[dict]], list[str]], tmp: Path
) -> dict[str, list[dict]]:
    """Rate the batch and run `check(case, invoices)` on every case; fail with every
    failing case as a runnable scenario file and what was wrong with it."""
    drafts = rate_batch(cases, tmp)
    failures = []
    for i, case in enumerate(cases):
        rid = f"r{i}"
        problems = check(case, drafts[rid])
        if problems:
            doc = scenario(rid, case)
            failures.append(
                f"=== case {rid} ===\n"
                + "\n".join(f"- {p}" for p in problems)
                + "\n--- scenario ---\n"
                + yaml.safe_dump(doc, sort_keys=False)
                + "--- invoices ---\n"
                + yaml.safe_dump(drafts[rid], sort_keys=False)
            )
    assert not failures, f"{len(failures)} of {len(cases)} cases fail:\n" + "\n".join(failures)
    return drafts


def lines_of(invoices: list[dict]) -> list[dict]:
    return [line for inv in invoices for line in inv["lines"]]


def tmp_dir() -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix="jet-props-cases-")


# --- 1. whole cycles pay whole periods ------------------------------------------------


@st.composite
def whole_cycle_cases(draw) -> dict:
    realm = draw(realms())
    period = draw(st.sampled_from(list(MONTHS)))
    months = MONTHS[period]
    k = draw(st.integers(1, {1: 12, 3: 6, 12: 3}[months]))
    start = first_boundary(draw, realm)
    anchor = realm.get("cycle_day", start.day)
    end = boundary(anchor, month_index(start) + k * months)
    price = draw(money())
    return {
        "realm": realm,
        "products": {"access": {"type": "flat", "price": price, "period": period}},
        "plans": {"basic": {"products": ["access"]}},
        "accounts": [{"id": "a"}],
        "subscriptions": [{"account": "a", "plan": "basic", "start": start, "end": end}],
        "until": end + timedelta(days=draw(st.integers(1, 62))),
        "k": k,
    }


def check_whole_cycles(case: dict, invoices: list[dict]) -> list[str]:
    places = minor_units(case["realm"]["currency"])
    price = Decimal(case["products"]["access"]["price"])
    lines = [line for line in lines_of(invoices) if line["product"] == "access"]
    problems = []
    kinds = sorted({line["kind"] for line in lines})
    if kinds != ["advance"]:
        problems.append(f"line kinds {kinds}, expected only advance")
    if len(lines) != case["k"]:
        problems.append(f"{len(lines)} lines, expected {case['k']} (one per period)")
    got = sum((Decimal(line["amount"]) for line in lines), Decimal(0))
    expected = case["k"] * round_money(price, places)
    if got != expected:
        problems.append(f"sum of flat lines {got}, expected {case['k']} x {price} = {expected}")
    return problems


@BATCHED
@given(cases=CASES.flatmap(lambda n: st.lists(whole_cycle_cases(), min_size=n, max_size=n)))
def test_whole_cycles_pay_whole_periods(cases):
    with tmp_dir() as tmp:
        check_batch(cases, check_whole_cycles, Path(tmp))


# --- 2. a plan change to the same plan costs what staying on it costs -----------------


@st.composite
def same_plan_change_cases(draw) -> dict:
    realm = draw(realms())
    start = draw(days_in_2026(high=date(2026, 10, 31)))
    end = start + timedelta(days=draw(st.integers(2, 200)))
    change = start + timedelta(days=draw(st.integers(1, (end - start).days - 1)))
    return {
        "realm": realm,
        "products": {
            "access": {
                "type": "flat",
                "price": draw(money()),
                "period": "monthly",
                "refund_unused": True,
            }
        },
        "plans": {"basic": {"products": ["access"]}},
        "accounts": [{"id": "a"}, {"id": "b"}],
        "subscriptions": [
            {"account": "a", "plan": "basic", "start": start, "end": end},
            {"account": "b", "plan": "basic", "start": start, "end": change},
            {"account": "b", "plan": "basic", "start": change, "end": end},
        ],
        "until": end + timedelta(days=40),
    }


def check_same_plan_change(case: dict, invoices: list[dict]) -> list[str]:
    places = minor_units(case["realm"]["currency"])
    lines = lines_of(invoices)
    a = [line for line in lines if line["account"] == "a"]
    b = [line for line in lines if line["account"] == "b"]
    total_a = sum((Decimal(line["amount"]) for line in a), Decimal(0))
    total_b = sum((Decimal(line["amount"]) for line in b), Decimal(0))
    tolerance = unit(places) * len(b)
    if not a:
        return ["account a has no lines"]
    if abs(total_a - total_b) > tolerance:
        return [f"a pays {total_a}, b pays {total_b}: differ by more than {tolerance}"]
    return []


@BATCHED
@given(cases=CASES.flatmap(lambda n: st.lists(same_plan_change_cases(), min_size=n, max_size=n)))
def test_plan_change_to_the_same_plan_costs_nothing(cases):
    with tmp_dir() as tmp:
        check_batch(cases, check_same_plan_change, Path(tmp))


# --- 3. graduated amounts never decrease as quantity grows ----------------------------


def split(draw, total: int, parts: int) -> list[int]:
    cuts = sorted(draw(st.lists(st.integers(0, total), min_size=parts - 1, max_size=parts - 1)))
    return [hi - lo for lo, hi in zip([0, *cuts], [*cuts, total], strict=True)]


@st.composite
def graduated_cases(draw) -> dict:
    realm = draw(realms())
    unit_name = draw(st.sampled_from(list(USAGE_UNITS)))
    metric = draw(st.sampled_from(["bytes_in", "bytes_out", "bytes_total"]))
    cycle_start = first_boundary(draw, realm)
    anchor = realm.get("cycle_day", cycle_start.day)
    cycle_end = boundary(anchor, month_index(cycle_start) + 1)
    n = draw(st.integers(3, 6))
    totals = sorted(
        draw(
            st.lists(
                st.integers(1, 150 * USAGE_UNITS[unit_name]), min_size=n, max_size=n, unique=True
            )
        )
    )
    if draw(st.booleans()):
        # records that carry none of the metric: still a (zero) line, billing-rules.md
        # "Billing cycles"; drawn this way so the first (simplest) example has none
        totals = [0, *totals]
    accounts, subs, usage = [], [], []
    for j, total in enumerate(totals):
        name = f"u{j}"
        accounts.append({"id": name})
        subs.append({"account": name, "plan": "metered", "start": cycle_start})
        for part in split(draw, total, draw(st.integers(1, 3))):
            ts = draw(timestamps(cycle_start, cycle_end))
            noise = draw(st.integers(0, 10**9))  # in the metric not charged
            if metric == "bytes_total":
                cut = draw(st.integers(0, part))
                record = {"bytes_in": cut, "bytes_out": part - cut}
            elif metric == "bytes_in":
                record = {"bytes_in": part, "bytes_out": noise}
            else:
                record = {"bytes_in": noise, "bytes_out": part}
            usage.append({"account": name, "ts": ts, **record, "seconds": 0})
    return {
        "realm": realm,
        "products": {
            "data": {
                "type": "usage",
                "metric": metric,
                "unit": unit_name,
                "tiers": draw(tiers()),
                "tier_mode": "graduated",
            }
        },
        "plans": {"metered": {"products": ["data"]}},
        "accounts": accounts,
        "subscriptions": subs,
        "usage": usage,
        "until": cycle_end,
        "totals": totals,
        "cycle": (cycle_start, cycle_end),
    }


def check_graduated(case: dict, invoices: list[dict]) -> list[str]:
    cycle = tuple(d.isoformat() for d in case["cycle"])
    usage = [line for line in lines_of(invoices) if line["kind"] == "usage"]
    problems, billed = [], []  # billed: (account, bytes, amount), bytes rising
    for j, total in enumerate(case["totals"]):
        mine = [line for line in usage if line["account"] == f"u{j}"]
        periods = [(line["period_start"], line["period_end"]) for line in mine]
        if periods == [cycle]:
            billed.append((f"u{j}", total, Decimal(mine[0]["amount"])))
        else:
            problems.append(f"u{j} ({total} bytes): usage lines for {periods}, expected [{cycle}]")
    for (a, a_bytes, a_amount), (b, b_bytes, b_amount) in itertools.pairwise(billed):
        if b_amount < a_amount:
            problems.append(
                f"{b} uses {b_bytes} bytes and pays {b_amount}, less than "
                f"{a} with {a_bytes} bytes paying {a_amount}"
            )
    return problems


@BATCHED
@given(cases=CASES.flatmap(lambda n: st.lists(graduated_cases(), min_size=n, max_size=n)))
def test_graduated_amounts_never_decrease_with_quantity(cases):
    with tmp_dir() as tmp:
        check_batch(cases, check_graduated, Path(tmp))


# --- 4. every invoice's total is the sum of its lines plus its tax --------------------


@st.composite
def products(draw) -> dict:
    kind = draw(st.sampled_from(["flat", "once", "usage", "duration"]))
    product: dict = {"type": kind}
    if kind == "flat":
        product |= {"price": draw(money()), "period": draw(st.sampled_from(list(MONTHS)))}
        if draw(st.booleans()):
            product["refund_unused"] = draw(st.booleans())
    elif kind == "once":
        product["price"] = draw(money())
    else:
        if kind == "usage":
            product["metric"] = draw(st.sampled_from(["bytes_in", "bytes_out", "bytes_total"]))
            product["unit"] = draw(st.sampled_from(list(USAGE_UNITS)))
        else:
            product["unit"] = draw(st.sampled_from(DURATION_UNITS))
        if draw(st.booleans()):
            product["price"] = draw(money("0", "10"))
        else:
            product["tiers"] = draw(tiers())
            product["tier_mode"] = draw(st.sampled_from(["graduated", "volume"]))
    taxable = draw(st.sampled_from([None, True, False]))  # None: the default, taxable
    if taxable is not None:
        product["taxable"] = taxable
    return product


@st.composite
def mixed_cases(draw) -> dict:
    realm = draw(realms())
    catalog = {f"p{j}": p for j, p in enumerate(draw(st.lists(products(), min_size=1, max_size=5)))}
    names = list(catalog)
    plan_sets = draw(
        st.lists(
            st.lists(st.sampled_from(names), min_size=1, max_size=len(names), unique=True),
            min_size=1,
            max_size=3,
        )
    )
    plans = {f"plan{j}": {"products": ps} for j, ps in enumerate(plan_sets)}
    accounts = []
    for j in range(draw(st.integers(1, 4))):
        account = {"id": f"a{j}"}
        if j and draw(st.booleans()):
            account["parent"] = f"a{draw(st.integers(0, j - 1))}"
        accounts.append(account)
    ids = [a["id"] for a in accounts]
    subs = []
    for account in ids:
        for _ in range(draw(st.integers(0, 2))):
            start = draw(days_in_2026(high=date(2026, 11, 30)))
            sub = {"account": account, "plan": draw(st.sampled_from(list(plans))), "start": start}
            if draw(st.booleans()):
                sub["end"] = start + timedelta(days=draw(st.integers(1, 250)))
            subs.append(sub)
    usage = []
    for _ in range(draw(st.integers(0, 10))):
        if subs and draw(st.integers(0, 4)):  # mostly near a subscription's start
            sub = draw(st.sampled_from(subs))
            account, low = sub["account"], sub["start"]
            ts = draw(timestamps(low, low + timedelta(days=62)))
        else:
            account, ts = draw(st.sampled_from(ids)), draw(timestamps(YEAR_START, YEAR_END))
        usage.append(
            {
                "account": account,
                "ts": ts,
                "bytes_in": draw(st.integers(0, 10**10)),
                "bytes_out": draw(st.integers(0, 10**10)),
                "seconds": draw(st.integers(0, 10**5)),
            }
        )
    item_keys = draw(
        st.lists(st.tuples(st.sampled_from(ids), days_in_2026()), max_size=4, unique=True)
    )
    items = [
        {
            "account": account,
            "date": day,
            "description": f"item {j}",
            "amount": draw(money("-500", "500")),
            "taxable": draw(st.booleans()),
        }
        for j, (account, day) in enumerate(item_keys)
    ]
    return {
        "realm": realm,
        "products": catalog,
        "plans": plans,
        "accounts": accounts,
        "subscriptions": subs,
        "usage": usage,
        "line_items": items,
        "until": date(2027, 1, 31),
    }


def is_money(text: str, places: int) -> bool:
    whole, dot, fraction = text.lstrip("-").partition(".")
    digits = whole.isdigit() and (fraction.isdigit() or not fraction)
    return digits and len(fraction) == places and bool(dot) == (places > 0)


def check_invoice_sums(case: dict, invoices: list[dict]) -> list[str]:
    currency = case["realm"]["currency"]
    places = minor_units(currency)
    rate_ = Decimal(case["realm"]["tax_rate"])
    item_taxable = {(i["account"], i["date"].isoformat()): i["taxable"] for i in case["line_items"]}
    problems = []
    for inv in invoices:
        where = f"invoice {inv['account']} {inv['bill_date']}"
        texts = [inv["subtotal"], inv["tax"], inv["total"], *(ln["amount"] for ln in inv["lines"])]
        if inv["currency"] != currency:
            problems.append(f"{where}: currency {inv['currency']}, expected {currency}")
        if bad := [t for t in texts if not is_money(t, places)]:
            problems.append(f"{where}: amounts {bad} not printed with {places} places")
            continue
        subtotal = taxable = Decimal(0)
        for line in inv["lines"]:
            amount = Decimal(line["amount"])
            subtotal += amount
            if line["kind"] == "item":
                taxed = item_taxable[(line["account"], line["period_start"])]
            else:
                taxed = case["products"][line["product"]].get("taxable", True)
            if taxed:
                taxable += amount
        tax = round_money(taxable * rate_, places)
        got = tuple(Decimal(inv[k]) for k in ("subtotal", "tax", "total"))
        if got != (subtotal, tax, subtotal + tax):
            problems.append(
                f"{where}: subtotal/tax/total {got}, expected "
                f"{(subtotal, tax, subtotal + tax)} (taxable {taxable} x {rate_})"
            )
    return problems


@BATCHED
@given(cases=CASES.flatmap(lambda n: st.lists(mixed_cases(), min_size=n, max_size=n)))
def test_invoice_total_is_lines_plus_tax(cases):
    with tmp_dir() as tmp:
        drafts = check_batch(cases, check_invoice_sums, Path(tmp))
    if any(case["subscriptions"] or case["line_items"] for case in cases):
        assert any(drafts.values()), "nothing was billed"
