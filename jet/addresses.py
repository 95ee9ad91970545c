"""IP networks as Jet stores and compares them: text in the store, 16-byte ranges in SQL.

Every address is compared as IPv6 in network order, IPv4 as ``::ffff:a.b.c.d`` (RFC 4291
2.5.5.2), so one BLOB range join attributes both families and ``between`` on bytes is
numeric order. Prefix lengths are in IPv6 terms too (an IPv4 /24 is /120), so the
longest prefix wins across both.
"""

from __future__ import annotations

import ipaddress

from sqlalchemy import select
from sqlalchemy.orm import Session

from jet.errors import JetError
from jet.store.models import Account, IpAssignment

_MAPPED = 96  # bits before an IPv4-mapped address


class AddressError(JetError, ValueError):
    """Text that is not an IP network Jet can assign."""


def parse_network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """`text` as a network (a bare address is a /32 or /128); a clear error otherwise."""
    try:
        return ipaddress.ip_network(text.strip(), strict=True)
    except ValueError as err:
        raise AddressError(
            f"{text!r} is not an IP network: {err} (write it as 192.0.2.8/29, "
            "2001:db8:10::/48 or a single address)"
        ) from None


def network_range(text: str) -> tuple[bytes, bytes, int]:
    """First and last address of `text` as 16 bytes each, and its IPv6 prefix length."""
    net = parse_network(text)
    if net.version == 4:
        first = ipaddress.IPv6Address(f"::ffff:{net.network_address}")
        last = ipaddress.IPv6Address(f"::ffff:{net.broadcast_address}")
        return first.packed, last.packed, _MAPPED + net.prefixlen
    return net.network_address.packed, net.broadcast_address.packed, net.prefixlen


def assign(session: Session, account_id: str, text: str) -> IpAssignment:
    """Give `account_id` the network `text`; a network belongs to one account at a time."""
    network = str(parse_network(text))
    if session.get(Account, account_id) is None:
        raise AddressError(f"no account {account_id!r}; `jet account list` shows them")
    owner = session.scalar(select(IpAssignment).where(IpAssignment.network == network))
    if owner is not None:
        raise AddressError(
            f"{network} is already assigned to {owner.account_id}; "
            f"`jet ip unassign {network}` first"
        )
    assignment = IpAssignment(account_id=account_id, network=network)
    session.add(assignment)
    session.flush()
    return assignment


def unassign(session: Session, text: str) -> IpAssignment:
    network = str(parse_network(text))
    assignment = session.scalar(select(IpAssignment).where(IpAssignment.network == network))
    if assignment is None:
        raise AddressError(f"{network} is not assigned to any account; `jet ip list` shows them")
    session.delete(assignment)
    return assignment


def assignments(session: Session, account_id: str | None = None) -> list[IpAssignment]:
    query = select(IpAssignment).order_by(IpAssignment.account_id, IpAssignment.network)
    if account_id is not None:
        query = query.where(IpAssignment.account_id == account_id)
    return list(session.scalars(query))
