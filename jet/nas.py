"""NAS clients: the routers, BRAS and hotspot controllers allowed to send RADIUS to Jet.

A NAS is known by the source address of its packets, which it signs with a secret shared
with Jet; its realm says whose customers it serves. Jet sends it Disconnect and CoA
requests on its CoA port (3799 unless told otherwise), signed with the same secret."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from jet.errors import JetError
from jet.store.db import session
from jet.store.models import NasClient, Realm

MAX_SECRET = 128
COA_PORT = 3799  # RFC 5176 section 3


class NasError(JetError, ValueError):
    """A NAS client that cannot be added or removed as asked; nothing was changed."""


def parse_address(text: str) -> str:
    """The canonical dotted form of an IPv4 address, or a NasError saying what is wrong."""
    try:
        return str(ipaddress.IPv4Address(text.strip()))
    except ValueError:
        raise NasError(
            f"{text!r} is not an IPv4 address: give the address the NAS sends RADIUS "
            "from, like 10.0.0.1"
        ) from None


def add_nas_client(
    session: Session,
    address: str,
    secret: str,
    realm_id: str,
    name: str | None = None,
    coa_port: int = COA_PORT,
) -> NasClient:
    """Allow RADIUS from `address`, signed with `secret`, for the realm `realm_id`; send
    it Disconnect and CoA requests on `coa_port`."""
    address = parse_address(address)
    if not 1 <= coa_port <= 65535:
        raise NasError(f"the CoA port {coa_port} is not a UDP port: give one from 1 to 65535")
    if not secret:
        raise NasError("the secret is empty: give the one configured on the NAS")
    if len(secret.encode()) > MAX_SECRET:
        raise NasError(f"the secret is longer than {MAX_SECRET} bytes")
    if session.get(Realm, realm_id) is None:
        known = ", ".join(session.scalars(select(Realm.id).order_by(Realm.id))) or "none yet"
        raise NasError(
            f"unknown realm {realm_id!r} (known: {known}); load its catalog first with "
            "`jet catalog load`"
        )
    existing = session.scalar(select(NasClient).where(NasClient.address == address))
    if existing is not None:
        raise NasError(
            f"NAS {address} already exists (realm {existing.realm_id}); remove it first "
            f"with `jet nas remove {address}` to change it"
        )
    client = NasClient(
        address=address,
        secret=secret,
        realm_id=realm_id,
        name=name,
        created_at=datetime.now(UTC),
        coa_port=coa_port,
    )
    session.add(client)
    session.flush()
    return client


def remove_nas_client(session: Session, address: str) -> NasClient:
    """Stop accepting RADIUS from `address`; return the client that was removed."""
    address = parse_address(address)
    client = session.scalar(select(NasClient).where(NasClient.address == address))
    if client is None:
        raise NasError(f"no NAS with address {address}; `jet nas list` shows them")
    session.delete(client)
    return client


def nas_clients(session: Session) -> list[NasClient]:
    """Every NAS client, in address order."""
    clients = session.scalars(select(NasClient))
    return sorted(clients, key=lambda c: ipaddress.IPv4Address(c.address))


def client_secrets(db_url: str) -> dict[str, bytes]:
    """Each NAS address and its secret, as the RADIUS server checks packets with them."""
    with session(db_url) as s:
        return {client.address: client.secret.encode() for client in nas_clients(s)}
