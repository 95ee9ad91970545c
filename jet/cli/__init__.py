"""`jet`: the command line of Jet's operators and analysts.

Each command group lives in a module of its own (`jet nas` in `jet.cli.nas`, ...); this
one holds the root group and adds them to it."""

from __future__ import annotations

import click

from jet.cli import (
    account,
    billing,
    catalog,
    db,
    demo,
    imports,
    invoice,
    ip,
    nas,
    netflow,
    quality,
    radius,
    realm,
    sql,
)


@click.group()
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
    sql.sql,
    quality.quality,
    invoice.invoice,
    nas.nas,
    account.account,
    realm.realm,
    radius.radius,
    ip.ip,
    netflow.netflow,
):
    main.add_command(command)
