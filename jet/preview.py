"""`jet invoice preview`: an account's next invoice as it stands, issuing nothing.

Rating runs in a scratch home that reads the real raw lake (linked, not copied) and a
fresh snapshot of the real store, so the published marts and the store stay as they are."""

from __future__ import annotations

from datetime import date, timedelta

from jet.account_views import billing_account
from jet.config import Settings
from jet.drafts import draft_invoices
from jet.errors import JetError
from jet.store.db import session
from jet.store.models import Account
from jet.warehouse import DRAFTS_ONLY, rate, scratch_home


class PreviewError(JetError, ValueError):
    pass


def billing_account_of(settings: Settings, account_id: str) -> str:
    """The root of the account's tree: where its charges are invoiced."""
    with session(settings.db_url) as s:
        account = s.get(Account, account_id)
        if account is None:
            raise PreviewError(f"no account {account_id!r}; dim_accounts lists them")
        return billing_account(s, account).id


def preview(settings: Settings, account_id: str, day: date) -> dict | None:
    """The draft invoice of `account_id`'s billing account at its first bill date on or
    after `day`, or None when it would get no invoice then."""
    billing = billing_account_of(settings, account_id)
    with scratch_home() as scratch:
        try:
            scratch.export()
            scratch.raw.rmdir()
            scratch.raw.symlink_to(settings.raw.resolve(), target_is_directory=True)
            # a bill date comes every month: rating 31 days ahead reaches the next one
            rate(scratch, (day + timedelta(days=31)).isoformat(), DRAFTS_ONLY, store=settings)
            drafts = [
                inv
                for inv in draft_invoices(scratch, billing_account=billing)
                if inv["bill_date"] >= day.isoformat()
            ]
        finally:
            settings.export()
    return drafts[0] if drafts else None
