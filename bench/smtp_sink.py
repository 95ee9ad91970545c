"""An SMTP server on loopback that only counts what it is given, run as its own process
(`python -m bench.smtp_sink`) so that its work shows apart from the sender's.

It prints `{"port": N}` once it listens, then waits for a line on its standard input;
at that line (or at end of input) it stops and prints its totals as one line of JSON:
messages, bytes, the invoice numbers it got (each message's PDF attachment is named
NUMBER.pdf) with how many times each, the messages without exactly one PDF that starts
with `%PDF-`, and the CPU seconds the process used."""

from __future__ import annotations

import json
import socket
import sys
import time
from collections import Counter
from email import message_from_bytes

from aiosmtpd.controller import Controller


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
        message = message_from_bytes(content)
        pdfs = [p for p in message.walk() if p.get_content_type() == "application/pdf"]
        data = pdfs[0].get_payload(decode=True) if len(pdfs) == 1 else b""
        if not data.startswith(b"%PDF-"):
            self.without_pdf.append(str(message["Message-ID"]))
        else:
            self.numbers[(pdfs[0].get_filename() or "").removesuffix(".pdf")] += 1
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
