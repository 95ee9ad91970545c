"""Provisioning hooks' throughput: 100,000 `account.updated` events (10 per account) through
the outbox dispatcher to each action alone: a webhook on a loopback HTTP server (another
process, HTTP/1.1 keep-alive) and FreeRADIUS's tables in SQLite (`freeradius_sql`). The
baseline is the issue's target, 1,000 events a second to the webhook.

    .venv/bin/python bench/bench_hooks.py [--events 100000] [--accounts 10000]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import date
from pathlib import Path

from sqlalchemy import insert, update

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import report  # noqa: E402
from jet.accounts import add_accounts, subscribe  # noqa: E402
from jet.catalog import load_catalog_file  # noqa: E402
from jet.config import PROJECT_ROOT, Settings  # noqa: E402
from jet.deliveries import dispatch  # noqa: E402
from jet.outbox import event_row  # noqa: E402
from jet.ports import free_tcp_port  # noqa: E402
from jet.provisioning.hook_subscribers import hook_subscribers  # noqa: E402
from jet.realms import store_catalog  # noqa: E402
from jet.store.db import session  # noqa: E402
from jet.store.models import Account, Event  # noqa: E402

SCHEMA = Path("/etc/freeradius/3.0/mods-config/sql/main/sqlite/schema.sql")
SERVER = textwrap.dedent("""
    import sys
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
""")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--accounts", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="jet-bench-hooks-") as home:
        os.environ["JET_HOME"] = home
        os.environ["BENCH_HOOK_KEY"] = "bench-signing-key"
        settings = Settings()
        port = free_tcp_port()
        server = subprocess.Popen([sys.executable, "-c", SERVER, str(port)])
        radius_db = Path(home) / "radius.db"
        with sqlite3.connect(radius_db) as con:
            con.executescript(SCHEMA.read_text())
        try:
            prepare(settings, args.accounts, args.events)
            figures = {}
            for name, hook in hooks(port, radius_db).items():
                (settings.root / "hooks").mkdir(exist_ok=True)
                (settings.root / "hooks" / "acme.yaml").write_text(hook)
                started = time.perf_counter()
                reports = dispatch(settings, hook_subscribers(settings))
                seconds = time.perf_counter() - started
                wrong = [r for r in reports if r.went_wrong]
                assert len(reports) == args.events and not wrong, (len(reports), wrong[:3])
                figures[name] = {
                    "seconds": round(seconds, 2),
                    "per_second": round(args.events / seconds),
                }
                print(f"{name}: {args.events:,} events in {seconds:.1f} s, "
                      f"{args.events / seconds:,.0f} a second", file=sys.stderr)  # fmt: skip
            with sqlite3.connect(radius_db) as con:
                [(users,)] = con.execute("select count(distinct username) from radcheck")
            assert users == args.accounts, users
        finally:
            server.terminate()
    webhook = figures["webhook"]["seconds"]
    report(
        "hooks",
        f"{args.events} account.updated events of {args.accounts} accounts to each action alone",
        webhook,
        "the issue's target, 1,000 events a second to the webhook",
        args.events / 1000,
        events=args.events,
        accounts=args.accounts,
        actions=figures,
    )


def prepare(settings: Settings, accounts: int, events: int) -> None:
    """acme's catalog, `accounts` accounts on its home plan with passwords, and `events`
    account.updated events spread over them in turn."""
    with session(settings.db_url) as s:
        store_catalog(s, load_catalog_file(PROJECT_ROOT / "examples/catalogs/acme.yaml"), "bench")
        ids = [f"user{i:06d}" for i in range(accounts)]
        add_accounts(s, "acme", [{"id": i, "name": f"User {i}"} for i in ids])
        for i in ids:
            subscribe(s, i, "home", date(2026, 1, 1))
        s.execute(update(Account).values(radius_password="bench-password"))
        s.query(Event).delete()  # the creations' events: only the updates are measured
        rows = [
            event_row("account.updated", ids[n % accounts], {"account": ids[n % accounts]})
            for n in range(events)
        ]
        s.execute(insert(Event), rows)


def hooks(port: int, radius_db: Path) -> dict[str, str]:
    return {
        "webhook": f"""
hooks:
  - name: crm
    events: [account.updated]
    action: http
    url: "http://127.0.0.1:{port}/accounts/{{{{ account.id }}}}"
    secret_env: BENCH_HOOK_KEY
""",
        "freeradius_sql": f"""
hooks:
  - name: radius-db
    events: [account.updated]
    action: freeradius_sql
    url: sqlite:///{radius_db}
""",
    }


if __name__ == "__main__":
    main()
