"""Customers' portal logins: a portal password per account (argon2, apart from the RADIUS
password), sign-in with lockout, sessions that expire, and password reset by an e-mailed
link.

A customer signs in with its account's login (the account id) and its portal password.
Passwords are kept only as argon2 hashes, session tokens and reset links only as their
SHA-256 (jet.passwords). Every change and every sign-in attempt writes its audit entry
(actor: the customer, channel `portal`, unless staff set the password); a refused
sign-in is committed before it is raised, so the attempt stays recorded whatever the
caller does next. The refusal's message is the same whatever the reason, which only the
audit log holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import NoReturn

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from jet.accounts import get_account
from jet.audit import Actor, record
from jet.config import Settings
from jet.customer_access import Customer, customer
from jet.errors import JetError
from jet.ledger_documents import utc
from jet.passwords import (
    decoy,
    digest,
    failed,
    hasher,
    locked_until,
    new_token,
    still_open,
    succeeded,
    verify,
)
from jet.portal_mail import link, mail_customer
from jet.store.models import Account, PortalLogin, PortalSession, PortalToken

PASSWORD_MIN = 10
LOCK_AFTER = 5  # failed sign-ins in a row
LOCK_FOR = timedelta(minutes=15)
IDLE_FOR = timedelta(minutes=30)  # a session ends this long after its last use ...
LASTS_FOR = timedelta(hours=12)  # ... and this long after sign-in, whatever its use
SEEN_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often
RESET_LASTS = timedelta(hours=1)  # how long a reset link works
RESETS_PER_HOUR = 3  # reset links an account is sent in an hour; more are dropped


class PortalLoginRefused(JetError):
    """A sign-in refused, in words that tell a guesser nothing; the reason (unknown login,
    no portal password, closed, locked, wrong password) is in the audit log
    (`portal.sign_in_refused`)."""

    def __init__(self) -> None:
        super().__init__(
            "sign-in refused: check your login and portal password (not the one your router "
            f"uses); after {LOCK_AFTER} failures in a row the login is locked for "
            f"{int(LOCK_FOR.total_seconds() // 60)} minutes. Forgot it? Ask for a reset link."
        )


class PortalPasswordError(JetError, ValueError):
    """A portal password or reset link that cannot be used; the message says what to do."""


def set_portal_password(s: Session, actor: Actor, account_id: str, password: str) -> None:
    """Give `account_id` a portal password (staff, a reset link, or the customer itself);
    its open sessions end and a lockout is lifted."""
    account = get_account(s, account_id)
    check_password(password)
    keep_password_hash(s, actor, account.id, hasher.hash(password))


def keep_password_hash(s: Session, actor: Actor, account_id: str, password_hash: str) -> None:
    """Make `password_hash` (argon2, of a password `check_password` let through) the portal
    password of `account_id`; its sessions end and a lockout is lifted. A sign-up keeps
    only the hash until its account exists (jet.signup)."""
    account = get_account(s, account_id)
    login = s.get(PortalLogin, account.id)
    had = login is not None
    if login is None:
        login = PortalLogin(account_id=account.id, created_at=datetime.now(UTC))
        s.add(login)
    login.password_hash = password_hash
    login.failed_attempts, login.locked_until = 0, None
    ended = s.execute(
        update(PortalSession)
        .where(PortalSession.account_id == account.id, PortalSession.ended_at.is_(None))
        .values(ended_at=datetime.now(UTC))
    ).rowcount
    record(
        s,
        actor,
        "portal.password_changed",
        "account",
        account.id,
        account_id=account.id,
        before={"portal_password": "set" if had else "none"},
        after={"portal_password": "set", "sessions_ended": ended},
    )


def check_password(password: str) -> None:
    """Refuse a portal password too short to be one."""
    if len(password or "") < PASSWORD_MIN:
        raise PortalPasswordError(
            f"the password has {len(password or '')} characters; give at least "
            f"{PASSWORD_MIN} (a few words are easy to type and hard to guess)"
        )


def portal_sign_in(s: Session, login: str, password: str, now: datetime | None = None) -> str:
    """A new portal session of the account `login`: its token, to keep in the browser
    session only. Refused (`PortalLoginRefused`, audited with the reason) for an unknown
    login, one without a portal password, a closed account, a locked login or a wrong
    password; `LOCK_AFTER` failures in a row lock it for `LOCK_FOR`."""
    now = now or datetime.now(UTC)
    typed = (login or "").strip()[:64]
    account = s.get(Account, typed) if typed else None
    row = s.get(PortalLogin, account.id) if account else None
    good_password = verify(row.password_hash if row else decoy(), password)
    if account is None:
        _refuse(s, typed, None, "unknown login")
    if row is None:
        _refuse(s, account.id, account.id, "no portal password")
    if account.status == "closed":
        _refuse(s, account.id, account.id, "closed")
    if until := locked_until(row, now):
        _refuse(s, account.id, account.id, "locked", locked_until=until)
    if not good_password:
        attempts, until = failed(row, now, LOCK_AFTER, LOCK_FOR)
        _refuse(
            s,
            account.id,
            account.id,
            "wrong password",
            failed_attempts=attempts,
            locked_until=until,
        )
    succeeded(row, password, now)
    token = new_token()
    s.add(
        PortalSession(
            token_sha256=digest(token), account_id=account.id, created_at=now, last_seen_at=now
        )
    )
    record(
        s, Actor(account.id, "portal"), "portal.signed_in", "account", account.id,
        account_id=account.id,
    )  # fmt: skip
    return token


def customer_of(s: Session, token: str, now: datetime | None = None) -> Customer | None:
    """The customer a session token belongs to, or None when it is unknown, ended, expired
    (`IDLE_FOR` after its last use, `LASTS_FOR` after sign-in) or its account is closed.
    A use moves its idle expiry on."""
    now = now or datetime.now(UTC)
    row = s.get(PortalSession, digest(token)) if token else None
    if row is None or row.ended_at is not None:
        return None
    account = s.get(Account, row.account_id)
    if account is None or account.status == "closed":
        return None
    if not still_open(row, now, IDLE_FOR, LASTS_FOR, SEEN_EVERY):
        return None
    return customer(s, account.id)


def portal_sign_out(s: Session, token: str) -> None:
    """End the session of `token` (nothing if it is unknown or ended already)."""
    row = s.get(PortalSession, digest(token)) if token else None
    if row is None or row.ended_at is not None:
        return
    row.ended_at = datetime.now(UTC)
    record(
        s, Actor(row.account_id, "portal"), "portal.signed_out", "account", row.account_id,
        account_id=row.account_id,
    )  # fmt: skip


def request_password_reset(s: Session, settings: Settings, login: str, base_url: str) -> None:
    """E-mail `login`'s address a link, `base_url?reset=TOKEN`, that sets a new portal
    password within `RESET_LASTS` (an account without one gets its first this way).
    Silent, whatever happens, for a login that is unknown, closed or has no e-mail
    address, and past `RESETS_PER_HOUR`: the page says the same in every case, and the
    audit log why."""
    typed = (login or "").strip()[:64]
    account = s.get(Account, typed) if typed else None
    now = datetime.now(UTC)
    why = None
    if account is None:
        why = "unknown login"
    elif account.status == "closed":
        why = "closed"
    elif not account.email:
        why = "no e-mail address"
    elif _resets_since(s, account.id, now - timedelta(hours=1)) >= RESETS_PER_HOUR:
        why = f"more than {RESETS_PER_HOUR} in an hour"
    actor = Actor(typed or "-", "portal")
    if why is not None:
        record(
            s, actor, "portal.reset_refused", "account", typed or "-",
            account_id=account and account.id, after={"reason": why},
        )  # fmt: skip
        return
    token = new_token()
    s.add(
        PortalToken(
            token_sha256=digest(token),
            purpose="reset",
            account_id=account.id,
            created_at=now,
            expires_at=now + RESET_LASTS,
        )
    )
    record(s, actor, "portal.reset_sent", "account", account.id, account_id=account.id)
    minutes = int(RESET_LASTS.total_seconds() // 60)
    mail_customer(
        settings,
        s,
        account.realm_id,
        account.email,
        "Set your portal password",
        f"Dear {account.name},\n\nTo set a new password for the portal (login {account.id}), "
        f"open this link within {minutes} minutes:\n\n{link(base_url, 'reset', token)}\n\n"
        "If you did not ask for it, ignore this message: your password stays as it is.",
    )


def reset_password(s: Session, token: str, password: str) -> str:
    """Set the portal password through an e-mailed reset link (once, before it expires);
    the account's id. Its other reset links stop working and its sessions end."""
    now = datetime.now(UTC)
    row = s.get(PortalToken, digest(token)) if token else None
    if (
        row is None
        or row.purpose != "reset"
        or row.used_at is not None
        or utc(row.expires_at) <= now
    ):
        raise PortalPasswordError(
            "this link is unknown, used already or expired: ask for a new one "
            "(links work once, for an hour)"
        )
    check_password(password)
    s.execute(
        update(PortalToken)
        .where(PortalToken.account_id == row.account_id, PortalToken.used_at.is_(None))
        .values(used_at=now)
    )
    set_portal_password(s, Actor(row.account_id, "portal"), row.account_id, password)
    return row.account_id


def _resets_since(s: Session, account_id: str, since: datetime) -> int:
    return s.scalar(
        select(func.count()).where(
            PortalToken.account_id == account_id,
            PortalToken.purpose == "reset",
            PortalToken.created_at >= since,
        )
    )


def _refuse(s: Session, login: str, account_id: str | None, reason: str, **more) -> NoReturn:
    record(
        s,
        Actor(login or "-", "portal"),
        "portal.sign_in_refused",
        "account",
        login or "-",
        account_id=account_id,
        after={"reason": reason, **{k: v for k, v in more.items() if v is not None}},
    )
    s.commit()
    raise PortalLoginRefused()
