"""Scheduled reports by e-mail: a subscriber of `report.ready` (reports/report_schedule.py)
that sends the files a scheduled run wrote to the addresses of the realm's `report_mail`
entry, attached.

Delivery is at least once: a message sent again after a crash carries the same
Message-ID (from the event's id), which mail clients show once. Without a mail server
the e-mail fails and waits until there is one; a file gone since (someone emptied the
reports folder) is named in the failure."""

from __future__ import annotations

import mimetypes
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from jet.config import Settings
from jet.deliveries import Delivered, Failed, Result, Subscriber
from jet.mail_server import NO_SERVER, MailNotSent, message_id, send
from jet.store.models import Event


def subscriber() -> Subscriber:
    return Subscriber("report-mail", frozenset({"report.ready"}), deliver)


def deliver(settings: Settings, event: Event, progress: dict[str, Any]) -> Result:
    if not settings.smtp_host:
        return Failed(NO_SERVER)
    payload = event.payload
    files = [settings.root / name for name in payload["files"]]
    missing = [str(path) for path in files if not path.is_file()]
    if missing:
        return Failed(f"report files missing: {', '.join(missing)}; run the schedule again")
    mail = _mail(settings, payload, files)
    mail["Message-ID"] = message_id(settings, f"jet-event-{event.id}")
    try:
        send(settings, mail)
    except MailNotSent as err:
        return Failed(str(err))
    return Delivered(f"{len(files)} files sent to {', '.join(payload['to'])}")


def _mail(settings: Settings, payload: dict[str, Any], files: list[Path]) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = f"{payload['realm_name']} reports <{settings.mail_from}>"
    mail["To"] = ", ".join(payload["to"])
    mail["Subject"] = f"{payload['realm_name']}: {payload['title']}, {payload['period']}"
    listing = "\n".join(f"- {path.name}" for path in files)
    mail.set_content(
        f"The reports Jet runs for {payload['realm_name']} every {payload['every']}, "
        f"for {payload['period']} ({payload['start']} to {payload['end']}):\n\n{listing}\n\n"
        "They are attached. The realm's catalog (report_mail) says who receives them.\n"
    )
    for path in files:
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        main, sub = kind.split("/", 1)
        mail.add_attachment(path.read_bytes(), maintype=main, subtype=sub, filename=path.name)
    return mail
