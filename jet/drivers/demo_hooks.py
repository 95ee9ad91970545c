"""The demo's provisioning hooks (docs/hooks.md): Acme mirrors its accounts into a CRM's
SQLite table (an `sql` hook) and e-mails a notice to each account dunning suspends (an
`smtp` hook, to the demo's mail server), delivered as `jet events dispatch` does."""

from __future__ import annotations

import sqlite3
from collections import Counter

from jet.config import Settings
from jet.deliveries import Delivered, dispatch
from jet.drivers.demo_mail import mailing
from jet.provisioning.hook_subscribers import hook_subscribers

HOOKS = """\
# Acme's provisioning hooks (docs/hooks.md), written by `jet demo`.
hooks:
  - name: crm-mirror
    events: [account.created, account.updated, account.suspended, account.reactivated,
             account.closed, plan.changed]
    action: sql
    url: "sqlite:///{crm}"
    statement: >
      insert into customers (login, name, email, status, plan)
      values (:login, :name, :email, :status, :plan)
      on conflict (login) do update set name = excluded.name, email = excluded.email,
      status = excluded.status, plan = excluded.plan
    parameters:
      login: "{{ account.id }}"
      name: "{{ account.name }}"
      email: "{{ account.email or '' }}"
      status: "{{ account.status }}"
      plan: "{{ account.plan or '' }}"
  - name: suspended
    events: [account.suspended]
    action: smtp
    subject: "Your Acme service is suspended"
    body: |
      Hello {{ account.name }},

      your Acme internet service ({{ account.id }}) is suspended: {{ account.radius.refused }}.
      Pay what is overdue and it comes back within minutes.
"""


def provision(settings: Settings) -> Counter[str]:
    """Write Acme's hooks and the CRM's table, deliver every hook's events; how many each
    hook delivered."""
    hooks = settings.root / "hooks"
    hooks.mkdir(exist_ok=True)
    crm = settings.root / "provisioning" / "crm.db"
    (hooks / "acme.yaml").write_text(HOOKS.replace("{crm}", str(crm)))
    crm.parent.mkdir(exist_ok=True)
    with sqlite3.connect(crm) as con:
        con.execute(
            "create table if not exists customers (login text primary key, name text, "
            "email text, status text, plan text)"
        )
    with mailing(settings) as (local, _):
        done = dispatch(local, hook_subscribers(local))
    acted = [r for r in done if isinstance(r.result, Delivered) and not r.result.refused]
    return Counter(r.subscriber for r in acted if "passed over" not in r.result.outcome)
