"""The `ssh` hook against Debian's OpenSSH server on loopback (tests/peers/sshd.py): after
`jet` account changes, the remote command has run, each value quoted for the shell (a name
with a command in it stays text); a host showing another key than the pinned one is
refused and nothing runs."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from jet.cli import main
from jet.config import Settings
from jet.deliveries import dispatch
from jet.drivers.subscribers import subscribers
from tests.ledger_fixtures import CATALOGS
from tests.peers.sshd import Sshd, available

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not available(), reason="Debian's openssh-server is not installed"),
]


def jet(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def deliver(settings: Settings) -> list:
    reports = dispatch(settings, subscribers(settings), now=lambda: datetime.now(UTC))
    return [r for r in reports if r.subscriber.startswith("hook:")]


def hooks(settings: Settings, server: Sshd, host_key: str, out: Path) -> None:
    (settings.root / "hooks").mkdir(exist_ok=True)
    (settings.root / "hooks" / "acme.yaml").write_text(f"""
hooks:
  - name: router
    events: [account.created, account.suspended]
    action: ssh
    host: 127.0.0.1
    port: {server.port}
    user: {getpass.getuser()}
    key_file: {server.client_key}
    host_key: "{host_key}"
    command: >-
      printf '%s|%s|%s\\n' {{{{ account.id }}}} {{{{ account.name }}}} {{{{ account.status }}}}
      >> {out}
""")


def test_the_command_runs_on_the_host_with_every_value_quoted(settings, tmp_path):
    out = tmp_path / "provisioned.txt"
    jet("catalog", "load", str(CATALOGS / "acme.yaml"))
    with Sshd(tmp_path / "sshd") as server:
        hooks(settings, server, server.host_key_line, out)
        jet("account", "add", "acme", "ann", "--name", "Ann; touch /tmp/pwned-$(id -u)")
        [report] = deliver(settings)
        assert report.result.outcome == "exit 0", report.result
        jet("account", "set", "ann", "--status", "suspended")  # delivered by the command
    assert out.read_text().splitlines() == [
        "ann|Ann; touch /tmp/pwned-$(id -u)|active",
        "ann|Ann; touch /tmp/pwned-$(id -u)|suspended",
    ]


def test_a_host_with_another_key_is_refused_and_nothing_runs(settings, tmp_path):
    out = tmp_path / "provisioned.txt"
    jet("catalog", "load", str(CATALOGS / "acme.yaml"))
    with Sshd(tmp_path / "sshd") as server, Sshd(tmp_path / "other") as other:
        hooks(settings, server, other.host_key_line, out)
        jet("account", "add", "acme", "bob", "--name", "Bob")
        [report] = deliver(settings)
    assert report.went_wrong and "another host key" in report.result.outcome
    assert not out.exists()
