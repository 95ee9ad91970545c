"""The `ldap` hook against Debian's slapd on loopback (tests/peers/slapd.py): the entry is
in the directory after `jet account add`, follows `jet account update`, and is gone after
`jet account close`; the same event delivered twice changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import ldap3
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from jet.cli import main
from jet.config import Settings
from jet.deliveries import dispatch
from jet.drivers.subscribers import subscribers
from jet.store.db import session
from jet.store.models import Event
from tests.ledger_fixtures import CATALOGS
from tests.peers.slapd import PASSWORD, SUFFIX, Slapd, available

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not available(), reason="Debian's slapd is not installed"),
]


def jet(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def deliver(settings: Settings) -> list:
    reports = dispatch(settings, subscribers(settings), now=lambda: datetime.now(UTC))
    return [r for r in reports if r.subscriber.startswith("hook:")]


def entry(server: Slapd, login: str) -> dict | None:
    with server.connection() as conn:
        found = conn.search(
            f"uid={login},ou=people,{SUFFIX}", "(objectClass=*)", ldap3.BASE, attributes=["*"]
        )
        return (
            {k: list(v) for k, v in conn.entries[0].entry_attributes_as_dict.items()}
            if found
            else None
        )


def test_the_entry_follows_the_account_and_goes_with_it(settings, tmp_path, monkeypatch):
    monkeypatch.setenv("ACME_LDAP_PASSWORD", PASSWORD)
    jet("catalog", "load", str(CATALOGS / "acme.yaml"))
    with Slapd(tmp_path / "slapd") as server:
        (settings.root / "hooks").mkdir()
        (settings.root / "hooks" / "acme.yaml").write_text(f"""
hooks:
  - name: directory
    events: [account.created, account.updated, account.closed]
    action: ldap
    url: {server.url}
    bind_dn: cn=admin,{SUFFIX}
    password_env: ACME_LDAP_PASSWORD
    dn: "uid={{{{ account.id }}}},ou=people,{SUFFIX}"
    attributes:
      uid: "{{{{ account.id }}}}"
      cn: "{{{{ account.name }}}}"
      sn: "{{{{ account.name.split()[-1] }}}}"
      mail: "{{{{ account.email or '' }}}}"
""")
        jet("account", "add", "acme", "ann", "--name", "Ann Lee", "--email", "ann@example.net")
        [added] = deliver(settings)
        assert added.result.outcome == f"added uid=ann,ou=people,{SUFFIX}"
        got = entry(server, "ann")
        assert (got["cn"], got["sn"], got["mail"]) == (["Ann Lee"], ["Lee"], ["ann@example.net"])

        jet("account", "update", "ann", "--email", "")
        [updated] = deliver(settings)
        assert updated.result.outcome.startswith("updated") and "mail" not in entry(server, "ann")

        hook = next(s for s in subscribers(settings) if s.name == "hook:acme:directory")
        with session(settings.db_url) as s:
            event = s.scalars(select(Event).where(Event.topic == "account.updated")).one()
        assert hook.deliver(settings, event, {}).outcome.startswith("updated")  # again: no harm

        jet("account", "close", "ann")
        assert entry(server, "ann") is None
