"""FreeRADIUS kept in step with Jet by the provisioning hooks, asked by radclient: once
with its `sql` module on an SQLite database the `freeradius_sql` hook writes, once with
its `files` module reading the `users` file the `radius_users_file` hook writes (and
reloads on SIGHUP). Account changes are made with `jet` commands; FreeRADIUS's answers
are the proof: Accept with the plan's attributes for a new account, Reject after
suspension, Accept again after reactivation, the new plan's attributes after a plan
change, and only the new password after a password change."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from jet.cli import main
from jet.config import Settings
from jet.deliveries import dispatch
from jet.drivers.subscribers import subscribers
from jet.ports import free_udp_port
from tests.integration.test_radius_auth import pap, radclient
from tests.ledger_fixtures import CATALOGS
from tests.peers.freeradius import FreeRadius, available

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not available(), reason="Debian's freeradius is not installed"),
]
SECRET = "hooks-test-secret"
SCHEMA = Path("/etc/freeradius/3.0/mods-config/sql/main/sqlite/schema.sql")
QUERIES = Path("/etc/freeradius/3.0/mods-config/sql/main/sqlite/queries.conf")
HOME_REPLY = {
    "Session-Timeout": "86400",
    "Idle-Timeout": "1800",
    "Mikrotik-Rate-Limit": "20M/100M",
    "WISPr-Bandwidth-Max-Up": "20000000",
    "WISPr-Bandwidth-Max-Down": "100000000",
}
HOTSPOT_RATE = "5M/20M"


def server_config(port: int, authorize: str, modules: str) -> str:
    return f"""
client jet {{
\tipaddr = 127.0.0.1
\tsecret = {SECRET}
}}
modules {{
\tpap {{
\t}}
\texpr {{
\t}}
{modules}
}}
server default {{
\tlisten {{
\t\ttype = auth
\t\tipaddr = 127.0.0.1
\t\tport = {port}
\t}}
\tauthorize {{
\t\t{authorize}
\t\tpap
\t}}
\tauthenticate {{
\t\tAuth-Type PAP {{
\t\t\tpap
\t\t}}
\t}}
}}
"""


def sql_module(db: Path) -> str:
    return f"""
\tsql {{
\t\tdialect = "sqlite"
\t\tdriver = "rlm_sql_sqlite"
\t\tsqlite {{
\t\t\tfilename = "{db}"
\t\t}}
\t\tradius_db = "radius"
\t\tacct_table1 = "radacct"
\t\tacct_table2 = "radacct"
\t\tpostauth_table = "radpostauth"
\t\tauthcheck_table = "radcheck"
\t\tgroupcheck_table = "radgroupcheck"
\t\tauthreply_table = "radreply"
\t\tgroupreply_table = "radgroupreply"
\t\tusergroup_table = "radusergroup"
\t\tread_groups = yes
\t\tread_clients = no
\t\tclient_table = "nas"
\t\tgroup_attribute = "SQL-Group"
\t\tpool {{
\t\t\tstart = 1
\t\t\tmin = 1
\t\t\tmax = 2
\t\t\tspare = 1
\t\t\tuses = 0
\t\t\tlifetime = 0
\t\t\tidle_timeout = 60
\t\t}}
\t\t$INCLUDE {QUERIES}
\t}}
"""


def files_module(users: Path) -> str:
    return f"""
\tfiles {{
\t\tfilename = {users}
\t}}
"""


def jet(*args: str, stdin: str | None = None) -> str:
    result = CliRunner().invoke(main, list(args), input=stdin)
    assert result.exit_code == 0, result.output
    return result.output


def deliver(settings: Settings) -> None:
    reports = dispatch(settings, subscribers(settings), now=lambda: datetime.now(UTC))
    hooks = [r for r in reports if r.subscriber.startswith("hook:")]
    assert not [r for r in hooks if r.went_wrong], [r.result for r in hooks]


def ask(port: int, user: str, password: str) -> tuple[str, dict[str, str]]:
    """FreeRADIUS's answer: its code and reply attributes."""
    quoted = password.replace("\\", "\\\\").replace('"', '\\"')  # radclient's string syntax
    [reply] = radclient(port, [pap(user, quoted)], SECRET)
    assert reply is not None, f"no answer for {user}"
    return reply


