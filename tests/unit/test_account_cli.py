"""`jet account`, `jet subscription` and `jet audit` as an operator types them: what they
print, what they store, and that a refused change names the field, says what to do,
exits 1 and stores nothing (no account, subscription, audit entry or event)."""

from __future__ import annotations

import json
import shlex

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from jet.cli import main
from jet.config import PROJECT_ROOT, Settings
from jet.store.db import session
from jet.store.models import Account, AuditEntry, Event, Subscription

CATALOGS = PROJECT_ROOT / "examples" / "catalogs"
ABN = "51 824 753 556"  # a valid Australian Business Number (the ATO's example)


def jet(line: str):
    """`jet` with the arguments of `line`, as a shell splits them."""
    return CliRunner().invoke(main, shlex.split(line))


def ok(line: str) -> str:
    result = jet(line)
    assert result.exit_code == 0, result.output
    return result.output


def stored(settings: Settings) -> tuple:
    """Everything a refused change must leave as it was."""
    with session(settings.db_url) as s:
        counts = tuple(
            s.scalar(select(func.count()).select_from(table))
            for table in (Account, Subscription, AuditEntry, Event)
        )
        accounts = [
            (a.id, a.name, a.parent_id, a.email, a.tax_id, a.status)
            for a in s.scalars(select(Account).order_by(Account.id))
        ]
        ends = [sub.end_date for sub in s.scalars(select(Subscription).order_by(Subscription.id))]
    return counts, accounts, ends


@pytest.fixture(autouse=True)
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables as wide as a terminal, not a pipe's 80 columns."""
    from jet.drivers.console import console

    monkeypatch.setattr(console, "width", 200)


@pytest.fixture
def acme(settings: Settings) -> Settings:
    """Realms acme and skyfi; the company globex (AU, with an ABN), its cost-centre
    sales, and ann under sales on home from 2026-01-10; skyfi's cafe."""
    ok(f"catalog load {CATALOGS / 'acme.yaml'}")
    ok(f"catalog load {CATALOGS / 'skyfi.yaml'}")
    ok(f"account add acme globex --name 'Globex Corporation' --company --country AU "
       f"--tax-id '{ABN}' --email accounts@globex.example")  # fmt: skip
    ok("account add acme sales --name 'Globex Sales' --company --parent globex")
    ok("account add acme ann --name 'Ann Lee' --parent sales --plan home --from 2026-01-10")
    ok("account add skyfi cafe --name 'Harbour Cafe' --company")
    return settings


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ("account add acme ann --name 'Another Ann'", ["login: ann is taken"]),
        (
            "account add acme cafe --name Cafe",
            ["login: cafe is taken (in realm skyfi)", "choose another"],
        ),
        (
            "account add acme bob --name Bob --parent nobody",
            ["parent: there is no account nobody", "add it first"],
        ),
        (
            "account add acme bob --name Bob --parent cafe",
            ["parent: cafe is in realm skyfi, not acme"],
        ),
        (
            "account add acme bob --name Bob --email bob@",
            ["email: 'bob@' is not an e-mail address"],
        ),
        (
            "account add acme bob --name Bob --country AU --tax-id 1",
            ["tax_id: '1' is not a valid Australian Business Number", "check the number"],
        ),
        (
            "account add acme bob --name Bob --plan gold --from 2026-02-01",
            ["plan: realm acme has no plan 'gold' on 2026-02-01", "plans: business, home"],
        ),
        (
            "account add acme bob --name Bob --plan home --from 2025-12-01",
            ["from: 2025-12-01 is before realm acme's first catalog (2026-01-01)", "start on"],
        ),
        ("subscription add ann gold --from 2026-03-01", ["plan: realm acme has no plan 'gold'"]),
        (
            "subscription add ann business --from 2025-06-01",
            ["from: 2025-06-01 is before realm acme's first catalog"],
        ),
        (
            "account update globex --parent ann",
            ["parent: ann is under globex: a hierarchy cannot loop"],
        ),
        ("account update sales --parent cafe", ["parent: cafe is in realm skyfi, not acme"]),
        ("account update ann --email 'ann at globex'", ["email: 'ann at globex'"]),
        (
            "account update globex --tax-id '51 824 753 557'",
            ["tax_id: '51 824 753 557' is not a valid Australian Business Number"],
        ),
        ("account update ann --name ''", ["name: give the customer's name"]),
        (
            "subscription end ann business --on 2026-03-01",
            ["on: ann has no subscription to business running on 2026-03-01"],
        ),
        ("account show nobody", ["no account 'nobody'", "jet account list --search"]),
    ],
)
def test_bad_input_is_refused_names_the_field_and_stores_nothing(acme, args, words) -> None:
    before = stored(acme)
    result = jet(args)
    assert result.exit_code == 1, result.output
    for word in words:
        assert word in result.output
    assert stored(acme) == before


def test_closing_twice_is_refused_and_stores_nothing(acme) -> None:
    assert "closed ann from 2026-02-15; ended home" in ok("account close ann --on 2026-02-15")
    before = stored(acme)
    result = jet("account close ann --on 2026-03-01")
    assert result.exit_code == 1
    assert "ann was closed on 2026-02-15: it is closed already" in result.output
    assert "jet account reopen" in result.output
    assert stored(acme) == before


