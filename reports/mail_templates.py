"""What an invoice e-mail says: the realm's `mail` block (sender, subject and body as
Jinja2 templates, jet.catalog.Mail) or Jet's defaults, filled with the invoice's facts."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from functools import cache

import jinja2

from jet.catalog import Mail
from jet.errors import JetError

SUBJECT = "{{ realm }}: {{ document }} {{ number }} ({{ amount }})"
BODY = """Dear {{ account }},

please find attached {{ document }} {{ number }} of {{ bill_date }} for {{ amount }}.
{%- if due_date %} It is due on {{ due_date }}.{% endif %}

Kind regards,
{{ realm }}
"""

_env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


@dataclass(frozen=True, slots=True)
class InvoiceMail:
    """The facts a template may use, besides `document` ("invoice" or "credit note") and
    `amount` (currency and total, "AUD 51.10")."""

    number: str
    kind: str
    realm: str
    account: str
    bill_date: date
    due_date: date | None
    currency: str
    total: Decimal


@dataclass(frozen=True, slots=True)
class Wording:
    """A message's From ("Name <address>"), Subject (one line) and text."""

    sender: str
    subject: str
    body: str


def compose(mail: Mail | None, invoice: InvoiceMail, mail_from: str) -> Wording:
    """What the realm's templates (or the defaults) make of `invoice`."""
    facts = asdict(invoice) | {
        "document": invoice.kind.replace("_", " "),
        "amount": f"{invoice.currency} {invoice.total}",
    }
    mail = mail or Mail()
    return Wording(
        sender=mail.sender or f"{invoice.realm} <{mail_from}>",
        subject=" ".join(render(mail.subject or SUBJECT, facts).split()),
        body=render(mail.body or BODY, facts),
    )


def render(template: str, facts: dict) -> str:
    """`template` filled with `facts`; a name the template uses that is not among them is
    an error (JetError) naming it."""
    try:
        return _compiled(template).render(facts)
    except jinja2.UndefinedError as err:
        raise JetError(
            f"mail template: {err.message}; a template may use {', '.join(sorted(facts))}"
        ) from err


@cache
def _compiled(template: str) -> jinja2.Template:
    return _env.from_string(template)
