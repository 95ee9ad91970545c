"""Provisioning hooks against real targets on loopback: a webhook server that checks each
request's HMAC signature, and a local program. Account changes are made with `jet`
commands; what the targets received is read from the targets, not from Jet."""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from jet.cli import main
from jet.config import Settings
from jet.deliveries import dispatch
from jet.drivers.subscribers import subscribers
from jet.ports import free_tcp_port
from jet.provisioning.hook_config import HookError, parse_hooks
from tests.ledger_fixtures import CATALOGS

pytestmark = pytest.mark.integration
KEY = "a-webhook-signing-key"


class Webhook:
    """A loopback HTTP server: each request kept with whether its signature held;
    `fail_next` answers that many requests 500 first."""

    def __init__(self, port: int = 0) -> None:
        self.received: list[dict] = []
        self.fail_next = 0
        self.answered: list[int] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                expected = "sha256=" + hmac.new(KEY.encode(), body, hashlib.sha256).hexdigest()
                status = 500 if hook.fail_next else 400 if self.path.startswith("/refuse") else 200
                hook.fail_next = max(0, hook.fail_next - 1)
                hook.answered.append(status)
                if status == 200:
                    hook.received.append({
                        "path": self.path, "body": json.loads(body),
                        "signed": hmac.compare_digest(self.headers["X-Jet-Signature"], expected),
                        "idempotency": self.headers["Idempotency-Key"],
                    })  # fmt: skip
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def __enter__(self) -> Webhook:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    with Webhook() as hook:
        yield hook