def test_plan_needs_a_start_day(acme) -> None:
    before = stored(acme)
    result = jet("account add acme bob --name Bob --plan home")
    assert result.exit_code == 2 and "give --plan and --from together" in result.output
    assert stored(acme) == before


def test_show_gives_the_tree_plans_addresses_and_changes(acme) -> None:
    ok("ip assign ann 192.0.2.8/29")
    ok("account set ann --framed-ip 100.64.0.9")
    shown = json.loads(ok("account show ann --json"))
    assert shown["account"]["parent"] == "sales" and shown["billing_account"] == "globex"
    assert shown["subscriptions"] == [
        {"id": 1, "plan": "home", "start": "2026-01-10", "end": None, "state": "in force"}
    ]
    assert shown["addresses"] == {"framed_ip": "100.64.0.9", "assigned": ["192.0.2.8/29"]}
    assert shown["sessions"] == [] and shown["invoices"] == []
    assert shown["balance"]["kind"] == "postpaid" and shown["balance"]["amount"] == "0.00"
    assert [e["action"] for e in shown["audit"]] == [
        "account.created",
        "subscription.started",
        "account.updated",
    ]
    assert all(e["actor"] and e["channel"] == "cli" for e in shown["audit"])
    company = json.loads(ok("account show globex --json"))
    assert company["account"]["kind"] == "company" and company["account"]["tax_id"] == "51824753556"
    assert company["children"] == [{"id": "sales", "name": "Globex Sales", "status": "active"}]
    table = ok("account show ann")
    assert "invoiced to" in table and "globex" in table and "home" in table


def test_prepaid_balance_is_shown(acme) -> None:
    ok("account set cafe --prepaid")
    ok("payment topup cafe 20 --method cash")
    assert json.loads(ok("account show cafe --json"))["balance"] == {
        "kind": "prepaid",
        "amount": "20.00",
    }


def test_list_filters_and_searches(acme) -> None:
    def logins(args: str = "") -> list[str]:
        return [row["id"] for row in json.loads(ok(f"account list --json {args}"))]

    ok("ip assign sales 198.51.100.0/24")
    ok("account set ann --framed-ip 100.64.0.9")
    assert logins() == ["ann", "globex", "sales", "cafe"]
    assert logins("--realm skyfi") == ["cafe"]
    assert logins("--search GLOBEX") == ["globex", "sales"]  # name, e-mail, parent
    assert logins("--search harbour") == ["cafe"]
    assert logins("--search 100.64.0.9") == ["ann"]
    assert logins("--search 198.51.100.77") == ["sales"]  # inside its network
    assert logins("--search '%'") == []
    ok("account close ann --on 2026-02-01")
    assert logins("--status closed") == ["ann"]
    assert "Globex Corporation" in ok("account list --realm acme")


def test_update_sets_and_clears_details(acme) -> None:
    ok("account update ann --phone '+61 2 9876 5432' --email Ann@Globex.example")
    ok("account update ann --phone '' --parent '' --kind company")
    ann = json.loads(ok("account show ann --json"))
    assert ann["account"]["phone"] is None and ann["account"]["email"] == "Ann@globex.example"
    assert ann["account"]["parent"] is None and ann["billing_account"] == "ann"
    assert ann["account"]["kind"] == "company"
    nothing = jet("account update ann")
    assert nothing.exit_code == 1 and "nothing to change: give any of --name" in nothing.output


def test_close_ends_plans_and_reopen_does_not_restart_them(acme) -> None:
    ok("account close ann --on 2026-02-15")
    refused = jet("subscription add ann home --from 2026-03-01")
    assert refused.exit_code == 1 and "jet account reopen ann" in refused.output
    assert "without a plan" in ok("account reopen ann")
    subs = json.loads(ok("subscription list ann --json"))
    assert [(s["plan"], s["end"], s["state"]) for s in subs] == [("home", "2026-02-15", "ended")]
    ok("subscription add ann business --from 2026-03-01 --to 2026-09-01")
    ok("subscription end ann business --on 2026-06-01")
    subs = json.loads(ok("subscription list ann --json"))
    assert subs[-1] == {
        "id": 2,
        "plan": "business",
        "start": "2026-03-01",
        "end": "2026-06-01",
        "state": "ended",
    }
    again = jet("account reopen ann")
    assert again.exit_code == 1 and "ann is active, not closed" in again.output


def test_audit_lists_every_change_with_before_and_after(acme) -> None:
    ok("account update globex --notes 'key account'")
    entries = json.loads(ok("audit globex --json"))
    assert [e["action"] for e in entries] == ["account.created", "account.updated"]
    assert entries[-1]["before"] == {"notes": None}
    assert entries[-1]["after"] == {"notes": "key account"}
    everyone = json.loads(ok("audit --json"))
    # every account's entries, and the catalog's load (of no account)
    assert {e["account"] for e in everyone} == {"globex", "sales", "ann", "cafe", None}
    assert {e["action"] for e in everyone if e["account"] is None} == {"catalog.loaded"}
    assert json.loads(ok("audit --since 2999-01-01 --json")) == []
    assert "notes: none -> key account" in ok("audit globex")
    unknown = jet("audit nobody")
    assert unknown.exit_code == 1 and "no account 'nobody'" in unknown.output


def test_help_documents_exit_codes() -> None:
    for command in ("account add", "account close", "subscription end", "audit"):
        text = ok(f"{command} --help")
        assert "Exit codes: 0" in text and "1 " in text
