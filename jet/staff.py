"""Staff members of the console: who they are, their role and realms (jet.roles), their
passwords and TOTP, lockouts, and their console sessions.

Passwords are kept only as argon2 hashes and session tokens only as their SHA-256, so a
copy of the store signs no one in. Every change, and every sign-in attempt, writes its
audit entry in the same transaction; a refused sign-in is committed before it is raised
(as `jet.roles.check` does), so the attempt stays recorded whatever the caller does next.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime, timedelta
from typing import NoReturn

import pyotp
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from jet.audit import Actor, record
from jet.customer_fields import FieldError
from jet.customer_fields import email as checked_email
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
from jet.roles import ROLES, Staff
from jet.store.models import Realm, StaffMember, StaffSession

PASSWORD_MIN = 12
LOCK_AFTER = 5  # failed sign-ins in a row
LOCK_FOR = timedelta(minutes=15)
IDLE_FOR = timedelta(hours=8)  # a session ends this long after its last use ...
LASTS_FOR = timedelta(hours=12)  # ... and this long after sign-in, whatever its use
SEEN_EVERY = timedelta(minutes=1)
TOTP_ISSUER = "Jet"


class StaffError(JetError, ValueError):
    """A staff change that cannot be made as asked; the message says what to do."""


class LoginRefused(JetError):
    """A sign-in refused. The message is the same whatever the reason (unknown e-mail,
    wrong password or TOTP code, disabled, locked), so it tells a guesser nothing; the
    reason is in the audit log (`staff.sign_in_refused`)."""

    def __init__(self) -> None:
        super().__init__(
            "sign-in refused: check your e-mail, password and TOTP code; after "
            f"{LOCK_AFTER} failures in a row the login is locked for "
            f"{int(LOCK_FOR.total_seconds() // 60)} minutes. Ask an admin if it stays refused."
        )


def add_staff(
    s: Session,
    actor: Actor,
    email: str,
    role: str,
    *,
    realms: list[str] | None,
    password: str,
    name: str = "",
) -> Staff:
    """Add a staff member with `role` in `realms` (None: every realm, present and future)."""
    email = _email(email)
    if role not in ROLES:
        raise StaffError(f"role {role!r} is not one of {', '.join(ROLES)}")
    realms = _known_realms(s, realms)
    _check_password(password)
    if s.scalar(select(StaffMember.id).where(StaffMember.email == email)) is not None:
        raise StaffError(
            f"{email} is already a staff member; see `jet staff list`, or "
            f"`jet staff enable {email}` if they were disabled"
        )
    member = StaffMember(
        email=email,
        name=name.strip() or email,
        role=role,
        realms=realms,
        password_hash=hasher.hash(password),
        disabled=False,
        failed_attempts=0,
        created_at=datetime.now(UTC),
    )
    s.add(member)
    record(
        s,
        actor,
        "staff.added",
        "staff",
        email,
        after={"name": member.name, "role": role, "realms": _realms_text(realms)},
    )
    s.flush()
    return _staff(member)


def list_staff(s: Session) -> list[dict]:
    """Every staff member, by e-mail: what `jet staff list` and the console show
    (`locked_until` only while the lock lasts)."""
    now = datetime.now(UTC)
    return [
        {
            "email": m.email,
            "name": m.name,
            "role": m.role,
            "realms": m.realms,
            "disabled": m.disabled,
            "totp": m.totp_secret is not None,
            "last_login": m.last_login_at and utc(m.last_login_at),
            "locked_until": locked_until(m, now),
        }
        for m in s.scalars(select(StaffMember).order_by(StaffMember.email))
    ]


def disable_staff(s: Session, actor: Actor, email: str) -> None:
    """Stop `email` signing in, and end their open sessions at once."""
    member = _member(s, email)
    if member.disabled:
        return
    member.disabled = True
    ended = _end_sessions(s, member)
    record(
        s,
        actor,
        "staff.disabled",
        "staff",
        member.email,
        before={"disabled": False},
        after={"disabled": True, "sessions_ended": ended},
    )


def enable_staff(s: Session, actor: Actor, email: str) -> None:
    """Let `email` sign in again; this also lifts a lockout and its failure count."""
    member = _member(s, email)
    if not member.disabled and member.locked_until is None and not member.failed_attempts:
        return
    before = {"disabled": member.disabled, "locked_until": member.locked_until}
    member.disabled, member.failed_attempts, member.locked_until = False, 0, None
    record(
        s,
        actor,
        "staff.enabled",
        "staff",
        member.email,
        before=before,
        after={"disabled": False, "locked_until": None},
    )


def set_staff_password(s: Session, actor: Actor, email: str, password: str) -> None:
    """Give `email` a new password; their open sessions end and a lockout is lifted."""
    member = _member(s, email)
    _check_password(password)
    member.password_hash = hasher.hash(password)
    member.failed_attempts, member.locked_until = 0, None
    ended = _end_sessions(s, member)
    record(
        s,
        actor,
        "staff.password_changed",
        "staff",
        member.email,
        after={"password": "set", "sessions_ended": ended},
    )


def enable_totp(s: Session, actor: Actor, email: str) -> str:
    """Require a TOTP code at `email`'s sign-ins from now on, under a new secret; return
    the otpauth:// URI to show once (as a QR code or text) for their authenticator app."""
    member = _member(s, email)
    had = member.totp_secret is not None
    member.totp_secret, member.totp_last_step = pyotp.random_base32(), None
    record(
        s,
        actor,
        "staff.totp_enabled",
        "staff",
        member.email,
        before={"totp": "on" if had else "off"},
        after={"totp": "on, new secret"},
    )
    return pyotp.TOTP(member.totp_secret).provisioning_uri(
        name=member.email, issuer_name=TOTP_ISSUER
    )


