"""A real SMTP server on loopback (aiosmtpd) for the portal's e-mails: `serving` starts
one and points JET_SMTP_HOST and JET_SMTP_PORT at it; its `messages` are what arrived.
A test module makes it a fixture: `def mailbox(monkeypatch): yield from serving(...)`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from jet.ports import free_tcp_port


class Mailbox:
    """What the server received, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's name)
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def link(self, key: str, index: int = -1) -> str:
        """The token of a message's link `...?key=TOKEN` (the last message's by default)."""
        text = self.messages[index].get_content()
        return re.search(rf"[?&]{key}=([A-Za-z0-9_-]+)", text).group(1)


def serving(monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    box = Mailbox()
    port = free_tcp_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("JET_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("JET_SMTP_PORT", str(port))
    monkeypatch.setenv("JET_MAIL_FROM", "portal@demo.example")
    yield box
    controller.stop()
