"""`jet staff` as an operator types it: add (password prompted twice or from stdin),
list, disable and enable, password, totp; each refusal says what to do and exits 1."""

from __future__ import annotations

import shlex
from datetime import UTC, datetime

import pyotp
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from jet.cli import main
from jet.config import PROJECT_ROOT, Settings
from jet.staff import LoginRefused, sign_in, staff_of
from jet.store.db import session
from jet.store.models import AuditEntry

PASSWORD = "correct horse battery"


def jet(line: str, given: str | None = None):
    return CliRunner().invoke(main, shlex.split(line), input=given)


def ok(line: str, given: str | None = None) -> str:
    result = jet(line, given)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(autouse=True)
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    from jet.drivers.console import console

    monkeypatch.setattr(console, "width", 200)


@pytest.fixture
def realms(settings: Settings) -> Settings:
    for name in ("acme", "skyfi"):
        ok(f"catalog load {PROJECT_ROOT / 'examples' / 'catalogs' / name}.yaml")
    return settings


def signs_in(settings: Settings, email: str, password: str = PASSWORD, totp=None) -> bool:
    with session(settings.db_url) as s:
        try:
            token = sign_in(s, email, password, totp)
        except LoginRefused:
            return False
    with session(settings.db_url) as s:
        return staff_of(s, token) is not None


def rows(listing: str) -> dict[str, list[str]]:
    """The cells of `jet staff list`'s table, by e-mail."""
    cells = [[c.strip() for c in line.split("│")[1:-1]] for line in listing.splitlines()]
    return {row[0]: row[1:] for row in cells if row}


def test_add_prompts_twice_then_list_shows_them(realms):
    out = ok(
        "staff add hal@isp.example --role helpdesk --realm acme --realm skyfi --name Hal",
        f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert out.count("Password") == 1 and "Repeat for confirmation" in out
    assert "added hal@isp.example (helpdesk) in acme, skyfi" in out
    ok("staff add ada@isp.example --role admin --all-realms --password-stdin", f"{PASSWORD}\n")
    listed = rows(ok("staff list"))
    assert listed["ada@isp.example"] == ["ada@isp.example", "admin", "all", "active", "off", "-"]
    assert listed["hal@isp.example"] == ["Hal", "helpdesk", "acme, skyfi", "active", "off", "-"]
    assert signs_in(realms, "hal@isp.example")
    with session(realms.db_url) as s:
        actors = {(e.actor, e.channel) for e in s.scalars(select(AuditEntry))
                  if e.action == "staff.added"}  # fmt: skip
    assert len(actors) == 1 and next(iter(actors))[1] == "cli"


@pytest.mark.parametrize(
    ("line", "given", "message"),
    [
        ("staff add sam@isp.example --role sales", PASSWORD, "give --realm R"),
        ("staff add sam@isp.example --role sales --realm acme --all-realms", PASSWORD, "not both"),
        (
            "staff add sam@isp.example --role sales --realm atlantis --password-stdin",
            PASSWORD,
            "no realm 'atlantis'; the realms are acme, skyfi",
        ),  # fmt: skip
        (
            "staff add sam@isp.example --role sales --realm acme --password-stdin",
            "short",
            "the password has 5 characters; give at least 12",
        ),  # fmt: skip
    ],
)
def test_a_refused_add_exits_1_and_says_what_to_do(realms, line, given, message):
    result = jet(line, given + "\n")
    assert result.exit_code == 1 and message in result.output
    assert "no staff yet" in ok("staff list")


def test_an_unknown_role_is_a_usage_error(realms):
    result = jet("staff add sam@isp.example --role boss --realm acme --password-stdin", PASSWORD)
    assert result.exit_code == 2 and "'boss' is not one of 'admin', 'sales', 'helpdesk'" in (
        result.output
    )


def test_disable_refuses_sign_in_and_enable_restores_it(realms):
    ok("staff add sam@isp.example --role sales --realm acme --password-stdin", PASSWORD)
    assert "disabled sam@isp.example" in ok("staff disable sam@isp.example")
    assert rows(ok("staff list"))["sam@isp.example"][3] == "disabled"
    assert not signs_in(realms, "sam@isp.example")
    ok("staff enable sam@isp.example")
    assert signs_in(realms, "sam@isp.example")
    result = jet("staff disable nobody@isp.example")
    assert result.exit_code == 1 and "no staff member 'nobody@isp.example'" in result.output


def test_password_and_totp(realms):
    ok("staff add sam@isp.example --role sales --realm acme --password-stdin", PASSWORD)
    ok("staff password sam@isp.example --password-stdin", "another long passphrase\n")
    assert not signs_in(realms, "sam@isp.example")
    uri = ok("staff totp sam@isp.example").strip()
    assert uri.startswith("otpauth://totp/Jet:sam%40isp.example")
    code = pyotp.parse_uri(uri).at(datetime.now(UTC))
    assert not signs_in(realms, "sam@isp.example", "another long passphrase")
    assert signs_in(realms, "sam@isp.example", "another long passphrase", code)
    assert rows(ok("staff list"))["sam@isp.example"][4] == "on"


def test_a_lockout_shows_in_the_list_and_enable_lifts_it(realms):
    ok("staff add sam@isp.example --role sales --realm acme --password-stdin", PASSWORD)
    for _ in range(5):
        assert not signs_in(realms, "sam@isp.example", "a wrong password")
    assert rows(ok("staff list"))["sam@isp.example"][3].startswith("locked until ")
    assert not signs_in(realms, "sam@isp.example")
    ok("staff enable sam@isp.example")
    assert signs_in(realms, "sam@isp.example")
