"""Remote realms: realms whose logins another RADIUS server, their home server, decides.

Jet forwards their Access-Requests there and relays the answers to the NAS, and copies
their accounting there besides landing it (`ingest.radius.proxy`). A home server is
operational configuration with a secret, like a NAS client, so it lives in the store
beside them (`jet realm remote add`), not in the versioned catalog.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from jet.errors import JetError
from jet.nas import MAX_SECRET
from jet.store.models import RemoteRealm

AUTH_PORT = 1812
TIMEOUT = 2.0  # seconds before a request is sent again
RETRIES = 2  # times it is sent again before Jet gives up
MAX_TIMEOUT = 60.0
MAX_RETRIES = 10
# The part of a User-Name after "@": a domain-like name, compared in lower case.
_REALM = re.compile(r"[a-z0-9]([a-z0-9_.-]{0,251}[a-z0-9])?")


class RemoteRealmError(JetError, ValueError):
    """A remote realm that cannot be added or removed as asked; nothing was changed."""


@dataclass(frozen=True, slots=True)
class HomeServer:
    """Where the RADIUS server sends a remote realm's requests, and how patiently."""

    realm: str
    address: str
    auth_port: int
    acct_port: int | None
    secret: bytes
    timeout: float
    retries: int


def parse_realm(text: str) -> str:
    """The realm as User-Names end in it (after "@"), in lower case."""
    realm = text.strip().lower()
    if not _REALM.fullmatch(realm):
        raise RemoteRealmError(
            f"{text!r} is not a realm name: give what follows '@' in its users' names, "
            "like partner.example (letters, digits, '.', '-' and '_')"
        )
    return realm


def parse_server(text: str) -> tuple[str, int]:
    """(address, port) of `ADDRESS[:PORT]`, an IPv4 address and the port (1812 if none)."""
    host, colon, port = text.strip().partition(":")
    try:
        address = str(ipaddress.IPv4Address(host))
        number = int(port) if colon else AUTH_PORT
        if not 1 <= number <= 65535:
            raise ValueError(number)
    except ValueError:
        raise RemoteRealmError(
            f"{text!r} is not a RADIUS server: give its IPv4 address and authentication "
            "port, like 192.0.2.10:1812"
        ) from None
    return address, number


def add_remote_realm(
    session: Session,
    realm: str,
    server: str,
    secret: str,
    *,
    acct_port: int | None = None,
    timeout: float = TIMEOUT,
    retries: int = RETRIES,
) -> RemoteRealm:
    """Send the logins of `realm` to the RADIUS server `server` (ADDRESS[:PORT]), signed
    with `secret`, and copy its accounting to `acct_port` of that address if given."""
    realm = parse_realm(realm)
    address, auth_port = parse_server(server)
    if acct_port is not None and not 1 <= acct_port <= 65535:
        raise RemoteRealmError(f"the accounting port {acct_port} is not from 1 to 65535")
    if not secret:
        raise RemoteRealmError("the secret is empty: give the one the home server expects")
    if len(secret.encode()) > MAX_SECRET:
        raise RemoteRealmError(f"the secret is longer than {MAX_SECRET} bytes")
    if not 0 < timeout <= MAX_TIMEOUT:
        raise RemoteRealmError(f"the timeout is {timeout} s: give seconds above 0, at most 60")
    if not 0 <= retries <= MAX_RETRIES:
        raise RemoteRealmError(f"retries is {retries}: give 0 to {MAX_RETRIES}")
    existing = session.scalar(select(RemoteRealm).where(RemoteRealm.realm == realm))
    if existing is not None:
        raise RemoteRealmError(
            f"realm {realm} is already remote ({existing.address}:{existing.auth_port}); "
            f"remove it first with `jet realm remote remove {realm}` to change it"
        )
    remote = RemoteRealm(
        realm=realm,
        address=address,
        auth_port=auth_port,
        acct_port=acct_port,
        secret=secret,
        timeout=timeout,
        retries=retries,
        created_at=datetime.now(UTC),
    )
    session.add(remote)
    session.flush()
    return remote


def remove_remote_realm(session: Session, realm: str) -> RemoteRealm:
    """Decide the logins of `realm` in Jet again; return what was removed."""
    realm = parse_realm(realm)
    remote = session.scalar(select(RemoteRealm).where(RemoteRealm.realm == realm))
    if remote is None:
        raise RemoteRealmError(f"realm {realm} is not remote; `jet realm remote list` shows them")
    session.delete(remote)
    return remote


def remote_realms(session: Session) -> list[RemoteRealm]:
    """Every remote realm, by name."""
    return list(session.scalars(select(RemoteRealm).order_by(RemoteRealm.realm)))


def home_servers(session: Session) -> dict[str, HomeServer]:
    """Each remote realm's home server, by realm, as the RADIUS server reads them."""
    return {
        r.realm: HomeServer(
            r.realm, r.address, r.auth_port, r.acct_port, r.secret.encode(), r.timeout, r.retries
        )
        for r in remote_realms(session)
    }
