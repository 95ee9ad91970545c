"""The accounting server in this process on a loopback socket: answers only after landing,
resends landed once, the pending batch landed on close, nothing answered when landing fails,
group commit, Status-Server, a landing process that dies, and its socket transport."""

from __future__ import annotations

import asyncio
import hmac
import os
import signal
import socket
from pathlib import Path

import duckdb
from pyrad.packet import AcctPacket

from ingest.landing import landed_batches
from ingest.radius.accounting import DICTIONARY, warm_up
from ingest.radius.server import AccountingServer, ReadAllTransport, bind_udp

SECRET = b"s3cret"


def request(session_id: str, id: int = 1) -> bytes:
    pkt = AcctPacket(dict=DICTIONARY, secret=SECRET, id=id)
    pkt.AddAttribute("Acct-Status-Type", "Start")
    pkt.AddAttribute("User-Name", "bob@acme")
    pkt.AddAttribute("Acct-Session-Id", session_id)
    return pkt.RequestPacket()


class Client(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.replies: list[bytes] = []

    def datagram_received(self, data: bytes, addr) -> None:
        self.replies.append(data)


async def start(raw: Path, clients=None, **options):
    """The server on a loopback port as `serve` runs it (its landing process started, its
    socket read by a ReadAllTransport), and a client connected to it."""
    loop = asyncio.get_running_loop()
    clients = {"127.0.0.1": SECRET} if clients is None else clients
    server = AccountingServer(clients, raw, **options)
    await server.start()
    transport = ReadAllTransport(loop, bind_udp("127.0.0.1", 0), server)
    port = transport.get_extra_info("sockname")[1]
    sender, client = await loop.create_datagram_endpoint(Client, remote_addr=("127.0.0.1", port))
    return server, sender, client


async def until(condition, timeout: float = 5.0) -> None:
    for _ in range(int(timeout / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timed out")


def rows(raw: Path) -> list[tuple]:
    glob = raw / "radius" / "date=*" / "*.parquet"
    return duckdb.sql(f"select acct_session_id from read_parquet('{glob}')").fetchall()


def setup_module() -> None:
    warm_up()


def test_a_resend_is_landed_once_and_answered_from_the_cache(tmp_path: Path) -> None:
    async def run() -> None:
        server, sender, client = await start(tmp_path, batch_delay=1.0)
        data = request("s1")
        sender.sendto(data)
        sender.sendto(data)  # resent while its batch is pending: answered with the batch
        await until(lambda: server.counters.received == 2)
        assert client.replies == []  # not durable yet, so not answered
        await until(lambda: client.replies)
        await asyncio.sleep(0.1)
        assert len(client.replies) == 1
        sender.sendto(data)  # resent after landing: answered at once
        await until(lambda: len(client.replies) == 2)
        assert client.replies[0] == client.replies[1]
        c = server.counters
        assert (c.received, c.landed, c.resent, c.responded) == (3, 1, 2, 2)
        await server.close()

    asyncio.run(run())
    assert rows(tmp_path) == [("s1",)]


def test_batches_by_size_and_close_lands_the_rest(tmp_path: Path) -> None:
    async def run() -> None:
        server, sender, client = await start(tmp_path, batch_rows=10, batch_delay=60)
        for i in range(25):
            sender.sendto(request(f"s{i}", id=i))
        await until(lambda: server.counters.received == 25)
        await until(lambda: len(client.replies) == 20)  # two full batches
        await server.close()  # the last 5 would wait a minute: close lands them now
        await until(lambda: len(client.replies) == 25)
        assert server.counters.batches == 3
        assert sorted(r[1] for r in client.replies) == list(range(25))

    asyncio.run(run())
    assert sorted(rows(tmp_path)) == sorted((f"s{i}",) for i in range(25))
    batches = sorted(landed_batches("radius", tmp_path))
    assert len(batches) == 3 and batches[0].startswith("acct-") and batches[2].endswith("-00000003")


def test_unknown_clients_are_dropped_and_counted(tmp_path: Path) -> None:
    async def run() -> None:
        server, sender, client = await start(tmp_path, clients={"192.0.2.1": SECRET})
        sender.sendto(request("s1"))
        await until(lambda: server.counters.received == 1)
        await asyncio.sleep(0.1)
        assert client.replies == [] and server.counters.dropped == {"unknown_client": 1}
        await server.close()

    asyncio.run(run())


def test_nothing_is_answered_when_landing_fails(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "raw"
    not_a_dir.write_text("a file where the lake should be")

    async def run() -> None:
        server, sender, client = await start(not_a_dir, batch_delay=0.01)
        data = request("s1")
        sender.sendto(data)
        await until(lambda: server.counters.land_failures == 1)
        sender.sendto(data)  # its resend is a new request, not a cached answer
        await until(lambda: server.counters.land_failures == 2, timeout=10)
        await server.close()
        assert client.replies == []
        assert server.counters.resent == 0 and server.counters.landed == 0

    asyncio.run(run())


def test_what_arrives_while_a_batch_lands_is_the_next_batch(tmp_path: Path) -> None:
    """Group commit: a batch lands as soon as the one before it has, with whatever came
    meanwhile; 200 requests sent at once are a few batches, not 200."""

    async def run() -> None:
        server, sender, client = await start(tmp_path)
        for i in range(200):
            sender.sendto(request(f"s{i}", id=i % 256))
        await until(lambda: len(client.replies) == 200, timeout=20)
        assert server.counters.landed == 200 and server.counters.batches <= 10
        await server.close()

    asyncio.run(run())
    assert len(rows(tmp_path)) == 200


def test_status_server_is_answered_at_once_and_not_landed(tmp_path: Path) -> None:
    async def run() -> None:
        server, sender, client = await start(tmp_path, batch_delay=60)
        body = b"\x50\x12" + bytes(16)
        packet = b"\x0c\x07" + (20 + len(body)).to_bytes(2, "big") + bytes(range(16)) + body
        signature = hmac.new(SECRET, packet, "md5").digest()
        sender.sendto(packet[:22] + signature)
        sender.sendto(packet)  # unsigned: dropped
        await until(lambda: client.replies)
        assert client.replies[0][:2] == b"\x05\x07"  # an Accounting-Response to Id 7
        await until(lambda: server.counters.received == 2)
        assert server.counters.status_server == 1 and server.counters.landed == 0
        assert server.counters.dropped == {"bad_message_authenticator": 1}
        await server.close()

    asyncio.run(run())


def test_a_landing_process_that_dies_is_replaced(tmp_path: Path) -> None:
    """Killed while idle: the next requests wait for a new one, then land and are answered
    (one that dies with a batch fails it unanswered, like any failed landing)."""

    async def run() -> None:
        server, sender, client = await start(tmp_path)
        sender.sendto(request("before", id=1))
        await until(lambda: len(client.replies) == 1)
        first = server._lander.pid
        os.kill(first, signal.SIGKILL)
        await until(lambda: getattr(server._lander, "pid", first) != first, timeout=30)
        sender.sendto(request("after", id=2))
        await until(lambda: len(client.replies) == 2, timeout=30)
        await server.close()
        assert server.counters.landed == 2 and server.counters.land_failures == 0

    asyncio.run(run())
    assert sorted(rows(tmp_path)) == [("after",), ("before",)]


def test_read_all_transport_reads_every_waiting_datagram_at_a_wakeup() -> None:
    class Collect(asyncio.DatagramProtocol):
        def __init__(self) -> None:
            self.got: list[bytes] = []

        def datagram_received(self, data: bytes, addr) -> None:
            self.got.append(data)

    async def run() -> None:
        loop = asyncio.get_running_loop()
        first, second = Collect(), Collect()
        sock = bind_udp("127.0.0.1", 0)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
        transport = ReadAllTransport(loop, sock, first)
        address = transport.get_extra_info("sockname")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as out:
            for i in range(300):
                out.sendto(i.to_bytes(2, "big"), address)
        transport._read_ready()  # one wakeup: as many as it reads at a time
        assert len(first.got) == 256
        transport.set_protocol(second)  # what the RADIUS proxy does to tap accounting
        transport._read_ready()
        assert len(second.got) == 44
        assert [int.from_bytes(d, "big") for d in first.got + second.got] == list(range(300))
        transport.sendto(b"to itself", address)
        await asyncio.sleep(0.05)
        assert second.got[-1] == b"to itself"
        transport.close()
        assert transport.is_closing()

    asyncio.run(run())
