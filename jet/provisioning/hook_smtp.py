"""The `smtp` action: an e-mail from templates (a welcome mail, a suspension notice, a
usage warning of the ISP's own wording), sent through Jet's mail server (JET_SMTP_HOST,
jet.mail_server). Its Message-ID is the hook's and the event's, the same on every attempt,
so a message sent twice shows once. An account with no e-mail address is passed over."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any, Literal

from jet.config import Settings
from jet.deliveries import Delivered, Failed, Result
from jet.errors import JetError
from jet.mail_server import message_id, send
from jet.provisioning.hook_base import Action, HookBase


class SmtpHook(HookBase):
    action: Literal["smtp"]
    to: str = "{{ account.email }}"
    subject: str
    body: str
    sender: str | None = None  # default JET_MAIL_FROM

    def runner(self, settings: Settings) -> Action:
        return lambda hook, params, context: send_mail(settings, hook, params, context)

    @property
    def target(self) -> str:
        return self.to


def send_mail(settings: Settings, hook: SmtpHook, params: dict[str, Any], context: dict) -> Result:
    to = params["to"].strip()
    if not to or to == "None":
        return Delivered("no e-mail address: passed over", refused=True)
    message = EmailMessage()
    message["From"] = params["sender"] or settings.mail_from
    message["To"] = to
    message["Subject"] = params["subject"].strip()
    message["Message-ID"] = message_id(settings, f"jet-hook-{hook.name}-{context['event']['id']}")
    message.set_content(params["body"])
    try:
        send(settings, message)
    except JetError as e:
        return Failed(str(e)[:400])
    return Delivered(f"sent to {to}")
