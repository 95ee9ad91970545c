"""The `ftp` hook against a real FTP server on loopback (pyftpdlib): after `jet account
add` the rendered file is on the server, whole; delivered again, it is the same one file;
a folder the server does not have is its final no."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer

from jet.cli import main
from jet.config import Settings
from jet.deliveries import dispatch
from jet.drivers.subscribers import subscribers
from tests.ledger_fixtures import CATALOGS

pytestmark = pytest.mark.integration


@pytest.fixture
def ftp_root(tmp_path: Path, monkeypatch) -> Iterator[tuple[Path, int]]:
    root = tmp_path / "ftp"
    (root / "provision").mkdir(parents=True)
    authorizer = DummyAuthorizer()
    authorizer.add_user("jet", "ftp-secret", str(root), perm="elradfmw")
    handler = type("Handler", (FTPHandler,), {"authorizer": authorizer})
    server = FTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"timeout": 0.2}, daemon=True)
    thread.start()
    monkeypatch.setenv("ACME_FTP_PASSWORD", "ftp-secret")
    yield root, server.address[1]
    server.close_all()


def jet(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def deliver(settings: Settings) -> list:
    reports = dispatch(settings, subscribers(settings), now=lambda: datetime.now(UTC))
    return [r for r in reports if r.subscriber.startswith("hook:")]


def hooks(settings: Settings, port: int, folder: str) -> None:
    (settings.root / "hooks").mkdir(exist_ok=True)
    (settings.root / "hooks" / "acme.yaml").write_text(f"""
hooks:
  - name: batch
    events: [account.created, account.suspended]
    action: ftp
    host: 127.0.0.1
    port: {port}
    user: jet
    password_env: ACME_FTP_PASSWORD
    path: "{folder}/{{{{ account.id }}}}.txt"
    content: "{{{{ account.id }}}};{{{{ account.name }}}};{{{{ account.status }}}}\\n"
""")


def test_the_rendered_file_is_on_the_server_whole(settings, ftp_root):
    root, port = ftp_root
    jet("catalog", "load", str(CATALOGS / "acme.yaml"))
    hooks(settings, port, "provision")
    jet("account", "add", "acme", "ann", "--name", "Ann Lee")
    [report] = deliver(settings)
    assert report.result.outcome == "uploaded provision/ann.txt"
    assert (root / "provision" / "ann.txt").read_text() == "ann;Ann Lee;active\n"
    jet("account", "set", "ann", "--status", "suspended")  # delivered by the command
    assert (root / "provision" / "ann.txt").read_text() == "ann;Ann Lee;suspended\n"
    assert sorted(p.name for p in (root / "provision").iterdir()) == ["ann.txt"]  # no .part


def test_a_folder_the_server_lacks_is_a_final_no(settings, ftp_root):
    _, port = ftp_root
    jet("catalog", "load", str(CATALOGS / "acme.yaml"))
    hooks(settings, port, "nowhere")
    jet("account", "add", "acme", "bob", "--name", "Bob")
    [report] = deliver(settings)
    assert report.result.refused and "550" in report.result.outcome
