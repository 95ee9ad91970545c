"""The browser-test harness: Debian's Chromium driven by Playwright, against
`jet console serve` over HTTPS on a small demo home.

One demo home, one FreeRADIUS standing in for the NAS and one console server serve the
whole session (each is slow to start); each test gets a fresh browser context, and so
a fresh Streamlit session that has to sign in. Screenshots go to ARTIFACTS."""

from __future__ import annotations

import ipaddress
import os
import shutil
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest
from sqlalchemy import select

from ingest.landing import land
from jet.config import PROJECT_ROOT, Settings
from jet.drivers.self_signed import CERT_FILE, KEY_FILE, console_dir
from jet.nas import add_nas_client, remove_nas_client
from jet.ports import free_tcp_port, free_udp_port
from jet.store.db import session
from jet.store.models import Account
from schemas.raw import RADIUS
from tests.peers import processes
from tests.peers.freeradius import FreeRadius, coa_listener
from tests.peers.freeradius import available as freeradius_available
from tests.sessions import online

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = PROJECT_ROOT / "var" / "test-artifacts" / "e2e"
DEMO_ACCOUNTS = 40  # enough for every role's page; `jet demo` bills them in a few minutes
NAS = "127.0.0.1"  # the demo's loopback NAS; the tests point its CoA port at FreeRADIUS
NAS_SECRET = "e2e-coa-secret"
STARTUP = 120.0  # seconds the console has to answer (it imports Streamlit, Polars, DuckDB)
VIEWPORT = {"width": 1400, "height": 1000}
JET = str(Path(sys.executable).with_name("jet"))
ONLINE_IP = "100.64.9.7"  # the online customer's framed address, which helpdesk searches
STRAY_USER = "ghost@acme"  # RADIUS usage of no account: the quality gate holds on it
STRAY_AT = datetime(2026, 11, 20, 10, tzinfo=UTC)  # before the tests' bill date, 2026-12-01


def _missing() -> str | None:
    """Why the browser tests cannot run here, None when they can."""
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "needs playwright (uv sync with the dev group)"
    if not os.access(CHROMIUM, os.X_OK):
        return "needs Debian's chromium (apt-get install chromium)"
    if not freeradius_available():
        return "needs FreeRADIUS (Debian freeradius) as the NAS"
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    reason = _missing()
    for item in items:
        if "tests/e2e/" in str(item.path).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """var/test-artifacts/e2e, emptied once per run: the screenshots of this run only."""
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


@pytest.fixture(scope="module")
def browser():
    """Chromium for one test module. Not for the session: Playwright's sync API keeps its
    asyncio loop running until it exits, and every later `asyncio.run()` in the same
    pytest process (the RADIUS server's tests) would fail."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, artifacts: Path, request: pytest.FixtureRequest):
    """A page in a context of its own (no session shared between tests); on a failure, a
    screenshot of where it stood."""
    context = browser.new_context(ignore_https_errors=True, viewport=VIEWPORT)
    context.set_default_timeout(30_000)
    tab = context.new_page()
    yield tab
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        tab.screenshot(path=artifacts / f"{request.node.name}-FAILED.png", full_page=True)
    context.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """`jet demo --accounts DEMO_ACCOUNTS` once per session, in a home of its own: the
    demo's data, its certificate and its three console logins (jet.drivers.demo_console)."""
    home = Settings(home=tmp_path_factory.mktemp("e2e") / "home")
    _jet(home, "demo", "--accounts", str(DEMO_ACCOUNTS), timeout=1200)
    return home


@pytest.fixture(scope="session")
def nas(demo_home: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FreeRadius]:
    """FreeRADIUS answering Disconnect and CoA as the demo's NAS (127.0.0.1): the NAS's
    row in the store now names its CoA port and secret. Its requests land in
    `nas.logdir / "dynauth-detail"`."""
    port = free_udp_port()
    with session(demo_home.db_url) as s:
        realm = remove_nas_client(s, NAS).realm_id
        add_nas_client(s, NAS, NAS_SECRET, realm, "FreeRADIUS (e2e)", coa_port=port)
    with FreeRadius(tmp_path_factory.mktemp("nas"), coa_listener(NAS_SECRET, port)) as server:
        yield server


@pytest.fixture(scope="session")
def online_customer(demo_home: Settings) -> dict[str, str]:
    """An acme customer online now at the NAS with a framed address, and a RADIUS user
    the store does not know (whose usage holds every realm's invoices: a hold for the
    admin to waive); both landed as `jet radius serve` lands them, then rated (`jet
    rate`) so the marts hold the session's address. The customer's account, address and
    Acct-Session-Id."""
    with session(demo_home.db_url) as s:
        account = s.scalar(
            select(Account.id)
            .where(Account.realm_id == "acme", Account.status == "active")
            .order_by(Account.id)
        )
    landed = online(demo_home, f"{account}@acme", NAS, framed_ip=ONLINE_IP)
    _land_stray_user(demo_home)
    _jet(demo_home, "rate")
    return {"account": account, "framed_ip": ONLINE_IP, "session": landed}


@pytest.fixture(scope="session")
def console_url(demo_home: Settings, nas: FreeRadius, online_customer: dict) -> Iterator[str]:
    """`jet console serve` on a free port with the demo's certificate; its https URL."""
    port = free_tcp_port()
    folder = console_dir(demo_home.root)
    args = [JET, "console", "serve", "--port", str(port)]
    args += ["--cert", str(folder / CERT_FILE), "--key", str(folder / KEY_FILE)]
    log = demo_home.root.parent / "console.log"
    with log.open("w") as out:
        proc = processes.start(args, env=_env(demo_home), stdout=out, stderr=subprocess.STDOUT)
    url = f"https://127.0.0.1:{port}"
    try:
        wait_until_answers(url, proc, log)
        yield url
    finally:
        processes.stop(proc)


def wait_until_answers(url: str, proc: subprocess.Popen, log: Path) -> None:
    """Until Streamlit's health endpoint answers over TLS (the certificate is the demo's
    self-signed one, so it is not verified here)."""
    unverified = ssl._create_unverified_context()
    deadline = time.monotonic() + STARTUP
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", context=unverified, timeout=2):
                return
        except OSError as err:
            if proc.poll() is not None or time.monotonic() > deadline:
                said = log.read_text()
                raise RuntimeError(f"the console did not answer at {url}:\n{said}") from err
            time.sleep(0.25)


def _land_stray_user(settings: Settings) -> None:
    """A Start of `STRAY_USER` (no such account) before BILL_DATE: the quality gate's
    `known_account` checks fail and hold every realm's invoices of that date."""
    address = int(ipaddress.IPv4Address(NAS))
    row = {
        "user_name": STRAY_USER, "acct_session_id": "stray", "status_type": "Start",
        "event_time": STRAY_AT, "received_at": datetime.now(UTC),
        "nas_ip": address, "source_ip": address,
    }  # fmt: skip
    land("radius", pa.Table.from_pylist([row], schema=RADIUS), "stray", settings.raw)


def _jet(settings: Settings, *args: str, timeout: float = 600) -> None:
    """`jet ARGS` on `settings`' home, as a user runs it; its output in the failure."""
    done = subprocess.run(
        [JET, *args], env=_env(settings), capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"jet {' '.join(args)} failed:\n{done.stdout}{done.stderr}"


def _env(settings: Settings) -> dict[str, str]:
    env = {**os.environ, "JET_HOME": str(settings.root), "DO_NOT_TRACK": "1"}
    env.pop("JET_DATABASE_URL", None)
    return env
