"""Sign-up in the portal, where a realm's catalog switches it on (`portal.signup`): a
customer chooses one of the realm's public plans, gives its details and two passwords
(the RADIUS one its router uses, and the portal one), and verifies its e-mail address
through a link; only then is the account created, through the same core functions as
`jet account add` (so an unverified sign-up cannot sign in: there is no account yet).

`start_signup` checks everything the account will need, keeps the sign-up with only the
SHA-256 of its link's token (and of the client's address, for the rate limit) and
e-mails the link. `verify_signup` creates the account, its subscription and passwords
in the caller's transaction, with their audit entries and events, the customer as the
actor; a link works once. A filled honeypot field (one people never see) drops the
sign-up without a word, so a bot learns nothing.

In a realm whose portal asks a `first_top_up`, the new account is prepaid and
`first_top_up_due` says what it must pay before it is of use (the portal's pay page)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jet.accounts import (
    check_accounts,
    check_radius_password,
    get_account,
    set_radius_password,
    store_accounts,
    subscribe,
    update_account,
)
from jet.audit import Actor, record
from jet.config import Settings
from jet.errors import JetError
from jet.ledger_documents import utc
from jet.passwords import digest, hasher, new_token
from jet.portal_logins import check_password, keep_password_hash
from jet.portal_mail import link, mail_customer
from jet.portal_realms import portal_of
from jet.store.models import LedgerEntry, SignUp

PER_ADDRESS = 5  # sign-ups a client address may start in `WITHIN`
WITHIN = timedelta(hours=1)
LINK_LASTS = timedelta(hours=24)
# What a customer gives of its account: the rest is staff's to set.
DETAILS = ("login", "name", "email", "phone", "address", "country", "tax_id", "delivery")


class SignupError(JetError, ValueError):
    """A sign-up that cannot go ahead as given; the message says what to change."""


def start_signup(
    s: Session,
    settings: Settings,
    realm_id: str,
    plan_id: str,
    details: dict,
    radius_password: str,
    portal_password: str,
    client_address: str,
    base_url: str,
    honeypot: str = "",
) -> None:
    """Check a sign-up to `plan_id` in `realm_id`, keep it, and e-mail its verification
    link `base_url?verify=TOKEN` to `details["email"]`. `details` holds the login and any
    of DETAILS; an e-mail address is required. At most `PER_ADDRESS` sign-ups from one
    `client_address` in `WITHIN`."""
    if honeypot:
        return
    portal = portal_of(s, realm_id)
    if portal is None or not portal.signup:
        raise SignupError(
            "sign-up is not open in this realm: ask its support to open an account for you"
        )
    if plan_id not in portal.plans:
        raise SignupError(f"choose one of the plans offered: {', '.join(portal.plans)}")
    now = datetime.now(UTC)
    client = digest(client_address or "-")
    recent = s.scalar(
        select(func.count()).where(
            SignUp.client_sha256 == client, SignUp.created_at >= now - WITHIN
        )
    )
    if recent >= PER_ADDRESS:
        record(
            s, Actor("-", "portal"), "signup.refused", "signup", "-",
            after={"reason": f"more than {PER_ADDRESS} from one address in {WITHIN}"},
        )  # fmt: skip
        s.commit()  # kept, whatever the caller does with the refusal
        raise SignupError("too many sign-ups from your network: try again in an hour")
    row = _account_row(s, realm_id, details)
    try:
        check_radius_password(radius_password or "")
    except JetError as err:
        raise SignupError(f"router password: {err}") from None
    check_password(portal_password)
    token = new_token()
    signup = SignUp(
        token_sha256=digest(token),
        realm_id=realm_id,
        login=row["id"],
        plan_id=plan_id,
        details={k: v for k, v in row.items() if v is not None},
        radius_password=radius_password,
        portal_password_hash=hasher.hash(portal_password),
        client_sha256=client,
        created_at=now,
        expires_at=now + LINK_LASTS,
    )
    s.add(signup)
    s.flush()
    record(
        s, Actor(row["id"], "portal"), "signup.requested", "signup", str(signup.id),
        after={"realm": realm_id, "plan": plan_id, "login": row["id"]},
    )  # fmt: skip
    hours = int(LINK_LASTS.total_seconds() // 3600)
    mail_customer(
        settings,
        s,
        realm_id,
        row["email"],
        "Confirm your e-mail address to open your account",
        f"Dear {row['name']},\n\nTo open your account {row['id']} on the plan {plan_id}, "
        f"confirm your e-mail address by opening this link within {hours} hours:\n\n"
        f"{link(base_url, 'verify', token)}\n\n"
        "If you did not sign up, ignore this message: no account is opened without it.",
    )


def verify_signup(s: Session, token: str) -> str:
    """Open the account of the sign-up whose link holds `token`: the account, its
    subscription from today, its RADIUS and portal passwords (prepaid where the realm asks
    a first top-up), each audited with the customer as the actor; the account's id."""
    now = datetime.now(UTC)
    signup = s.scalar(select(SignUp).where(SignUp.token_sha256 == digest(token or "")))
    if signup is None or utc(signup.expires_at) <= now:
        raise SignupError("this link is unknown or expired: sign up again")
    if signup.verified_at is not None:
        raise SignupError(
            f"this link was used already: account {signup.account_id} is open, sign in with it"
        )
    actor = Actor(signup.login, "portal")
    rows, bad = check_accounts(s, signup.realm_id, [signup.details])
    if bad:
        raise SignupError("; ".join(b.message for b in bad) + "; sign up again")
    store_accounts(s, signup.realm_id, rows, actor)
    portal = portal_of(s, signup.realm_id)
    if portal and portal.first_top_up is not None:
        update_account(s, signup.login, prepaid=True, actor=actor)
    subscribe(s, signup.login, signup.plan_id, now.date(), actor=actor)
    set_radius_password(s, signup.login, signup.radius_password, actor)
    keep_password_hash(s, actor, signup.login, signup.portal_password_hash)
    # The account keeps the passwords now; the sign-up keeps no copy.
    signup.radius_password, signup.portal_password_hash = "", ""
    signup.verified_at, signup.account_id = now, signup.login
    record(
        s, actor, "signup.verified", "signup", str(signup.id), account_id=signup.login,
        after={"plan": signup.plan_id},
    )  # fmt: skip
    return signup.login


def first_top_up_due(s: Session, account_id: str) -> Decimal | None:
    """What a prepaid account opened in a realm that asks a first top-up must pay before
    it is of use, while it has not topped up yet; None otherwise."""
    account = get_account(s, account_id)
    portal = portal_of(s, account.realm_id)
    if not account.prepaid or portal is None or portal.first_top_up is None:
        return None
    topped_up = s.scalar(
        select(LedgerEntry.id)
        .where(LedgerEntry.account_id == account.id, LedgerEntry.kind == "top_up")
        .limit(1)
    )
    return None if topped_up is not None else portal.first_top_up


def _account_row(s: Session, realm_id: str, details: dict) -> dict:
    """The account `details` ask for, checked as `jet account add` checks one (its login
    free, its fields well formed), with an e-mail address to verify."""
    given = {k: v for k, v in details.items() if k in DETAILS and v not in (None, "")}
    unknown = sorted(set(details) - set(DETAILS))
    if unknown:
        raise SignupError(f"unknown details {', '.join(unknown)}: give any of {', '.join(DETAILS)}")
    rows, bad = check_accounts(s, realm_id, [given])
    if bad:
        raise SignupError("; ".join(b.message for b in bad))
    (row,) = rows
    if not row["email"]:
        raise SignupError(
            "email: give your e-mail address; the link to open the account goes there"
        )
    return row
