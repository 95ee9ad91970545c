"""A believable demo deployment from nothing: two realms, ~2000 accounts, three months of usage.

Everything derives from one seed, so the same call builds the same accounts and the same
usage. Usage reaches the lake as it would in production (`jet.drivers.demo_feed`): RADIUS
through `jet radius serve`, flows through the NetFlow collector in daily batches named
for their day (`demo-netflow-2026-08-01`), the wholesale file through `jet import usage`
(`ingest.csv`); a re-run lands nothing twice. Each account is
measured by exactly one source (RADIUS, NetFlow or the upstream CSV) and only while a
subscription is active, so nothing is billed twice and nothing is billed for nothing.

Usage is landed before the accounts are committed, and the accounts, subscriptions and
IP assignments are saved in one transaction: if the run dies part way, the store has no
demo accounts and the next run simply does it again (the batches already landed are
skipped). The upstream file is imported inside that transaction, once the accounts its
import checks every row against are in it. A store that already has accounts in the
demo realms is left alone.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ingest.csv.profiles import SHIPPED, UsageProfile, read_profile
from ingest.csv.usage import import_usage, usage_batch_id
from ingest.landing import landed_batches
from ingest.netflow.decode import Flows, no_flows
from jet.account_import import import_accounts
from jet.accounts import change_plan, end_plan
from jet.audit import Actor
from jet.catalog import load_catalog_file
from jet.config import PROJECT_ROOT, Settings
from jet.drivers import demo_addresses as postal
from jet.drivers.demo_feed import feed_netflow, feed_radius
from jet.realms import store_catalog
from jet.store.db import session
from jet.store.models import Account, IpAssignment, Subscription
from schemas.raw import RADIUS

CATALOGS = PROJECT_ROOT / "examples" / "catalogs"
REALMS = ("acme", "skyfi")
UPSTREAM_FILE = "upstream-2026-10.csv"
UPSTREAM_PROFILE = SHIPPED / "wholesale.yaml"  # the partner's layout, as operators import it
# Jet went live on 1 August: customers moved over then, new ones joined after.
SUBSCRIPTIONS_FROM, SUBSCRIPTIONS_UNTIL = date(2026, 8, 1), date(2026, 10, 20)
MOVED_OVER = 0.4  # share of accounts whose subscription starts on go-live day

# What an account is, and which one source measures its usage.
HOME, CENTRE, USER, SKY = 0, 1, 2, 3
NONE, RADIUS_SRC, NETFLOW_SRC, UPSTREAM_SRC = 0, 1, 2, 3

DAY = 86_400
MONTH = 30.44 * DAY
EPOCH = date(1970, 1, 1)
US = 1_000_000


def _ip(text: str) -> int:
    a, b, c, d = (int(x) for x in text.split("."))
    return (a << 24) | (b << 16) | (c << 8) | d


def _dotted(ip: int) -> str:
    return ".".join(str((ip >> s) & 255) for s in (24, 16, 8, 0))


NAS_NET = _ip("10.0.0.0")  # BRAS, hotspots and flow exporters: 10.0.0.0/24
BUSINESS_NET = _ip("100.64.0.0")  # static business addresses: 100.64.0.0/11, a /24 per company
BUSINESS_LIMIT = _ip("100.96.0.0")
ACME_POOL = _ip("100.96.0.0")  # dynamic home addresses: 100.96.0.0/12
SKYFI_POOL = _ip("172.16.0.0")  # hotspot clients: 172.16.0.0/12
UNOWNED_NET = _ip("100.127.0.0")  # nobody's: flows here stay unattributed
REMOTE_FIRST, REMOTE_LAST = _ip("23.0.0.0"), _ip("99.255.255.255")  # the internet, roughly


def _words(text: str, sep: str | None = None) -> tuple[str, ...]:
    return tuple(text.split(sep))


FIRST_NAMES = _words(
    "Olivia Liam Charlotte Noah Amelia Oliver Isla Jack Mia William Ava Henry Grace Leo "
    "Chloe Lucas Ella Thomas Zoe James Ruby Ethan Sophie Harrison Aria Mason Hannah Samuel "
    "Priya Arjun Mei Wei Aroha Tama Sione Leilani Fatima Omar Ana Mateo"
)
LAST_NAMES = _words(
    "Smith Jones Williams Brown Wilson Taylor Nguyen Johnson Martin White Anderson Walker "
    "Thompson Harris Lee Ryan Robinson Kelly King Davis Wright Clarke Patel Singh Chen Wang "
    "Tane Ngata Parata Fifita Kaur Murphy Campbell Mitchell Hughes Edwards Morris Evans"
)
PLACES = _words(
    "Harbour Summit Coastal Riverside Southern Bayside Eastside Highland Ironbark Wattle "
    "Kauri Pacific Meridian Northgate Redgum Saltwater Bluegum Granite Tasman Lakeside"
)
TRADES = _words(
    "Logistics|Dental|Architects|Plumbing|Accounting|Legal|Engineering|Physiotherapy|"
    "Freight|Electrical|Veterinary Clinic|Real Estate|Design Studio|Joinery|Medical Centre",
    "|",
)
VENUES = ("Café", "Marina", "Holiday Park", "Motel", "Surf Club", "Backpackers", "Brewery")
SKY_PLANS = ("pay-as-you-go", "unlimited", "travel-kit", "venue")


@dataclass
class _Plan:
    """The accounts to create, their subscriptions, and how each is measured."""

    ids: list[str] = field(default_factory=list)
    realm: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    parents: list[str | None] = field(default_factory=list)
    kind: list[int] = field(default_factory=list)
    plan: list[str | None] = field(default_factory=list)  # first plan; None for cost-centres
    start: list[date | None] = field(default_factory=list)
    centre: list[int] = field(default_factory=list)  # index of the company, -1 if none
    # set once all accounts are known
    subs: list[tuple[int, str, date, date | None]] = field(default_factory=list)
    source: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    window: tuple[np.ndarray, np.ndarray] = field(
        default_factory=lambda: (np.zeros(0, np.int64), np.zeros(0, np.int64))
    )  # [begin, end) in epoch seconds of each account's usage
    assignments: list[tuple[int, int, int]] = field(default_factory=list)  # (account, first, last)
    # kind, address, country, tax_id and delivery of each account (`_plan_postal`)
    details: list[dict[str, str]] = field(default_factory=list)

    def add(self, *, realm, name, email, kind, plan, start, parent=None, centre=-1) -> int:
        self.ids.append("")
        self.realm.append(realm)
        self.names.append(name)
        self.emails.append(email)
        self.parents.append(parent)
        self.kind.append(kind)
        self.plan.append(plan)
        self.start.append(start)
        self.centre.append(centre)
        return len(self.ids) - 1


def generate(
    settings: Settings,
    *,
    accounts: int = 2000,
    seed: int = 7,
    first_day: date = date(2026, 8, 1),
    last_day: date = date(2026, 10, 31),
    progress: Callable[[str], None] = lambda msg: None,
) -> dict:
    """Build the demo deployment in `settings`' store and lake; return what it holds.

    The summary has accounts per realm, cost-centres, subscriptions, IP assignments and
    rows landed per source; `reused` is True when the store already had the demo realms'
    accounts and nothing was generated."""
    began = time.monotonic()
    with session(settings.db_url) as s:
        existing = s.scalar(
            select(func.count()).select_from(Account).where(Account.realm_id.in_(REALMS))
        )
    if existing:
        progress(f"The store already has {existing} demo accounts: reusing them")
        return _summary(settings, reused=True)
    if accounts < 20:
        raise ValueError(f"the demo needs at least 20 accounts to show every case, got {accounts}")
    if last_day < first_day:
        raise ValueError(f"last_day {last_day} is before first_day {first_day}")

    progress("Loading the acme and skyfi catalogs")
    with session(settings.db_url) as s:
        for realm in REALMS:
            path = CATALOGS / f"{realm}.yaml"
            store_catalog(s, load_catalog_file(path), str(path))

    plan_rng, radius_rng, flow_rng, csv_rng, postal_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(5)
    )
    plan = _plan_accounts(plan_rng, accounts, first_day, last_day)
    _plan_postal(postal_rng, plan)
    n_acme = plan.realm.count("acme")
    progress(
        f"Planned {len(plan.ids)} accounts ({n_acme} acme, {len(plan.ids) - n_acme} skyfi) "
        f"and {len(plan.subs)} subscriptions"
    )

    progress("Generating RADIUS sessions")
    table = _radius(radius_rng, plan)
    progress(f"Sending {table.num_rows:,} Accounting-Requests to `jet radius serve` on loopback")
    feed_radius(table, settings)

    progress("Generating NetFlow records for business accounts")
    flows = _netflow(flow_rng, plan, first_day, last_day)
    progress(
        f"Exporting {len(flows):,} flows from four routers (NetFlow v5, v9 and IPFIX) "
        "to the collector on loopback"
    )
    feed_netflow(flows, settings.raw)

    inbox = settings.root / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / UPSTREAM_FILE).write_bytes(
        _upstream_csv(csv_rng, plan, read_profile(UPSTREAM_PROFILE))
    )

    progress("Saving accounts, subscriptions and IP assignments")
    with session(settings.db_url) as s:
        _save(s, plan)
        _import_upstream(settings, s, progress)
    summary = _summary(settings, reused=False)
    progress(f"Demo ready in {time.monotonic() - began:.1f} s")
    return summary


# --- accounts and subscriptions ------------------------------------------------------------


def _plan_accounts(rng: np.random.Generator, accounts: int, first: date, last: date) -> _Plan:
    """~70% acme (5% cost-centres with 3-15 business users each, the rest home), ~30% skyfi."""
    plan = _Plan()
    n_acme = round(accounts * 0.7)
    n_centres = max(1, round(n_acme * 0.05))
    users = rng.integers(3, 16, n_centres)
    room = n_acme - n_centres - n_acme // 3  # keep at least a third of acme at home
    while users.sum() > room and users.max() > 3:
        users[np.argmax(users)] -= 1
    n_home = n_acme - n_centres - int(users.sum())

    def person() -> tuple[str, str]:
        first_name, last_name = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        return f"{first_name} {last_name}", f"{first_name}.{last_name}".lower()

    span = (SUBSCRIPTIONS_UNTIL - SUBSCRIPTIONS_FROM).days + 1

    def start_day() -> date:
        if rng.random() < MOVED_OVER:
            return SUBSCRIPTIONS_FROM
        return SUBSCRIPTIONS_FROM + timedelta(days=int(rng.integers(0, span)))

    companies = [f"{p} {t}" for p in PLACES for t in TRADES]
    picks = rng.choice(len(companies), n_centres, replace=n_centres > len(companies))
    for c, n_users in enumerate(users):
        company = companies[picks[c]]
        domain = company.lower().replace(" ", "") + ".example.com"
        opened = start_day()
        centre = plan.add(
            realm="acme",
            name=f"{company} Pty Ltd",
            email=f"accounts@{domain}",
            kind=CENTRE,
            plan=None,
            start=None,
            centre=c,
        )
        for _ in range(n_users):
            joined = opened + timedelta(days=int(rng.choice([0, 0, 0, rng.integers(1, 30)])))
            name, handle = person()
            plan.add(
                realm="acme",
                name=name,
                email=f"{handle}@{domain}",
                kind=USER,
                plan="business",
                start=min(joined, SUBSCRIPTIONS_UNTIL),
                parent=centre,
                centre=c,
            )
    for _ in range(n_home):
        name, handle = person()
        plan.add(
            realm="acme",
            name=name,
            email=f"{handle}{rng.integers(1, 99)}@example.net",
            kind=HOME,
            plan="home",
            start=start_day(),
        )
    for _ in range(accounts - n_acme):
        sky_plan = str(rng.choice(SKY_PLANS, p=[0.45, 0.3, 0.15, 0.1]))
        if sky_plan == "venue":
            name = f"{rng.choice(PLACES)} {rng.choice(VENUES)}"
            email = "manager@" + name.lower().replace(" ", "").replace("é", "e") + ".example.nz"
        else:
            name, handle = person()
            email = f"{handle}{rng.integers(1, 99)}@example.org"
        plan.add(realm="skyfi", name=name, email=email, kind=SKY, plan=sky_plan, start=start_day())

    # Ids are numbered in a shuffled order so they do not give away what an account is.
    for realm, prefix in (("acme", "acme"), ("skyfi", "sky")):
        members = [i for i, r in enumerate(plan.realm) if r == realm]
        numbers = rng.permutation(len(members)) + 1
        for i, number in zip(members, numbers, strict=True):
            plan.ids[i] = f"{prefix}-{number:05d}"
    plan.parents = [None if p is None else plan.ids[p] for p in plan.parents]

    _plan_subscriptions(rng, plan, accounts, first, last)
    _plan_sources(rng, plan, accounts, first, last)
    _plan_addresses(rng, plan)
    return plan


def _plan_subscriptions(
    rng: np.random.Generator, plan: _Plan, accounts: int, first: date, last: date
) -> None:
    """One subscription each; ~5% end in the period (refunds), ~2% change plan."""
    subscribed = [i for i, p in enumerate(plan.plan) if p is not None]

    def change_day(i: int, latest: date) -> date | None:
        earliest = max(plan.start[i] + timedelta(days=14), first)  # type: ignore[operator]
        if earliest > latest:
            return None
        return earliest + timedelta(days=int(rng.integers(0, (latest - earliest).days + 1)))

    order = rng.permutation(subscribed)
    ending: dict[int, date] = {}
    want = round(len(subscribed) * 0.05)
    for i in order:
        if len(ending) == want:
            break
        if (day := change_day(int(i), last)) is not None:
            ending[int(i)] = day
    changing: dict[int, date] = {}
    want = max(1, round(accounts * 0.02))
    for i in order:
        i = int(i)
        if len(changing) == want:
            break
        if plan.kind[i] != SKY or plan.plan[i] == "venue" or i in ending:
            continue
        if (day := change_day(i, last - timedelta(days=7))) is not None:
            changing[i] = day
    for i in subscribed:
        start, first_plan = plan.start[i], plan.plan[i]
        if i in changing:
            others = [p for p in SKY_PLANS if p not in (first_plan, "venue")]
            plan.subs.append((i, first_plan, start, changing[i]))
            plan.subs.append((i, str(rng.choice(others)), changing[i], None))
        else:
            plan.subs.append((i, first_plan, start, ending.get(i)))


def _plan_sources(
    rng: np.random.Generator, plan: _Plan, accounts: int, first: date, last: date
) -> None:
    """Pick each account's one measuring source and the seconds it is active in the period."""
    n = len(plan.ids)
    kind = np.array(plan.kind)
    source = np.full(n, NONE, np.int8)
    source[(kind == HOME) | (kind == SKY)] = RADIUS_SRC
    source[kind == USER] = NETFLOW_SRC
    homes = np.flatnonzero(kind == HOME)
    wholesale = rng.choice(homes, min(len(homes), max(2, round(accounts * 0.025))), replace=False)
    source[wholesale] = UPSTREAM_SRC
    plan.source = source
    resold = set(wholesale.tolist())  # their plan says the partner's file meters them
    plan.subs = [
        (i, "home-wholesale" if i in resold else plan_id, start, end)
        for i, plan_id, start, end in plan.subs
    ]

    period_start, period_end = _seconds(first), _seconds(last + timedelta(days=1))
    begin = np.full(n, period_end, np.int64)  # no subscription: an empty window
    end = np.full(n, period_end, np.int64)
    ends: dict[int, list[date | None]] = {}
    for i, _, start, stop in plan.subs:  # a plan change keeps the window whole
        begin[i] = min(begin[i], max(_seconds(start), period_start))
        ends.setdefault(i, []).append(stop)
    for i, stops in ends.items():
        if None not in stops:
            end[i] = min(period_end, _seconds(max(stops)))  # type: ignore[type-var]
    plan.window = (begin, np.maximum(end, begin))