def sign_in(
    s: Session, email: str, password: str, totp: str | None = None, now: datetime | None = None
) -> str:
    """A new console session of `email`: its token, to keep in the browser session only.

    Refused (`LoginRefused`, audited with the reason) for an unknown e-mail, a disabled or
    locked login, a wrong password, or a missing or wrong TOTP code once TOTP is on.
    `LOCK_AFTER` failures in a row lock the login for `LOCK_FOR`, during which even the
    right password is refused; a success resets the count."""
    now = now or datetime.now(UTC)
    typed = (email or "").strip().lower()
    member = s.scalar(select(StaffMember).where(StaffMember.email == typed))
    # The hash is checked whatever else is wrong, so that the time taken does not say
    # which e-mails are staff.
    good_password = verify(member.password_hash if member else decoy(), password)
    if member is None:
        _refuse(s, typed, "unknown e-mail")
    if member.disabled:
        _refuse(s, member.email, "disabled")
    if until := locked_until(member, now):
        _refuse(s, member.email, "locked", locked_until=until)
    if not good_password:
        _failed(s, member, "wrong password", now)
    if member.totp_secret is not None:
        if not totp:
            _failed(s, member, "no TOTP code", now)
        step = _totp_step(member.totp_secret, totp, now)
        if step is None:
            _failed(s, member, "wrong TOTP code", now)
        if member.totp_last_step is not None and step <= member.totp_last_step:
            _failed(s, member, "TOTP code used already", now)
        member.totp_last_step = step
    succeeded(member, password, now)
    token = new_token()
    s.add(
        StaffSession(
            token_sha256=digest(token), staff_id=member.id, created_at=now, last_seen_at=now
        )
    )
    record(s, Actor(member.email, "console"), "staff.signed_in", "staff", member.email)
    return token


def staff_of(s: Session, token: str, now: datetime | None = None) -> Staff | None:
    """The staff member a session token belongs to, or None when it is unknown, ended,
    expired (`IDLE_FOR` after its last use, `LASTS_FOR` after sign-in) or its member is
    disabled. A use moves its idle expiry on."""
    now = now or datetime.now(UTC)
    row = s.get(StaffSession, digest(token)) if token else None
    if row is None or row.ended_at is not None:
        return None
    member = s.get(StaffMember, row.staff_id)
    if member is None or member.disabled:
        return None
    if not still_open(row, now, IDLE_FOR, LASTS_FOR, SEEN_EVERY):
        return None
    return _staff(member)


