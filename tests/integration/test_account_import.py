"""`jet import accounts` as a migration runs it: a 10,000-account file with three bad
rows is refused with exactly their lines and stores nothing; corrected, it imports; run
again, it adds nothing, and the audit log holds each change once. Parents may come
later in the file; loops, unknown plans and starts before the catalog are refused."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from jet.account_import import ImportRefused, import_accounts, read_csv
from jet.audit import Actor, entries
from jet.cli import main
from jet.config import PROJECT_ROOT, Settings
from jet.store.db import session
from jet.store.models import Account, AuditEntry, Event, Subscription
from tests.account_files import account_rows, write_csv
from tests.peers.postgres import postgres, postgres_url  # noqa: F401 (fixtures)

CATALOGS = PROJECT_ROOT / "examples" / "catalogs"
EXAMPLE = PROJECT_ROOT / "examples" / "accounts" / "acme-customers.csv"
ACTOR = Actor("migration", "import")


def jet(line: str):
    return CliRunner().invoke(main, shlex.split(line))


def stored(settings: Settings) -> dict[str, int]:
    """Rows an import may add (audit entries: the accounts', not the catalog's load)."""
    with session(settings.db_url) as s:
        counts = {
            table.__name__: s.scalar(select(func.count()).select_from(table))
            for table in (Account, Subscription, Event)
        }
        ours = select(func.count()).where(AuditEntry.entity != "catalog_version")
        return counts | {"AuditEntry": s.scalar(ours)}


@pytest.fixture
def acme(settings: Settings) -> Settings:
    """A store with the acme and skyfi catalogs."""
    for realm in ("acme", "skyfi"):
        assert jet(f"catalog load {CATALOGS / realm}.yaml").exit_code == 0
    return settings


def test_ten_thousand_accounts_three_bad_rows(acme: Settings, tmp_path: Path) -> None:
    rows = list(account_rows(10_000))
    people = [i for i, row in enumerate(rows) if row["login"].startswith("p")]
    broken = {people[100]: ("parent", "nobody"), people[5_000]: ("email", "ann@"),
              people[-1]: ("tax_id", "51 824 753 557")}  # fmt: skip
    good = write_csv(tmp_path / "good.csv", rows)
    bad_rows = [row | dict([broken[i]]) if i in broken else row for i, row in enumerate(rows)]
    bad = write_csv(tmp_path / "bad.csv", bad_rows)
    lines = sorted(i + 2 for i in broken)  # the header is line 1

    result = jet(f"import accounts {bad} --json")
    assert result.exit_code == 1
    refused = json.loads(result.stdout)["refused"]
    assert [r["line"] for r in refused] == lines
    assert [r["message"].split(":")[0] for r in refused] == [broken[line - 2][0] for line in lines]
    assert f"line {lines[0]}: parent: there is no account nobody" in result.stderr
    assert stored(acme) == dict.fromkeys(("Account", "Subscription", "AuditEntry", "Event"), 0)

    result = jet(f"import accounts {good} --json")
    assert result.exit_code == 0, result.output
    first = json.loads(result.stdout)
    subscribed = sum(1 for row in rows if row.get("plan"))
    assert (first["accounts_added"], first["subscriptions_added"]) == (10_000, subscribed)
    with session(acme.db_url) as s:
        user = s.get(Account, "co000001-cc1-u7")  # before its cost-centre in the file
        assert user is not None and user.parent_id == "co000001-cc1"
        assert s.get(Account, "co000000").tax_id == "51824753556"

    counts = stored(acme)
    result = jet(f"import accounts {good} --json")
    assert result.exit_code == 0, result.output
    again = json.loads(result.stdout)
    assert (again["accounts_added"], again["subscriptions_added"]) == (0, 0)
    assert (again["accounts_there"], again["subscriptions_there"]) == (10_000, subscribed)
    assert (
        stored(acme)
        == counts
        == {
            "Account": 10_000,
            "Subscription": subscribed,
            "AuditEntry": 10_000 + subscribed,
            "Event": 10_000 + subscribed,
        }
    )
    with session(acme.db_url) as s:
        changes = [
            (e.action, e.entity_id, e.channel)
            for e in entries(s)
            if e.entity != "catalog_version"  # the set-up's catalog load
        ]
    assert len(set(changes)) == len(changes)
    assert {channel for _, _, channel in changes} == {"import"}
    audit = json.loads(jet("audit co000000-cc0-u3 --json").stdout)
    assert [(e["action"], e["channel"]) for e in audit] == [
        ("account.created", "import"),
        ("subscription.started", "import"),
    ]


@pytest.fixture(params=["sqlite", "postgresql"])
def store(
    request: pytest.FixtureRequest, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    """The acme fixture's store on SQLite, or on PostgreSQL (`JET_DATABASE_URL`)."""
    if request.param == "postgresql":
        monkeypatch.setenv("JET_DATABASE_URL", request.getfixturevalue("postgres_url"))
    request.getfixturevalue("acme")
    return Settings()


def test_the_example_file_imports_once(store: Settings, request: pytest.FixtureRequest) -> None:
    result = jet(f"import accounts {EXAMPLE}")
    assert result.exit_code == 0, result.output
    assert "acme" in result.output
    result = jet(f"import accounts {EXAMPLE} --realm acme")
    assert result.exit_code == 0 and "nothing new" in result.output
    assert store.db_url.startswith(request.node.callspec.params["store"])
    with session(store.db_url) as s:
        ann = s.get(Account, "ann.lee")
        assert ann.parent_id == "globex-sales" and ann.realm_id == "acme"
        subscriptions = s.scalars(select(Subscription).order_by(Subscription.id)).all()
        assert len(subscriptions) == 7
        started = {e.entity_id: e.account_id for e in entries(s) if e.entity == "subscription"}
        assert started == {str(sub.id): sub.account_id for sub in subscriptions}


