"""Passwords and tokens as the store keeps them: passwords only as argon2 hashes, tokens
(sessions, e-mailed links) only as their SHA-256, so a copy of the store signs no one in;
and the rules of a login row (failures in a row lock it) and of a session row (it ends
when idle or old). Shared by staff (jet.staff) and customers (jet.portal_logins)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from functools import cache
from typing import Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from jet.ledger_documents import utc

hasher = PasswordHasher()


def verify(password_hash: str, password: str) -> bool:
    """Whether `password` is the one `password_hash` was made from."""
    try:
        return hasher.verify(password_hash, password or "")
    except (VerificationError, InvalidHashError):
        return False


@cache
def decoy() -> str:
    """A hash to check unknown logins against, as long to verify as a real one, so that
    the time a refusal takes does not say which logins exist."""
    return hasher.hash(secrets.token_urlsafe(16))


def new_token() -> str:
    """A fresh random token, for a session or a link."""
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    """What the store keeps of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


class Login(Protocol):
    """A row someone signs in with (a staff member, a customer's portal login)."""

    password_hash: str
    failed_attempts: int
    locked_until: datetime | None
    last_login_at: datetime | None


class SessionRow(Protocol):
    """A row of a signed-in session."""

    created_at: datetime
    last_seen_at: datetime
    ended_at: datetime | None


def locked_until(login: Login, now: datetime) -> datetime | None:
    """When `login`'s lockout ends, if it has not yet."""
    until = login.locked_until and utc(login.locked_until)
    return until if until and until > now else None


def failed(
    login: Login, now: datetime, lock_after: int, lock_for: timedelta
) -> tuple[int, datetime | None]:
    """Count a failed sign-in of an unlocked login: the failures in a row, and the end of
    the lock the `lock_after`th starts (the count then starts again)."""
    login.failed_attempts += 1
    attempts, until = login.failed_attempts, None
    if attempts >= lock_after:
        until = login.locked_until = now + lock_for
        login.failed_attempts = 0
    return attempts, until


def succeeded(login: Login, password: str, now: datetime) -> None:
    """A sign-in with the right password: the failures are forgotten, and the hash made
    again if argon2's parameters have grown since."""
    if hasher.check_needs_rehash(login.password_hash):
        login.password_hash = hasher.hash(password)
    login.failed_attempts, login.locked_until, login.last_login_at = 0, None, now


def still_open(
    row: SessionRow, now: datetime, idle_for: timedelta, lasts_for: timedelta, seen_every: timedelta
) -> bool:
    """Whether a session is open at `now`: not ended, used within `idle_for`, begun within
    `lasts_for`. One found expired is ended; a use moves `last_seen_at` on, at most every
    `seen_every` (a page reruns on every click, and a write each time would make
    SQLite's one writer the bottleneck)."""
    if row.ended_at is not None:
        return False
    seen = utc(row.last_seen_at)
    if now - seen > idle_for or now - utc(row.created_at) > lasts_for:
        row.ended_at = now
        return False
    if now - seen >= seen_every:
        row.last_seen_at = now
    return True