def jet(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def hook_log(tmp_path: Path) -> Path:
    return tmp_path / "provisioned.log"


@pytest.fixture
def home(
    settings: Settings, webhook: Webhook, hook_log: Path, tmp_path: Path, monkeypatch
) -> Settings:
    """acme with its catalog and two hooks: a signed webhook of account changes, and a
    program that appends each event it gets to a file."""
    monkeypatch.setenv("ACME_HOOK_KEY", KEY)
    jet("catalog", "load", str(CATALOGS / "acme.yaml"))
    log = hook_log
    script = tmp_path / "provision.py"
    script.write_text(
        "import json, os, sys\n"
        "topic = json.loads(os.environ['JET_EVENT'])['topic']\n"
        f"with open({str(log)!r}, 'a') as f:\n"
        "    f.write(' '.join(sys.argv[1:]) + ' ' + topic + '\\n')\n"
    )
    (settings.root / "hooks").mkdir()
    (settings.root / "hooks" / "acme.yaml").write_text(f"""
hooks:
  - name: crm
    events: [account.created, account.suspended, account.reactivated, plan.changed]
    action: http
    url: "{webhook.url}/accounts/{{{{ account.id }}}}"
    secret_env: ACME_HOOK_KEY
    body:
      login: "{{{{ account.id }}}}"
      status: "{{{{ account.status }}}}"
      plan: "{{{{ account.plan }}}}"
      event: "{{{{ event.topic }}}}"
  - name: router
    events: [account.created, account.suspended]
    action: command
    argv: ["{sys.executable}", "{script}", "{{{{ account.id }}}}", "{{{{ account.status }}}}"]
""")
    return settings


def deliver(settings: Settings, at: datetime | None = None) -> list:
    return dispatch(settings, subscribers(settings), now=lambda: at or datetime.now(UTC))


def test_account_changes_reach_the_webhook_signed_and_the_program_in_order(home, webhook, hook_log):
    jet("account", "add", "acme", "ann", "--name", "Ann", "--plan", "home", "--from", "2026-01-01")
    jet("account", "add", "acme", "bob", "--name", "Bob")
    jet("account", "set", "ann", "--status", "suspended")
    deliver(home)
    jet("account", "set", "ann", "--status", "active")
    deliver(home)
    ann = [r for r in webhook.received if r["path"] == "/accounts/ann"]
    assert [r["body"]["event"] for r in ann] == [
        "account.created", "account.suspended", "account.reactivated",
    ]  # fmt: skip
    assert all(r["signed"] for r in webhook.received)
    # each body is rendered from the account as stored when the hook ran
    assert ann[-1]["body"] == {
        "login": "ann", "status": "active", "plan": "home", "event": "account.reactivated",
    }  # fmt: skip
    assert len({r["idempotency"] for r in webhook.received}) == len(webhook.received)
    lines = hook_log.read_text().splitlines()
    ann_ran = [line.split()[-1] for line in lines if line.startswith("ann ")]
    assert ann_ran == ["account.created", "account.suspended"]  # in order per account
    assert "bob active account.created" in lines


def test_a_500_is_retried_until_delivered_a_4xx_never(home, webhook):
    webhook.fail_next = 2
    jet("account", "add", "acme", "cat", "--name", "Cat")
    now = datetime.now(UTC)
    first = deliver(home, now)
    assert [r.result.outcome for r in first if r.subscriber == "hook:acme:crm"][0].startswith(
        "HTTP 500"
    )
    deliver(home, now + timedelta(minutes=1))  # the second answer is a 500 too
    assert webhook.received == []
    deliver(home, now + timedelta(minutes=5))
    assert [r["path"] for r in webhook.received] == ["/accounts/cat"]
    assert webhook.answered == [500, 500, 200]
    # a target that says no (4xx) is not asked again
    hooks = home.root / "hooks" / "acme.yaml"
    hooks.write_text(hooks.read_text().replace("/accounts/", "/refuse?"))
    jet("account", "add", "acme", "dan", "--name", "Dan")
    reports = deliver(home, now + timedelta(minutes=6))
    refused = [r for r in reports if r.subscriber == "hook:acme:crm"]
    assert refused and refused[0].result.refused
    deliver(home, now + timedelta(hours=2))
    assert webhook.answered[-1] == 400 and webhook.answered.count(400) == 1


def test_hooks_check_names_each_problem_by_its_key_path(tmp_path):
    with pytest.raises(HookError) as caught:
        parse_hooks(
            """
hooks:
  - {name: a, events: [account.created], action: http, url: "http://x/{{ acount.id }}"}
  - {name: a, events: [account.renamed], action: command, argv: ["{{ account.id"]}
  - {name: c, events: [account.created], action: telnet}
""",
            "acme.yaml",
        )
    problems = dict(caught.value.problems)
    assert "unknown name acount" in problems["hooks[0].url"]
    assert "unknown event account.renamed" in problems["hooks[1].events"]
    assert "unknown action 'telnet'" in problems["hooks[2]"]
    bad = tmp_path / "acme.yaml"
    bad.write_text(
        "hooks:\n  - {name: a, events: [account.created], action: command, argv: ['{{ x.y']}\n"
    )
    result = CliRunner().invoke(main, ["hooks", "check", str(bad)])
    assert result.exit_code == 1 and "hooks[0].argv[0]: template error" in result.output


def test_hooks_test_renders_what_would_be_sent_and_sends_nothing(home, webhook):
    jet("account", "add", "acme", "eve", "--name", "Eve", "--plan", "home", "--from", "2026-01-01")
    out = jet("hooks", "test", "account.suspended", "eve")
    assert f'"url": "{webhook.url}/accounts/eve"' in out
    assert '"plan": "home"' in out and "router (command) would send" in out
    assert webhook.answered == []
    listed = jet("hooks", "list")
    assert "crm" in listed and "router" in listed


def test_a_target_down_for_a_while_gets_every_event_in_order_once_back(settings, monkeypatch):
    """Down: every attempt fails (nothing listens). Back within the retries: the account's
    events arrive in order. Down for more than a day: dead letters, listed, and delivered
    by `jet events retry` once the target is back."""
    monkeypatch.setenv("ACME_HOOK_KEY", KEY)
    jet("catalog", "load", str(CATALOGS / "acme.yaml"))
    port = free_tcp_port()
    (settings.root / "hooks").mkdir()
    (settings.root / "hooks" / "acme.yaml").write_text(f"""
hooks:
  - name: crm
    events: [account.created, account.suspended, account.reactivated]
    action: http
    url: "http://127.0.0.1:{port}/{{{{ account.id }}}}"
    secret_env: ACME_HOOK_KEY
""")
    now = datetime.now(UTC)
    jet("account", "add", "acme", "ann", "--name", "Ann")
    jet("account", "set", "ann", "--status", "suspended")
    jet("account", "set", "ann", "--status", "active")
    tried = [
        r
        for minutes in (0, 1, 3)
        for r in deliver(settings, now + timedelta(minutes=minutes))
        if r.subscriber == "hook:acme:crm"
    ]
    assert tried and all(r.went_wrong for r in tried)  # nothing listens
    with Webhook(port) as back:
        for hours in (1, 2, 3):  # each retry delivers what is due; the rest follow in order
            deliver(settings, now + timedelta(hours=hours))
        assert [r["body"]["topic"] for r in back.received] == [
            "account.created", "account.suspended", "account.reactivated",
        ]  # fmt: skip
        assert all(r["signed"] for r in back.received)

    jet("account", "add", "acme", "bob", "--name", "Bob")
    deliver(settings, now + timedelta(days=1))
    deliver(settings, now + timedelta(days=3))  # a day past due: given up on
    dead = json.loads(jet("events", "list", "--status", "dead", "--json").splitlines()[0])
    assert (dead["account"], dead["subscriber"], dead["topic"]) == (
        "bob",
        "hook:acme:crm",
        "account.created",
    )
    with Webhook(port) as back:
        jet("events", "retry", str(dead["event"]))
        deliver(settings)
        assert [r["path"] for r in back.received] == ["/bob"]
    assert jet("events", "list", "--status", "dead").strip() == "no deliveries"