def refusals(settings: Settings, text: str, realm: str | None = None) -> list[tuple[int, str]]:
    """What importing the CSV `text` is refused for: (line, message) of each row."""
    path = settings.root / "accounts.csv"
    path.write_text(text)
    before = stored(settings)
    with pytest.raises(ImportRefused) as refused, session(settings.db_url) as s:
        import_accounts(s, ACTOR, read_csv(path), realm)
    assert stored(settings) == before
    return [(r.line, r.message) for r in refused.value.refusals]


HEADER = "login,name,parent,plan,plan_from,realm\n"


def test_a_loop_in_the_file(acme: Settings) -> None:
    found = refusals(acme, HEADER + "a,A,c,,,acme\nb,B,a,,,acme\nc,C,b,,,acme\nd,D,a,,,acme\n")
    assert [line for line, _ in found] == [2, 3, 4, 5]
    assert found[0][1] == "parent: c is under this account: a hierarchy cannot loop"
    assert found[3][1] == "parent: a is refused at line 2: correct that row first"


def test_children_of_a_refused_row_name_it(acme: Settings) -> None:
    text = "login,name,parent,email\n" + (
        "kid,Kid,mid,\nmid,Mid,top,\ntop,Top,,not-an-address\nmum,Mum,,\nmum,Mum again,,\n"
    )
    found = refusals(acme, text, realm="acme")
    assert [line for line, _ in found] == [2, 3, 4, 6]
    assert found[0][1] == "parent: mid is refused at line 3: correct that row first"
    assert found[1][1] == "parent: top is refused at line 4: correct that row first"
    assert found[2][1].startswith("email: 'not-an-address' is not an e-mail address")
    assert found[3][1] == "login: mum is given twice (first at line 5)"


def test_plans_are_checked_against_the_catalog(acme: Settings) -> None:
    text = HEADER + (
        "a,A,,gold,2026-02-01,acme\n"
        "b,B,,home,2025-12-31,acme\n"
        "c,C,,home,01/02/2026,acme\n"
        "d,D,,home,,acme\n"
        "e,E,,,2026-02-01,acme\n"
        "f,F,,home,2026-02-01,acme\n"
    )
    assert refusals(acme, text) == [
        (2, "plan: realm acme has no plan 'gold' on 2026-02-01 "
            "(plans: business, home, home-wholesale, hotspot)"),
        (3, "plan_from: 2025-12-31 is before realm acme's first catalog (2026-01-01): "
            "start on or after it"),
        (4, "plan_from: '01/02/2026' is not a day: give YYYY-MM-DD"),
        (5, "plan_from: give the plan's first day (YYYY-MM-DD)"),
        (6, "plan: give the plan that starts on 2026-02-01"),
    ]  # fmt: skip


def test_realms_and_lines(acme: Settings) -> None:
    text = HEADER + (
        'a,"A, with a comma",,,,skyfi\n'
        "b,B,,,,nowhere\n"
        "c,C,,,\n"
        'd,"D on\ntwo lines",,,,\n'
        "e,E,,,,acme\n"
        "a,A in acme,,,,acme\n"
    )
    assert refusals(acme, text, realm="acme") == [
        (2, "realm: the row says skyfi, but the import is for acme"),
        (3, "realm: the row says nowhere, but the import is for acme"),
        (4, "has 5 fields where the header has 6: quote a value that holds a comma"),
    ]
    found = refusals(acme, text.replace("e,E,,,,acme", "e,E,,,,"))
    assert found[-3:] == [
        (5, "realm: give the account's realm (or one for the whole import)"),
        (7, "realm: give the account's realm (or one for the whole import)"),
        (8, "login: a is given twice (first at line 2, in realm skyfi)"),
    ]
    assert found[0] == (3, "realm: there is no realm 'nowhere' (realms: acme, skyfi)")


def test_a_file_it_cannot_read_is_refused(acme: Settings) -> None:
    path = acme.root / "accounts.csv"
    path.write_text("login,name,plan_start\nann,Ann,2026-01-01\n")
    result = jet(f"import accounts {path}")
    assert result.exit_code == 1
    assert "the header must name each column once" in result.stderr
    assert "plan_from" in result.stderr
    path.write_bytes("login,name\nbob,Bébé\n".encode("latin-1"))
    result = jet(f"import accounts {path} --realm acme")
    assert result.exit_code == 1 and "is not UTF-8 text: save it as UTF-8" in result.stderr


def test_a_second_file_adds_plans_to_accounts_already_there(acme: Settings) -> None:
    with session(acme.db_url) as s:
        import_accounts(s, ACTOR, [{"login": "ann", "name": "Ann", "realm": "acme"}])
    with session(acme.db_url) as s:
        counts = import_accounts(
            s,
            ACTOR,
            [{"login": "ann", "name": "Ann", "plan": "home", "plan_from": "2026-03-01"}],
            "acme",
        )
    assert (counts["acme"].accounts_there, counts["acme"].subscriptions_added) == (1, 1)
    assert refusals(acme, "login,name,realm\nann,Ann Lee,acme\n") == [
        (2, "login: ann is taken: choose another")
    ]