def _plan_addresses(rng: np.random.Generator, plan: _Plan) -> None:
    """A /24 per company; each user a /32 from .10 up, a few a /29 from .128 up."""
    users = [i for i, k in enumerate(plan.kind) if k == USER]
    wide = set(rng.choice(users, max(1, round(len(users) * 0.05)), replace=False).tolist())
    counters: dict[int, list[int]] = {}
    for i in users:
        c = plan.centre[i]
        base = BUSINESS_NET + (c + 1) * 256
        if base >= BUSINESS_LIMIT:
            raise ValueError("too many cost-centres for the demo's 100.64.0.0/11 business range")
        narrow_used, wide_used = counters.setdefault(c, [0, 0])
        if i in wide:
            first_ip = base + 128 + 8 * wide_used
            plan.assignments.append((i, first_ip, first_ip + 7))
            counters[c][1] += 1
        else:
            plan.assignments.append((i, base + 10 + narrow_used, base + 10 + narrow_used))
            counters[c][0] += 1


NON_LATIN_SHARE, PAPER_SHARE = 0.01, 0.015  # of SkyFi's people; of the billing accounts


def _plan_postal(rng: np.random.Generator, plan: _Plan) -> None:
    """Postal details: homes and companies in Australia (the companies with an ABN; their
    users at the company's office), SkyFi's customers in New Zealand (venues with a GST
    number) but for a few visitors from abroad named in Greek or Cyrillic, and ~1.5% of
    the billing accounts on paper. Its own generator: the other data stays as it was."""
    billed = [i for i, p in enumerate(plan.parents) if p is None]
    paper = {
        int(i) for i in rng.choice(billed, max(2, round(len(billed) * PAPER_SHARE)), replace=False)
    }
    people = [i for i, p in enumerate(plan.plan) if p in ("pay-as-you-go", "travel-kit")]
    visitors = rng.choice(people, max(2, round(len(people) * NON_LATIN_SHARE)), replace=False)
    abroad = {int(i): postal.NON_LATIN[n % len(postal.NON_LATIN)] for n, i in enumerate(visitors)}
    offices: dict[int, str] = {}
    for i, kind in enumerate(plan.kind):
        details = {"kind": "person", "delivery": "paper" if i in paper else "email"}
        if kind == CENTRE:
            offices[plan.centre[i]] = postal.australian_office(rng)
            details.update(kind="company", address=offices[plan.centre[i]], country="AU",
                           tax_id=postal.australian_business_number(rng))  # fmt: skip
        elif kind == USER:
            details.update(address=offices[plan.centre[i]], country="AU")
        elif kind == HOME:
            details.update(address=postal.australian_home(rng), country="AU")
        elif plan.plan[i] == "venue":
            details.update(kind="company", address=postal.new_zealand(rng, shop=True),
                           country="NZ", tax_id=postal.nz_gst_number(rng))  # fmt: skip
        elif i in abroad:
            country, plan.names[i], latin = abroad[i]
            plan.emails[i] = f"{postal.handle(latin)}{rng.integers(1, 99)}@example.org"
            details.update(address=postal.abroad(rng, country), country=country)
        else:
            details.update(address=postal.new_zealand(rng), country="NZ")
        plan.details.append(details)