def sign_out(s: Session, token: str) -> None:
    """End the session of `token` (nothing if it is unknown or ended already)."""
    row = s.get(StaffSession, digest(token)) if token else None
    if row is None or row.ended_at is not None:
        return
    row.ended_at = datetime.now(UTC)
    member = s.get(StaffMember, row.staff_id)
    record(s, Actor(member.email, "console"), "staff.signed_out", "staff", member.email)


def _failed(s: Session, member: StaffMember, reason: str, now: datetime) -> NoReturn:
    """Count a failure of a known, unlocked login; the `LOCK_AFTER`th in a row locks it
    (and the count starts again for after the lock)."""
    attempts, until = failed(member, now, LOCK_AFTER, LOCK_FOR)
    _refuse(s, member.email, reason, failed_attempts=attempts, locked_until=until)


def _refuse(s: Session, email: str, reason: str, **more) -> NoReturn:
    email = email[:200]  # what was typed, as long as the audit log's column allows
    record(
        s,
        Actor(email or "-", "console"),
        "staff.sign_in_refused",
        "staff",
        email or "-",
        after={"reason": reason, **{k: v for k, v in more.items() if v is not None}},
    )
    s.commit()
    raise LoginRefused()


def _totp_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step whose code `code` is: now's or one either side (clock drift).

    Spaces are dropped (apps show "123 456"); the comparison is of bytes, as
    `hmac.compare_digest` raises on a str with a non-ASCII character in it."""
    totp, typed = pyotp.TOTP(secret), "".join(code.split()).encode()
    for offset in (0, -1, 1):
        if hmac.compare_digest(totp.at(now, counter_offset=offset).encode(), typed):
            return totp.timecode(now) + offset
    return None


def _end_sessions(s: Session, member: StaffMember) -> int:
    """End `member`'s open sessions; how many there were."""
    return s.execute(
        update(StaffSession)
        .where(StaffSession.staff_id == member.id, StaffSession.ended_at.is_(None))
        .values(ended_at=datetime.now(UTC))
    ).rowcount


def _member(s: Session, email: str) -> StaffMember:
    typed = (email or "").strip().lower()
    member = s.scalar(select(StaffMember).where(StaffMember.email == typed))
    if member is None:
        raise StaffError(f"no staff member {typed!r}; see `jet staff list`")
    return member


def _email(value: str) -> str:
    try:
        checked = checked_email(value)
    except FieldError as err:
        raise StaffError(str(err)) from None
    if checked is None:
        raise StaffError("give the staff member's e-mail address: they sign in with it")
    return checked.lower()


def _known_realms(s: Session, realms: list[str] | None) -> list[str] | None:
    """`realms` sorted, each a realm of the store; None (every realm) stays None."""
    if realms is None:
        return None
    wanted = sorted({r.strip() for r in realms})
    if not wanted:
        raise StaffError("give at least one realm, or every realm (--all-realms)")
    known = set(s.scalars(select(Realm.id)))
    unknown = [r for r in wanted if r not in known]
    if unknown:
        raise StaffError(
            f"no realm {', '.join(map(repr, unknown))}; the realms are "
            f"{', '.join(sorted(known)) or 'none yet'} (a realm is added by loading its "
            "catalog: `jet catalog load FILE`)"
        )
    return wanted


def _check_password(password: str) -> None:
    if len(password or "") < PASSWORD_MIN:
        raise StaffError(
            f"the password has {len(password or '')} characters; give at least "
            f"{PASSWORD_MIN} (a passphrase of a few words is easy to type and hard to guess)"
        )


def _realms_text(realms: list[str] | None) -> str:
    return "all" if realms is None else ",".join(realms)


def _staff(member: StaffMember) -> Staff:
    realms = None if member.realms is None else frozenset(member.realms)
    return Staff(member.email, member.name, member.role, realms)
