"""The customer portal under load (issue #18): `--sessions` (50) customers at once, each
in its own websocket session with one real portal server (`jet portal serve`, HTTPS on
loopback), signing in, browsing every page and paying an invoice or topping up, each
page's time measured from the request to the server's `script_finished`. Target: under
1.5 s at the 95th percentile on this machine.

The clients are bench/portal_client.py (the browser's protocol without a browser: see
bench/README.md for why). The home is made by `jet demo --accounts N` in a scratch folder
(not measured, removed after), or `--home DIR`, an existing demo home, which the run
changes (portal passwords set, invoices paid, credit topped up, and a `jet bill` for the
next month when few customers have an invoice open); the customers chosen get the portal
password `PASSWORD` through the core function of `jet portal password`.

    .venv/bin/python bench/bench_portal.py [--home DIR | --accounts 500] [--sessions 50]
        [--rounds 3] [--think 5] [--ramp 30] [--port 8599]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from urllib.request import urlopen

from sqlalchemy import exists, func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from apps.streamlit.data import portal  # noqa: E402
from bench.common import report  # noqa: E402
from bench.portal_client import Run, StreamlitSession  # noqa: E402
from jet.audit import Actor  # noqa: E402
from jet.config import Settings  # noqa: E402
from jet.customer_access import Customer as CustomerAccess  # noqa: E402
from jet.customer_access import customer as customer_of_account  # noqa: E402
from jet.drivers.demo_money import SANDBOX_KEYS  # noqa: E402
from jet.drivers.self_signed import CERT_FILE, console_dir  # noqa: E402
from jet.portal_logins import set_portal_password  # noqa: E402
from jet.portal_realms import portal_of  # noqa: E402
from jet.realms import catalog_on  # noqa: E402
from jet.store.db import session  # noqa: E402
from jet.store.models import Account, Invoice, Realm  # noqa: E402

JET = str(Path(sys.executable).parent / "jet")
PASSWORD = "bench-portal-password"
BENCH = Actor.here()  # who runs the bench, as `jet portal password` records them
TARGET = 1.5  # seconds, 95th percentile of a page's time
PAGES = ("Usage", "Invoices", "Pay", "Details", "Plan", "Contact")
CHARGED, DECLINED = "4242424242424242", "4000000000000002"  # the sandbox gateway's test cards


@dataclass(frozen=True, slots=True)
class Customer:
    login: str
    realm: str
    what: str  # "person" (with an invoice to pay), "prepaid" (tops up), "company"
    cards: bool  # whether the realm takes cards (eurowave: SEPA only, its Pay page browsed)


@dataclass
class Figures:
    """Every timed run by what it was, and what came of the payments."""

    times: dict[str, list[float]] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    bytes: int = 0

    def add(self, name: str, run: Run) -> None:
        self.times.setdefault(name, []).append(run.seconds)
        self.bytes += run.bytes
        self.errors += [f"{name}: {e}" for e in run.exceptions]

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


def customers(settings: Settings, n: int) -> list[Customer]:
    """`n` open top-level customers of the realms with a portal, taken in turn from each
    realm and kind (three people with an open invoice for each prepaid account and each
    company; a company pays too when it has an invoice open)."""
    pools: list[list[Customer]] = []
    with session(settings.db_url) as s:
        realms = [r for r in s.scalars(select(Realm.id).order_by(Realm.id)) if portal_of(s, r)]
        for realm in realms:
            cards = catalog_on(s, realm, date.today()).realm.gateway is not None
            top = select(Account.id).where(
                Account.realm_id == realm, Account.status == "active", Account.parent_id.is_(None)
            )
            kinds = {
                "person": top.where(Account.kind == "person", ~Account.prepaid).where(
                    exists().where(Invoice.account_id == Account.id)
                ),
                "prepaid": top.where(Account.prepaid),
                "company": top.where(Account.kind == "company"),
            }
            for what, query in kinds.items():
                logins = s.scalars(query.order_by(Account.id)).all()
                if what == "person":  # those with an invoice to pay
                    logins = [a for a in logins if _owes(settings, customer_of_account(s, a))]
                pool = [Customer(login, realm, what, cards) for login in logins[:n]]
                pools += [pool[i::3] for i in range(3)] if what == "person" else [pool]
    chosen: list[Customer] = []
    while len(chosen) < n and any(pools):
        for pool in pools:
            if pool and len(chosen) < n:
                chosen.append(pool.pop(0))
    if len(chosen) < n:
        raise SystemExit(f"only {len(chosen)} portal customers in this home; ask for fewer")
    return chosen


def bill_next_month(settings: Settings) -> None:
    """`jet bill` for the first of the month after the last bill date: the demo's money
    in has paid nearly every invoice, and customers should find one to pay."""
    with session(settings.db_url) as s:
        last = s.scalar(select(func.max(Invoice.bill_date)))
    day = (last.replace(day=1) + timedelta(days=32)).replace(day=1).isoformat()
    log(f"jet bill --from {day} --to {day}: invoices to pay (not measured)")
    env = {**os.environ, "JET_HOME": str(settings.root)}
    subprocess.run([JET, "bill", "--from", day, "--to", day], env=env, stdout=subprocess.DEVNULL)


def give_passwords(settings: Settings, chosen: list[Customer]) -> None:
    """The portal password `PASSWORD` for each, as `jet portal password LOGIN` gives it."""
    with session(settings.db_url) as s:
        for c in chosen:
            set_portal_password(s, BENCH, c.login, PASSWORD)


def _owes(settings: Settings, who: CustomerAccess) -> bool:
    """Whether the customer has an issued invoice open (what the Pay page offers)."""
    return any(o["number"] for o in portal.dues(settings, who, who.account_id)["open"])


@dataclass(frozen=True, slots=True)
class Plan:
    """How a visit goes: when it starts, the rounds of every page, the think time."""

    delay: float
    rounds: int
    think: float
    paying: bool = True


async def visit(url: str, tls: ssl.SSLContext, c: Customer, nth: int, plan: Plan, out: Figures):
    """One customer's visit: the sign-in page, signing in, `rounds` times every page with
    a think time before each click, and in the first round (when `paying`, and the realm
    takes cards) a payment on the Pay page (a declined card for every fifth customer)."""
    rng = random.Random(nth)
    await asyncio.sleep(plan.delay)
    tab = StreamlitSession(url, f"realm={c.realm}", tls)
    await tab.open()
    try:
        shown = await tab.run()
        out.add("sign-in page", shown)
        signed = await tab.run(values=_fill(shown, "sign_in", {"Login": c.login,
            "Portal password": PASSWORD}, "Sign in"))  # fmt: skip
        out.add("sign in (and the first page)", signed)
        if "Usage" not in tab.pages:
            out.errors.append(f"{c.login} was not signed in: {signed.alerts}")
            return
        for round_ in range(plan.rounds):
            for page in PAGES:
                await asyncio.sleep(rng.uniform(0.5, 1.5) * plan.think)
                run = await tab.run(page)
                out.add(f"page {page}", run)
                if page == "Pay" and round_ == 0 and plan.paying:
                    if not c.cards:
                        out.count("no card payment (the realm takes none)")
                        continue
                    await asyncio.sleep(rng.uniform(0.5, 1.5) * plan.think)
                    await pay(tab, run, c, nth % 5 == 4, out)
    finally:
        await tab.close()


async def pay(tab: StreamlitSession, shown: Run, c: Customer, decline: bool, out: Figures) -> None:
    """Pay the first open invoice, or top up 10 of a prepaid account, by card."""
    card = {"Card number": DECLINED if decline else CHARGED, "Expiry (MM/YY)": "12/30",
            "CVC": "123"}  # fmt: skip
    if ("pay_invoice", "Pay") in shown.widgets:
        what, values = "pay an invoice", _fill(shown, "pay_invoice", card, "Pay")
    elif ("top_up", "Top up") in shown.widgets:
        what, values = "top up", _fill(shown, "top_up", {"Amount": "10", **card}, "Top up")
    else:
        out.count(f"{c.what}: nothing to pay")
        return
    run = await tab.run(values=values)
    out.add(f"pay: {what}", run)
    kinds = {kind for kind, _ in run.alerts}
    result = "charged" if "success" in kinds else "refused" if "error" in kinds else "no answer"
    out.count(f"{what}: {result}" + (" (decline card)" if decline else ""))
    if result != ("refused" if decline else "charged"):
        out.errors.append(f"{c.login} {what}: {result} {run.alerts}")


def _fill(run: Run, form: str, texts: dict[str, str], submit: str) -> dict[str, object]:
    """The widget values of submitting `form` with `texts` typed into its fields."""
    values: dict[str, object] = {run.widgets[(form, label)]: text for label, text in texts.items()}
    values[run.widgets[(form, submit)]] = True
    return values


async def load(url: str, tls: ssl.SSLContext, chosen: list[Customer], args) -> Figures:
    """All the visits at once, arriving evenly over `--ramp` seconds."""
    out = Figures()
    visits = [
        visit(url, tls, c, i, Plan(args.ramp * i / len(chosen), args.rounds, args.think), out)
        for i, c in enumerate(chosen)
    ]
    for failure in await asyncio.gather(*visits, return_exceptions=True):
        if isinstance(failure, BaseException):
            out.errors.append(f"a visit failed: {failure!r}")
    return out


async def warm_up(url: str, tls: ssl.SSLContext, c: Customer) -> Figures:
    """One visit of every page, alone, before the load: the first run of each page in a
    new server process imports its modules and opens its connections, which a portal
    serving for days has long done; its times are reported apart."""
    out = Figures()
    await visit(url, tls, c, 0, Plan(0, 1, 0, paying=False), out)
    return out


def serve(settings: Settings, port: int, tls: ssl.SSLContext) -> subprocess.Popen:
    """`jet portal serve --port PORT` (HTTPS with the demo's certificate), once it answers;
    what it logs goes to $JET_HOME/logs/bench-portal.log."""
    logs = settings.root / "logs"
    logs.mkdir(exist_ok=True)
    with (logs / "bench-portal.log").open("ab") as sink:
        server = subprocess.Popen(
            [JET, "portal", "serve", "--port", str(port)],
            env={**os.environ, **SANDBOX_KEYS, "JET_HOME": str(settings.root)},
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"jet portal serve exited ({server.returncode}); see {logs}")
        try:
            with urlopen(f"https://localhost:{port}/_stcore/health", context=tls, timeout=5):
                return server
        except OSError:
            time.sleep(0.5)
    server.terminate()
    raise SystemExit("jet portal serve did not answer within 120 s")


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of process `pid` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentiles(seconds: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(seconds, n=20, method="inclusive") if len(seconds) > 1 else seconds
    return {
        "n": len(seconds),
        "p50": round(statistics.median(seconds), 3),
        "p95": round(cuts[-1], 3),
        "max": round(max(seconds), 3),
    }


def home(args: argparse.Namespace) -> Path:
    """`--home`, else a scratch folder with `jet demo --accounts N` in it (its output on
    stderr: the bench's stdout ends with its JSON line)."""
    if args.home:
        return args.home.resolve()
    folder = Path(tempfile.mkdtemp(prefix="bench-portal-"))
    log(f"jet demo --accounts {args.accounts} into {folder} (not measured)")
    env = {**os.environ, "JET_HOME": str(folder)}
    demo = [JET, "demo", "--accounts", str(args.accounts)]
    subprocess.run(demo, env=env, check=True, stdout=sys.stderr)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", type=Path, help="an existing demo home (it is changed)")
    parser.add_argument("--accounts", type=int, default=500, help="for the demo made here")
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3, help="times each customer sees every page")
    parser.add_argument("--think", type=float, default=5.0, help="mean seconds between clicks")
    parser.add_argument("--ramp", type=float, default=30.0, help="seconds over which they arrive")
    parser.add_argument("--port", type=int, default=8599)
    args = parser.parse_args()
    settings = Settings(home=home(args))
    chosen = customers(settings, args.sessions)
    if sum(c.what == "person" for c in chosen) < args.sessions // 2:
        bill_next_month(settings)
        chosen = customers(settings, args.sessions)
    give_passwords(settings, chosen)
    kinds = {w: sum(c.what == w for c in chosen) for w in ("person", "prepaid", "company")}
    log(f"{args.sessions} customers: {kinds}")
    tls = ssl.create_default_context(cafile=console_dir(settings.root) / CERT_FILE)
    server = serve(settings, args.port, tls)
    try:
        warm = asyncio.run(warm_up(f"wss://localhost:{args.port}/", tls, chosen[-1]))
        cpu_before, own_before = cpu_seconds(server.pid), time.process_time()
        load_before = os.getloadavg()[0]
        began = time.perf_counter()
        out = asyncio.run(load(f"wss://localhost:{args.port}/", tls, chosen, args))
        wall = time.perf_counter() - began
        server_cpu = cpu_seconds(server.pid) - cpu_before
        server_mb = _peak_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
        if not args.home:
            shutil.rmtree(settings.root)
    figures = {name: percentiles(t) for name, t in sorted(out.times.items())}
    every = [t for name, ts in out.times.items() for t in ts]
    for name, f in figures.items():
        log(f"{name:34} n {f['n']:4}  p50 {f['p50'] * 1000:6.0f} ms  p95 {f['p95'] * 1000:6.0f} ms"
            f"  max {f['max'] * 1000:6.0f} ms")  # fmt: skip
    log(f"payments: {out.outcomes}")
    for error in out.errors[:20]:
        log(f"ERROR {error}")
    overall = percentiles(every)
    report(
        "portal_load",
        f"{args.sessions} concurrent portal sessions over HTTPS on loopback: sign in, every "
        f"page {args.rounds} times with {args.think:g} s mean think time, a payment each",
        overall["p95"],
        "the issue's target at the 95th percentile",
        TARGET,
        sessions=args.sessions,
        rounds=args.rounds,
        think_seconds=args.think,
        ramp_seconds=args.ramp,
        runs=overall["n"],
        p50=overall["p50"],
        max=overall["max"],
        pages=figures,
        payments=out.outcomes,
        warm_up={name: round(ts[0], 3) for name, ts in warm.times.items()},
        errors=len(out.errors),
        wall_seconds=round(wall, 1),
        server_cpu_seconds=round(server_cpu, 1),
        server_cores_used=round(server_cpu / wall, 2),
        server_cpu_ms_per_run=round(server_cpu / overall["n"] * 1000),
        server_peak_memory_mb=server_mb,
        client_cpu_seconds=round(time.process_time() - own_before, 1),
        megabytes_received=round(out.bytes / 2**20, 1),
        kinds=kinds,
        streamlit_env={k: v for k, v in os.environ.items() if k.startswith("STREAMLIT_")},
        load_average=[round(load_before, 2), round(os.getloadavg()[0], 2)],
    )


def _peak_mb(pid: int) -> float:
    """The server's peak resident memory (VmHWM), read before it stops."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
