"""An SMTP server on loopback that only counts what it is given, run as its own process
(`python -m bench.smtp_sink`) so that its work shows apart from the sender's.

It prints `{"port": N}` once it listens, then waits for a line on its standard input;
at that line (or at end of input) it stops and prints its totals as one line of JSON:
messages, bytes, the invoice numbers it got (each message's PDF attachment is named
NUMBER.pdf) with how many times each, the messages without exactly one PDF that starts
with `%PDF-`, and the CPU seconds the process used."""

from __future__ import annotations

import json
import re
import socket
import sys
import time
from collections import Counter

from aiosmtpd.controller import Controller

# The one attachment: a PDF named NUMBER.pdf whose content starts with "%PDF-" ("JVBERi0"
# in base64). A search over the bytes, not a MIME parse: the sender waits for the answer,
# so the server's own work would count as sending time.
_PDF = re.compile(
    rb"Content-Type: application/pdf\r?\n(?:[^\r\n]+\r?\n)*?"
    rb'Content-Disposition: attachment; filename="([^"]+)\.pdf"\r?\n'
    rb"(?:[^\r\n]+\r?\n)*?\r?\nJVBERi0"
)
_MESSAGE_ID = re.compile(rb"^Message-ID: (\S+)", re.MULTILINE | re.IGNORECASE)


class Counting:
    """An aiosmtpd handler: counts messages and bytes, and each message's PDF by name."""

    def __init__(self) -> None:
        self.messages = 0
        self.bytes = 0
        self.numbers: Counter[str] = Counter()
        self.without_pdf: list[str] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's name)
        content = envelope.content
        self.messages += 1
        self.bytes += len(content)
        pdf = _PDF.search(content)
        if pdf is None or content.count(b"Content-Type: application/pdf") != 1:
            found = _MESSAGE_ID.search(content)
            self.without_pdf.append(found[1].decode() if found else "(no Message-ID)")
        else:
            self.numbers[pdf[1].decode()] += 1
        return "250 OK"

    def totals(self) -> dict:
        return {
            "messages": self.messages,
            "bytes": self.bytes,
            "numbers": dict(self.numbers),
            "without_pdf": self.without_pdf,
            "cpu_seconds": round(time.process_time(), 2),
        }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    handler = Counting()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    print(json.dumps({"port": port}), flush=True)
    sys.stdin.readline()
    controller.stop()
    print(json.dumps(handler.totals()), flush=True)


if __name__ == "__main__":
    main()
