"""The landing process of the accounting server: batches of rows in, landed batches out.

The server (`ingest.radius.server`) receives, checks, decodes and answers requests; this
process, its child, lands each batch of rows it is given (`ingest.landing.land`: Arrow
table, Parquet, fsyncs, manifest), one after another. In a process of its own, landing
runs beside the server on the other core and neither waits for the other's turn at the
GIL: in a thread of the server's process, a batch of ~90 rows took 8.7 ms to land at the
median and 27 ms at the 90th percentile while requests kept arriving, against ~4 ms
alone (bench/README.md).

They talk over the child's stdin and stdout in frames: a 4-octet big-endian length, then
a pickle (the server is the only sender, so it is trusted). To the child:
``("land", batch_id, rows)`` and ``("recover",)``; from it: ``("ready",)`` once, then
in order ``("landed", batch_id, error)`` (``error`` None, or the traceback of a batch
that did not land) and ``("recovered", error)``. The child ignores SIGINT and SIGTERM,
which a terminal or a service manager sends it too: the server decides when it stops,
by closing the child's stdin, and the child lands what it was given and exits. If the
server dies, the child's stdin closes all the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle
import signal
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from ingest.landing import land, recover
from ingest.radius.accounting import Row, records_table, warm_up

_LENGTH = 4  # octets of a frame's length


class LandingProcessError(RuntimeError):
    """The landing process could not be started, or is not running."""


def frame(message: tuple[Any, ...]) -> bytes:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return len(data).to_bytes(_LENGTH, "big") + data


class Lander(asyncio.Protocol):
    """The server's side: starts the child (`start`), hands it work (`land`, `recover`)
    and calls back in the event loop: ``on_landed(batch_id, error)``,
    ``on_recovered(error)``, and ``on_exit()`` if the child ends before `close` asked it
    to (once everything it wrote has been read).

    The child is a plain `subprocess.Popen` whose pipes the event loop reads and writes;
    its end is seen as the end of its stdout, then it is reaped in a thread. (asyncio's
    own subprocess transport, cancelled while it starts a child, can wait forever for
    that child's exit.)"""

    def __init__(
        self,
        raw_root: Path,
        on_landed: Callable[[str, str | None], None],
        on_recovered: Callable[[str | None], None],
        on_exit: Callable[[], None],
    ) -> None:
        self.raw_root = raw_root
        self.on_landed = on_landed
        self.on_recovered = on_recovered
        self.on_exit = on_exit
        self._proc: subprocess.Popen[bytes] | None = None
        self._stdin: asyncio.WriteTransport | None = None
        self._buffer = bytearray()
        self._ready: asyncio.Future[None] | None = None
        self._exited: asyncio.Future[None] | None = None
        self._closing = False

    async def start(self, timeout: float = 60.0) -> None:
        """Start the child and wait until it is ready, or raise LandingProcessError."""
        loop = asyncio.get_running_loop()
        self._ready = loop.create_future()
        self._exited = loop.create_future()
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", __name__, str(self.raw_root)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,  # its log lines go to stderr, where the server's go
            )
            self._stdin, _ = await loop.connect_write_pipe(asyncio.Protocol, self._proc.stdin)
            await loop.connect_read_pipe(lambda: self, self._proc.stdout)
            await asyncio.wait_for(asyncio.shield(self._ready), timeout)
        except (OSError, TimeoutError) as err:
            self.kill()
            raise LandingProcessError(f"cannot start the landing process: {err}") from err
        except BaseException:  # cancelled: leave no child behind
            self.kill()
            raise

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    def land(self, batch_id: str, rows: list[Row]) -> None:
        self._send(("land", batch_id, rows))

    def recover(self) -> None:
        self._send(("recover",))

    async def close(self) -> None:
        """Let the child land what it was given and exit; wait for it."""
        self._closing = True
        if self._stdin is not None:
            self._stdin.close()
        if self._exited is not None and self._proc is not None:
            await asyncio.shield(self._exited)

    def kill(self) -> None:
        self._closing = True
        self.kill_process()
        if self._ready is not None and not self._ready.done():
            self._ready.cancel()
        if self._stdin is not None and not self._stdin.is_closing():
            self._stdin.abort()

    def kill_process(self) -> None:
        """SIGKILL the child, ready or still starting. Safe from any thread (the stop
        watchdog's: `ingest.stopping`), unlike `kill`, which also closes its pipes."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()

    def _send(self, message: tuple[Any, ...]) -> None:
        if self._stdin is None or self._stdin.is_closing():
            raise LandingProcessError("the landing process is not running")
        self._stdin.write(frame(message))

    # --- asyncio.Protocol of the child's stdout ---------------------------------------------

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        while len(buffer) >= _LENGTH:
            size = int.from_bytes(buffer[:_LENGTH], "big")
            if len(buffer) < _LENGTH + size:
                return
            message = pickle.loads(buffer[_LENGTH : _LENGTH + size])
            del buffer[: _LENGTH + size]
            if message[0] == "landed":
                self.on_landed(message[1], message[2])
            elif message[0] == "recovered":
                self.on_recovered(message[1])
            elif message[0] == "ready" and self._ready is not None and not self._ready.done():
                self._ready.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        """The child's stdout is closed: it has exited, or is about to; reap it in a
        thread, then `_reaped` in the event loop."""
        loop, proc = asyncio.get_running_loop(), self._proc
        assert proc is not None

        def reap() -> None:
            code = proc.wait()
            with contextlib.suppress(RuntimeError):  # the event loop is closed: nobody cares
                loop.call_soon_threadsafe(self._reaped, code)

        threading.Thread(target=reap, name="radius-lander-reaper", daemon=True).start()

    def _reaped(self, code: int) -> None:
        if self._stdin is not None and not self._stdin.is_closing():
            self._stdin.abort()
        if self._exited is not None and not self._exited.done():
            self._exited.set_result(None)
        if self._ready is not None and not self._ready.done():  # `start` raises
            self._ready.set_exception(OSError(f"it exited with code {code}"))
        elif not self._closing:
            self.on_exit()


# --- the child -------------------------------------------------------------------------------


def _read_frame(stream: BinaryIO) -> tuple[Any, ...] | None:
    head = stream.read(_LENGTH)
    if len(head) < _LENGTH:
        return None
    size = int.from_bytes(head, "big")
    data = stream.read(size)
    return pickle.loads(data) if len(data) == size else None


def main(raw_root: Path) -> None:
    """Do what stdin asks, in order, until it closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s"
    )
    warm_up()
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer

    def send(message: tuple[Any, ...]) -> None:
        try:
            stdout.write(frame(message))
            stdout.flush()
        except BrokenPipeError:  # the server is gone: nobody to tell, nothing to do
            os.dup2(os.open(os.devnull, os.O_WRONLY), stdout.fileno())
            sys.exit(0)

    send(("ready",))
    while (request := _read_frame(stdin)) is not None:
        if request[0] == "recover":
            try:
                recover(raw_root)
            except Exception:
                send(("recovered", traceback.format_exc()))
            else:
                send(("recovered", None))
            continue
        _, batch_id, rows = request
        try:
            land("radius", records_table(rows), batch_id, raw_root)
        except Exception:
            send(("landed", batch_id, traceback.format_exc()))
        else:
            send(("landed", batch_id, None))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
