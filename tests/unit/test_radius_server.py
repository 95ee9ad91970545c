"""The accounting server in this process on a loopback socket: answers only after landing,
resends landed once, the pending batch landed on close, nothing answered when landing fails."""

from __future__ import annotations

import asyncio
from pathlib import Path

import duckdb
from pyrad.packet import AcctPacket

from ingest.landing import landed_batches
from ingest.radius.accounting import DICTIONARY, warm_up
from ingest.radius.server import AccountingServer

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
    loop = asyncio.get_running_loop()
    clients = {"127.0.0.1": SECRET} if clients is None else clients
    transport, server = await loop.create_datagram_endpoint(
        lambda: AccountingServer(clients, raw, **options), local_addr=("127.0.0.1", 0)
    )
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