def lifecycle(settings: Settings, port: int) -> None:
    """The account changes and what FreeRADIUS answers after each."""

    def step() -> None:
        deliver(settings)

    jet("account", "add", "acme", "ann", "--name", "Ann", "--plan", "home", "--from", "2026-01-01")
    jet("account", "password", "ann", "--password-stdin", stdin="ann-pw-1\n")
    step()
    assert ask(port, "ann", "ann-pw-1") == ("Access-Accept", HOME_REPLY)
    assert ask(port, "ann", "wrong")[0] == "Access-Reject"

    jet("account", "set", "ann", "--status", "suspended")
    step()
    code, attributes = ask(port, "ann", "ann-pw-1")
    assert code == "Access-Reject" and "suspended" in attributes["Reply-Message"]

    jet("account", "set", "ann", "--status", "active")
    step()
    assert ask(port, "ann", "ann-pw-1") == ("Access-Accept", HOME_REPLY)

    jet("account", "plan", "ann", "hotspot", "--from", datetime.now(UTC).date().isoformat())
    step()
    code, attributes = ask(port, "ann", "ann-pw-1")
    assert code == "Access-Accept" and attributes["Mikrotik-Rate-Limit"] == HOTSPOT_RATE
    assert attributes["Session-Timeout"] == "3600"

    jet("account", "password", "ann", "--password-stdin", stdin='new "pw" \\ 2\n')
    step()
    assert ask(port, "ann", 'new "pw" \\ 2')[0] == "Access-Accept"
    assert ask(port, "ann", "ann-pw-1")[0] == "Access-Reject"

    tomorrow = datetime.now(UTC).date() + timedelta(days=1)  # its plan started today
    jet("account", "close", "ann", "--on", tomorrow.isoformat())
    step()
    assert ask(port, "ann", 'new "pw" \\ 2')[0] == "Access-Reject"


@pytest.fixture
def home(settings: Settings) -> Settings:
    jet("catalog", "load", str(CATALOGS / "acme.yaml"))
    (settings.root / "hooks").mkdir()
    return settings


def test_freeradius_sql_follows_every_account_change(home: Settings, tmp_path: Path):
    db = tmp_path / "radius.db"
    with sqlite3.connect(db) as con:
        con.executescript(SCHEMA.read_text())
    (home.root / "hooks" / "acme.yaml").write_text(f"""
hooks:
  - name: radius-db
    events: [account.created, account.updated, account.suspended, account.reactivated,
             account.closed, password.changed, plan.changed]
    action: freeradius_sql
    url: sqlite:///{db}
""")
    port = free_udp_port()
    config = server_config(port, "sql", sql_module(db))
    with FreeRadius(tmp_path / "freeradius", config):
        lifecycle(home, port)
    with sqlite3.connect(db) as con:  # closed: nothing of ann is left
        assert con.execute("select count(*) from radcheck where username = 'ann'").fetchone() == (
            0,
        )


def test_the_users_file_follows_every_account_change(home: Settings, tmp_path: Path):
    """The files module reads its file again on `radmin -e "hup files"` (a SIGHUP only
    rereads files FreeRADIUS's own configuration names), through its control socket."""
    users = tmp_path / "users"
    users.write_text("# the site's own lines stay\n")
    port = free_udp_port()
    control = "listen {\n\ttype = control\n\tsocket = ${run_dir}/control.sock\n\tmode = rw\n}\n"
    config = server_config(port, "files", files_module(users)) + control
    with FreeRadius(tmp_path / "freeradius", config) as server:
        time.sleep(2.5)  # FreeRADIUS ignores a module's reload within 2 s of loading it
        socket = server.run_dir / "control.sock"
        (home.root / "hooks" / "acme.yaml").write_text(f"""
hooks:
  - name: users-file
    events: [account.created, account.updated, account.suspended, account.reactivated,
             account.closed, password.changed, plan.changed]
    action: radius_users_file
    path: {users}
    reload: [radmin, -f, "{socket}", -e, hup files]
""")
        lifecycle(home, port)
    assert users.read_text().startswith("# the site's own lines stay\n")
    assert "ann" not in users.read_text()