def _seconds(day: date) -> int:
    return (day - EPOCH).days * DAY


def _save(s: Session, plan: _Plan) -> None:
    """Accounts, subscriptions and IP assignments, in the caller's transaction. The
    accounts and their first plans go in as `jet import accounts` puts them; later plan
    changes and ends through their own doors, as staff would make them."""
    actor = Actor.here("demo")
    first: dict[int, tuple[str, date]] = {}
    for i, plan_id, start, _ in plan.subs:
        first.setdefault(i, (plan_id, start))
    rows = [
        {
            "login": plan.ids[i],
            "name": plan.names[i],
            "parent": plan.parents[i],
            "email": plan.emails[i],
            "realm": plan.realm[i],
            "plan": first[i][0] if i in first else None,
            "plan_from": first[i][1] if i in first else None,
            **plan.details[i],
        }
        for i in range(len(plan.ids))
    ]
    import_accounts(s, actor, rows)
    changes = {
        i: (plan_id, start) for i, plan_id, start, _ in plan.subs if first[i] != (plan_id, start)
    }
    for i, plan_id, start, end in plan.subs:
        if changes.get(i) == (plan_id, start):
            change_plan(s, plan.ids[i], plan_id, start, actor)
        elif end is not None and i not in changes:
            end_plan(s, actor, plan.ids[i], plan_id, end)
    s.add_all(
        IpAssignment(
            account_id=plan.ids[i],
            network=f"{_dotted(lo)}/{33 - (hi - lo + 1).bit_length()}",  # 1 -> /32, 8 -> /29
        )
        for i, lo, hi in plan.assignments
    )


