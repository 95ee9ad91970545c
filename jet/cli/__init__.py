"""`jet`: the command line of Jet's operators and analysts.

Each command group lives in a module of its own (`jet nas` in `jet.cli.nas`, ...); this
one holds the root group and adds them to it."""

from __future__ import annotations

from typing import Any

import click

from jet.cli import (
    account,
    audit,
    billing,
    card,
    catalog,
    collect,
    console,
    db,
    demo,
    docs,
    dunning,
    events,
    hooks,
    imports,
    invoice,
    ip,
    mandate,
    nas,
    netflow,
    payment,
    portal,
    portal_serve,
    quality,
    radius,
    realm,
    report,
    sql,
    staff,
    subscription,
)
from jet.cli.common import fail
from jet.errors import JetError


class _JetGroup(click.Group):
    """The root group: a JetError from any command, however deep, ends `jet` with its
    message on stderr and exit code 1 (`fail`), so commands need not catch them."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except JetError as err:
            fail(str(err))


@click.group(cls=_JetGroup)
def main() -> None:
    """Jet: billing for internet service providers and wi-fi hotspot operators."""


for command in (
    db.db,
    catalog.catalog,
    imports.import_,
    billing.simulate,
    billing.bill,
    billing.rate,
    demo.demo,
    docs.docs,
    sql.sql,
    report.report,
    quality.quality,
    invoice.invoice,
    nas.nas,
    account.account,
    subscription.subscription,
    audit.audit,
    realm.realm,
    radius.radius,
    ip.ip,
    netflow.netflow,
    events.events,
    hooks.hooks,
    payment.payment,
    dunning.dunning,
    mandate.mandate,
    collect.collect,
    card.card,
    console.console,
    staff.staff,
    portal.portal,
):
    main.add_command(command)
imports.import_.add_command(collect.import_bank_statement)
portal.portal.add_command(portal_serve.serve)
payment.payment.add_command(collect.payment_unmatched)
payment.payment.add_command(collect.payment_assign)