# --- RADIUS --------------------------------------------------------------------------------


def _radius(rng: np.random.Generator, plan: _Plan) -> pa.Table:
    """Sessions back to back per account, each a Start, Interim-Updates every interval and a
    Stop with running counters; all inside the account's subscription window."""
    begin, end = plan.window
    acc = np.flatnonzero((plan.source == RADIUS_SRC) & (end > begin))
    if acc.size == 0:
        return RADIUS.empty_table()
    kind = np.array(plan.kind)[acc]
    first_plan = np.array([plan.plan[i] for i in acc])
    home, venue = kind == HOME, first_plan == "venue"
    ws, we = begin[acc], end[acc]

    # How each account uses the network: home broadband, hotspot visits, or a venue's AP.
    gap_mean = np.select([home, venue], [16 * 3600, 3600], 2 * DAY) * rng.lognormal(
        0, 0.4, acc.size
    )
    dur_median = np.select([home, venue], [2 * 3600, 12 * 3600], 45 * 60)
    dur_sigma = np.select([home, venue], [0.9, 0.5], 0.8)
    dur_max = np.select([home, venue], [36 * 3600, 30 * 3600], 12 * 3600)
    interval = np.select([home, venue], [3600, 7200], 900)
    volume = np.select([home, venue], [4e9, 25e9], 1.5e9) * rng.lognormal(0, 1.3, acc.size)
    volume[first_plan == "unlimited"] *= 2.5
    nas_fixed = np.where(
        home, 1 + rng.integers(0, 6, acc.size), 101 + rng.integers(0, 40, acc.size)
    )

    # Candidate sessions: enough to fill each window; the ones past its end are dropped.
    expected = (we - ws) / (gap_mean + dur_median * np.exp(dur_sigma**2 / 2))
    counts = np.ceil(expected * 1.5 + 8).astype(np.int64)
    owner = np.repeat(np.arange(acc.size), counts)
    gap = rng.exponential(gap_mean[owner]).astype(np.int64)
    dur = np.clip(rng.lognormal(np.log(dur_median[owner]), dur_sigma[owner]), 120, dur_max[owner])
    dur = dur.astype(np.int64)
    step = gap + dur
    offsets = np.cumsum(counts) - counts
    running = np.cumsum(step)
    running -= np.repeat(running[offsets] - step[offsets], counts)
    start = ws[owner] + running - dur
    keep = start < we[owner] - 600
    owner, start, dur = owner[keep], start[keep], dur[keep]
    dur = np.minimum(dur, we[owner] - 1 - start)  # a session ends before its window does
    sessions = owner.size

    online = np.bincount(owner, weights=dur, minlength=acc.size)
    months = (we - ws) / MONTH
    rate = np.divide(volume * months, online, out=np.zeros(acc.size), where=online > 0)
    total = rate[owner] * dur * rng.lognormal(-0.18, 0.6, sessions)  # noise of mean ~1
    down_share = rng.beta(8, 1.5, sessions)
    download = np.floor(total * down_share)
    upload = np.floor(total - download)

    nas = np.where(kind[owner] == SKY, 101 + rng.integers(0, 40, sessions), nas_fixed[owner])
    nas[venue[owner]] = nas_fixed[owner][venue[owner]]
    pool = np.where(kind[owner] == HOME, ACME_POOL, SKYFI_POOL)
    framed = pool + rng.integers(1, 2**20 - 1, sessions)
    session_ids = pc.utf8_lpad(
        pa.array(rng.integers(10**8, 10**9) + np.arange(sessions)).cast(pa.string()), 10, "0"
    )

    # Records: Start, m Interim-Updates, Stop.
    every = interval[owner]
    interims = np.maximum(1, (dur - 1) // every)
    n_rec = interims + 2
    sess = np.repeat(np.arange(sessions), n_rec)
    k = np.arange(sess.size) - np.repeat(np.cumsum(n_rec) - n_rec, n_rec)
    d, m, iv = dur[sess], interims[sess], every[sess]
    status = np.where(k == 0, 0, np.where(k == m + 1, 2, 1))
    elapsed = np.where(status == 0, 0, np.where(status == 2, d, np.where(d <= iv, d // 2, k * iv)))

    # Counters grow unevenly between records, from 0 at Start to the total at Stop.
    step_time = np.diff(elapsed, prepend=0)
    step_time[status == 0] = 0
    weight = np.cumsum(step_time * rng.gamma(2.0, 0.5, sess.size))
    first_rec = np.cumsum(n_rec) - n_rec
    weight -= np.repeat(weight[first_rec], n_rec)
    share = weight / np.repeat(weight[first_rec + n_rec - 1], n_rec)
    input_octets = np.floor(upload[sess] * share).astype(np.uint64)  # what the user sent
    output_octets = np.floor(download[sess] * share).astype(np.uint64)  # what they received

    event_time = (start[sess] + elapsed) * US
    order = np.argsort(event_time, kind="stable")
    sess, event_time = sess[order], event_time[order]
    rec_owner = acc[owner[sess]]
    user_names = pa.array([f"{plan.ids[i]}@{plan.realm[i]}" for i in range(len(plan.ids))])
    nas_names = pa.array(
        [f"acme-bras-{i:02d}" if i < 100 else f"skyfi-ap-{i - 100:03d}" for i in range(256)]
    )
    nas_rec = nas[sess]
    nas_ip = (NAS_NET + nas_rec).astype(np.uint32)
    n_records = sess.size
    ts = pa.timestamp("us", tz="UTC")
    # What a NAS adds that billing does not read: sent at once from its own address,
    # upload in small packets and download in large ones, Stops at the user's request.
    return pa.table(
        {
            "event_time": pa.array(event_time, ts),
            "status_type": pa.array(["Start", "Interim-Update", "Stop"]).take(status[order]),
            "user_name": user_names.take(rec_owner),
            "acct_session_id": session_ids.take(sess),
            "nas_ip": nas_ip,
            "nas_identifier": nas_names.take(nas_rec),
            "framed_ip": framed[sess].astype(np.uint32),
            "input_octets": input_octets[order],
            "output_octets": output_octets[order],
            "session_time": elapsed[order].astype(np.uint32),
            "received_at": pa.array(event_time, ts),
            "nas_port": pa.nulls(n_records, pa.uint32()),
            "input_packets": input_octets[order] // 300,
            "output_packets": output_octets[order] // 1200,
            "delay_time": np.zeros(n_records, np.uint32),
            "called_station_id": pa.nulls(n_records, pa.string()),
            "calling_station_id": pa.nulls(n_records, pa.string()),
            "class": pa.nulls(n_records, pa.string()),
            "terminate_cause": pa.array([None, None, "User-Request"]).take(status[order]),
            "cisco_avpairs": pa.nulls(n_records, pa.list_(pa.string())),
            "ssg_account_info": pa.nulls(n_records, pa.string()),
            "ssg_service_info": pa.nulls(n_records, pa.string()),
            "source_ip": nas_ip,
            "packet_id": (np.arange(n_records) % 256).astype(np.uint8),
            "authenticator": pa.nulls(n_records, pa.binary(16)),
        },
        schema=RADIUS,
    )


# --- NetFlow -------------------------------------------------------------------------------


def _netflow(rng: np.random.Generator, plan: _Plan, first: date, last: date) -> Flows:
    """Flows to (download) and from (upload) business users' static addresses during office
    hours in Australia, plus ~1% to addresses nobody owns."""
    begin, end = plan.window
    assigned = [(i, lo, hi) for i, lo, hi in plan.assignments if end[i] > begin[i]]
    if not assigned:
        return no_flows()
    acc = np.array([a[0] for a in assigned])
    lo = np.array([a[1] for a in assigned], np.int64)
    width = np.array([a[2] - a[1] + 1 for a in assigned], np.int64)
    exporter = np.array([250 + plan.centre[i] % 4 for i in acc])

    # Every active (account, day) pair gets a Poisson number of flows.
    days = (last - first).days + 1
    day_start = _seconds(first) + DAY * np.arange(days)
    active = (day_start[None, :] >= begin[acc][:, None]) & (day_start[None, :] < end[acc][:, None])
    pair_acc, pair_day = np.nonzero(active)
    per_day = rng.lognormal(np.log(6), 0.7, acc.size)
    volume = 5e9 * rng.lognormal(0, 1.3, acc.size) / 30.44  # bytes a day
    flows = rng.poisson(per_day[pair_acc])
    pair_volume = volume[pair_acc] * rng.lognormal(-0.125, 0.5, pair_acc.size)
    f_pair = np.repeat(np.arange(pair_acc.size), flows)
    n = f_pair.size
    f_acc = pair_acc[f_pair]

    download = rng.random(n) < 0.65
    group = f_pair * 2 + download  # bytes shared out within (account, day, direction)
    weight = rng.exponential(1.0, n)
    group_weight = np.bincount(group, weights=weight, minlength=2 * pair_acc.size)
    direction_share = np.where(download, 0.85, 0.15)
    nbytes = np.maximum(
        40, np.floor(pair_volume[f_pair] * direction_share * weight / group_weight[group])
    ).astype(np.uint64)

    hour_weight = np.ones(24)
    hour_weight[[22, 23, 0, 1, 2, 3, 4, 5, 6, 7]] = 6.0  # 08:00-18:00 AEST
    hour = rng.choice(24, n, p=hour_weight / hour_weight.sum())
    last_ts = day_start[pair_day[f_pair]] + hour * 3600 + rng.integers(0, 3600, n)
    length = np.minimum(rng.lognormal(np.log(20), 1.2, n), 1800).astype(np.int64)

    local = lo[f_acc] + rng.integers(0, width[f_acc])
    remote = rng.integers(REMOTE_FIRST, REMOTE_LAST + 1, n)
    exporter_ip = exporter[f_acc]

    # ~1% of flows go to addresses nobody owns, at any time of the period.
    stray = max(1, n // 100)
    last_ts = np.concatenate([last_ts, _seconds(first) + rng.integers(0, days * DAY, stray)])
    length = np.concatenate([length, rng.integers(0, 60, stray)])
    local = np.concatenate([local, UNOWNED_NET + rng.integers(1, 65535, stray)])
    remote = np.concatenate([remote, rng.integers(REMOTE_FIRST, REMOTE_LAST + 1, stray)])
    download = np.concatenate([download, np.ones(stray, bool)])
    nbytes = np.concatenate([nbytes, rng.integers(60, 20_000, stray).astype(np.uint64)])
    exporter_ip = np.concatenate([exporter_ip, 250 + rng.integers(0, 4, stray)])
    total = last_ts.size

    service = rng.choice([443, 443, 443, 80, 53, 993, 8443], total)
    protocol = np.where((service == 53) | (rng.random(total) < 0.15), 17, 6)
    ephemeral = rng.integers(32768, 61000, total)
    packet_size = np.where(download, 1200, 300)
    packets = np.maximum(1, nbytes // packet_size.astype(np.uint64))

    order = np.argsort(last_ts, kind="stable")
    return Flows(
        first_ms=(last_ts - length)[order] * 1000,
        last_ms=last_ts[order] * 1000,
        src_addr=_mapped(np.where(download, remote, local)[order]),
        dst_addr=_mapped(np.where(download, local, remote)[order]),
        src_port=np.where(download, service, ephemeral)[order].astype(np.uint16),
        dst_port=np.where(download, ephemeral, service)[order].astype(np.uint16),
        protocol=protocol[order].astype(np.uint8),
        packets=packets[order],
        bytes=nbytes[order],
        sampling_interval=np.ones(total, np.uint32),
        exporter=(exporter_ip[order] - 250).astype(np.int32),  # one of four routers
    )


def _mapped(addresses: np.ndarray) -> np.ndarray:
    """IPv4 addresses as integers to (n, 16) IPv4-mapped IPv6 bytes."""
    out = np.zeros((addresses.size, 16), dtype=np.uint8)
    out[:, 10:12] = 0xFF
    out[:, 12:] = addresses.astype(">u4").view(np.uint8).reshape(-1, 4)
    return out


# --- upstream CSV --------------------------------------------------------------------------


def _upstream_csv(rng: np.random.Generator, plan: _Plan, profile: UsageProfile) -> bytes:
    """The wholesale partner's file, in the columns of its profile: a few records a day
    per account over the whole period (it is named for the month it was delivered in)."""
    begin, end = plan.window
    acc = np.flatnonzero((plan.source == UPSTREAM_SRC) & (end > begin))
    header = (",".join(map(str, profile.columns().values())) + "\n").encode()
    if acc.size == 0:
        return header
    first_day = begin.min() // DAY * DAY
    days = int((end.max() - first_day + DAY - 1) // DAY)
    day_start = first_day + DAY * np.arange(days)
    active = (day_start[None, :] >= begin[acc][:, None]) & (day_start[None, :] < end[acc][:, None])
    pair_acc, pair_day = np.nonzero(active)
    records = 1 + np.minimum(rng.poisson(0.8, pair_acc.size), 3)
    pair = np.repeat(np.arange(pair_acc.size), records)
    weight = rng.exponential(1.0, pair.size)
    share = weight / np.bincount(pair, weights=weight)[pair]
    daily = 4e9 * rng.lognormal(0, 1.2, acc.size) / 30.44
    volume = daily[pair_acc][pair] * rng.lognormal(-0.125, 0.5, pair.size) * share
    online = rng.integers(1800, 10 * 3600, pair_acc.size)[pair] * share
    ts = day_start[pair_day[pair]] + rng.integers(0, DAY, pair.size)
    order = np.lexsort((pair_acc[pair], ts))
    stamps = np.datetime_as_string(ts[order].astype("datetime64[s]"), unit="s", timezone="UTC")
    table = pa.table(
        {
            "account_id": pa.array([plan.ids[i] for i in acc]).take(pair_acc[pair][order]),
            "timestamp": pa.array(stamps),
            "bytes_in": np.floor(volume * 0.85)[order].astype(np.uint64),
            "bytes_out": np.floor(volume * 0.15)[order].astype(np.uint64),
            "seconds": online[order].astype(np.uint64),
        }
    )
    out = io.BytesIO()
    out.write(header)
    pcsv.write_csv(table, out, pcsv.WriteOptions(include_header=False, quoting_style="none"))
    return out.getvalue()


def _import_upstream(settings: Settings, s: Session, progress: Callable[[str], None]) -> None:
    """Import the partner's file from the inbox, the way an operator would; `s` holds the
    accounts, not yet committed."""
    path = settings.root / "inbox" / UPSTREAM_FILE
    s.flush()
    result = import_usage(
        path,
        read_profile(UPSTREAM_PROFILE),
        raw_root=settings.raw,
        quarantine_dir=settings.quarantine,
        session=s,
    )
    done = "Imported" if result.landed_at is None else "Already imported"
    progress(f"{done} {result.landed:,} rows of the wholesale partner's {UPSTREAM_FILE}")
    if result.rejected:  # the demo writes good rows only: this is a bug
        progress(f"{len(result.rejected)} rows were quarantined in {result.quarantine}")


# --- landing and the summary ---------------------------------------------------------------


def _landed_rows(raw_root: Path, source: str, batches: set[str]) -> int:
    """Rows in the acknowledged batches of `batches`, from the Parquet footers."""
    present = landed_batches(source, raw_root) & batches
    files = (Path(raw_root) / source).glob("date=*/*.parquet")
    return sum(pq.read_metadata(f).num_rows for f in files if f.stem in present)


def _summary(settings: Settings, *, reused: bool) -> dict:
    """What the demo holds, read back from the store and the lake, so a re-run reports the
    same thing as the run that built it."""
    with session(settings.db_url) as s:
        in_demo = Account.realm_id.in_(REALMS)
        per_realm = dict(
            s.execute(
                select(Account.realm_id, func.count()).where(in_demo).group_by(Account.realm_id)
            ).all()
        )
        centres = s.scalar(
            select(func.count(func.distinct(Account.parent_id))).where(
                in_demo, Account.parent_id.is_not(None)
            )
        )
        subscriptions = s.scalar(
            select(func.count()).select_from(Subscription).join(Account).where(in_demo)
        )
        assignments = s.scalar(
            select(func.count()).select_from(IpAssignment).join(Account).where(in_demo)
        )
    raw = settings.raw
    rows = {}
    rows["radius"] = _landed_rows(raw, "radius", landed_batches("radius", raw))
    demo_days = {b for b in landed_batches("netflow", raw) if b.startswith("demo-netflow-")}
    rows["netflow"] = _landed_rows(raw, "netflow", demo_days)
    csv_path = settings.root / "inbox" / UPSTREAM_FILE
    csv_batch = (
        {usage_batch_id(csv_path.read_bytes(), read_profile(UPSTREAM_PROFILE))}
        if csv_path.exists()
        else set()
    )
    rows["upstream_csv"] = _landed_rows(raw, "upstream_csv", csv_batch)
    return {
        "accounts": {realm: per_realm.get(realm, 0) for realm in REALMS},
        "cost_centres": centres,
        "subscriptions": subscriptions,
        "ip_assignments": assignments,
        "rows": rows,
        "reused": reused,
    }
