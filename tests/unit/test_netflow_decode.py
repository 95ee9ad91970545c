"""The NetFlow/IPFIX decoder: what exporters send decodes to the flows they meant, and
whatever else arrives is counted and refused without a crash or a half-read packet."""

from __future__ import annotations

import contextlib
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.netflow.decode import (
    IPFIX_HEADER,
    V9_HEADER,
    Decoder,
    Flows,
    Malformed,
    make_template,
)  # fmt: skip
from ingest.netflow.export import encode_ipfix, encode_v5, encode_v9

NOW_MS = 1_790_000_000_000
BOOT_MS = NOW_MS - 50 * 86_400_000  # uptime past 2^32 ms: the counter has wrapped


def flows(n: int, seed: int = 1, v6: float = 0.0) -> Flows:
    rng = np.random.default_rng(seed)
    addresses = []
    for _ in range(2):
        a = np.zeros((n, 16), np.uint8)
        a[:, 10:12] = 0xFF
        a[:, 12:] = rng.integers(0, 256, (n, 4))
        six = rng.random(n) < v6
        a[six] = rng.integers(0, 256, (int(six.sum()), 16))
        a[six, 0] = 0x20
        addresses.append(a)
    first = NOW_MS - rng.integers(1_000, 600_000, n)
    return Flows(
        first_ms=first,
        last_ms=np.minimum(first + rng.integers(0, 60_000, n), NOW_MS),
        src_addr=addresses[0],
        dst_addr=addresses[1],
        src_port=rng.integers(0, 65536, n).astype(np.uint16),
        dst_port=rng.integers(0, 65536, n).astype(np.uint16),
        protocol=rng.choice([6, 17, 1], n).astype(np.uint8),
        packets=rng.integers(1, 10_000, n).astype(np.uint64),
        bytes=rng.integers(40, 2**32 - 1, n).astype(np.uint64),
        sampling_interval=np.ones(n, np.uint32),
        exporter=np.zeros(n, np.int32),
    )


def rows(f: Flows) -> list[tuple]:
    columns = ("first_ms", "last_ms", "src_port", "dst_port", "protocol", "packets", "bytes")
    return sorted(
        (*(int(getattr(f, c)[i]) for c in columns), bytes(f.src_addr[i]), bytes(f.dst_addr[i]))
        for i in range(len(f))
    )


def decode_all(packets: list[bytes], decoder: Decoder | None = None) -> tuple[Flows, Decoder]:
    decoder = decoder or Decoder()
    for p in packets:
        decoder.feed(p, "192.0.2.1")
    return decoder.flush(), decoder


@pytest.mark.parametrize(
    "encode",
    [
        lambda f: encode_v5(f, boot_ms=BOOT_MS, export_ms=NOW_MS),
        lambda f: encode_v9(f, boot_ms=BOOT_MS, export_ms=NOW_MS),
        lambda f: encode_ipfix(f, export_ms=NOW_MS),
    ],
    ids=["v5", "v9", "ipfix"],
)
def test_every_flow_decodes_as_it_was_exported(encode):
    sent = flows(1000)
    got, decoder = decode_all(encode(sent))
    assert rows(got) == rows(sent)
    assert decoder.lost() == 0 and not decoder.dropped


def test_ipfix_carries_ipv6_and_ipv4_side_by_side():
    sent = flows(500, v6=0.3)
    got, _ = decode_all(encode_ipfix(sent, export_ms=NOW_MS))
    assert rows(got) == rows(sent)
    assert (got.src_addr[:, 0] == 0x20).sum() > 100


def test_v9_data_before_its_template_is_held_then_decoded():
    packets = encode_v9(flows(200), boot_ms=BOOT_MS, export_ms=NOW_MS, template_every=1000)
    decoder = Decoder()
    for p in packets[1:]:
        decoder.feed(p, "192.0.2.1")
    assert decoder.pending == 0 and decoder.held() == len(packets) - 1
    decoder.feed(packets[0], "192.0.2.1")  # the template arrives
    assert decoder.held() == 0
    assert len(decoder.flush()) == 200


def test_data_whose_template_never_comes_is_dropped_and_counted():
    clock = [0.0]
    decoder = Decoder(hold_seconds=60, clock=lambda: clock[0])
    packets = encode_v9(flows(100), boot_ms=BOOT_MS, export_ms=NOW_MS, template_every=1000)
    for p in packets[1:]:
        decoder.feed(p, "192.0.2.1")
    clock[0] = 61.0
    decoder.expire()
    assert decoder.held() == 0
    assert decoder.dropped["template_never_came"] == len(packets) - 1


def test_templates_expire_and_are_kept_per_exporter():
    clock = [0.0]
    decoder = Decoder(template_seconds=1800, clock=lambda: clock[0])
    template, *rest = encode_v9(flows(100), boot_ms=BOOT_MS, export_ms=NOW_MS, template_every=1000)
    decoder.feed(template, "192.0.2.1")
    decoder.feed(rest[0], "192.0.2.2")  # another exporter: its template is not known
    assert decoder.held() == 1
    clock[0] = 1801.0
    decoder.expire()
    decoder.feed(rest[1], "192.0.2.1")
    assert decoder.held() == 1  # the first exporter's template expired: held, not decoded


def test_sequence_gaps_are_counted_in_flows_for_v5_and_packets_for_v9():
    v5 = encode_v5(flows(300), boot_ms=BOOT_MS, export_ms=NOW_MS)  # 10 packets of 30
    _, decoder = decode_all(v5[:3] + v5[5:])
    assert decoder.lost() == 60
    v9 = encode_v9(flows(300), boot_ms=BOOT_MS, export_ms=NOW_MS, template_every=1)
    _, decoder = decode_all(v9[:2] + v9[4:])
    assert decoder.lost() == 2


def test_ipfix_numbering_that_includes_the_message_is_recognised():
    """softflowd numbers IPFIX messages by the records sent including the message."""
    sent = encode_ipfix(flows(100), export_ms=NOW_MS)
    renumbered, total = [], 0
    for message in sent:
        count = len(decode_all([message])[0])
        total += count
        renumbered.append(message[:8] + struct.pack("!I", total) + message[12:])
    _, decoder = decode_all(renumbered)
    assert decoder.lost() == 0


def test_sampling_interval_from_options_data_applies_to_the_exporters_flows():
    # v9 options template 300: scope System (1) 4 bytes, option SAMPLING_INTERVAL (34) 4 bytes
    options_template = struct.pack("!HHHHHHH", 300, 4, 4, 1, 4, 34, 4) + b"\0\0"
    options_data = struct.pack("!II", 0, 100)
    body = struct.pack("!HH", 1, 4 + len(options_template)) + options_template
    body += struct.pack("!HH", 300, 4 + len(options_data)) + options_data
    header = V9_HEADER.pack(9, 2, (NOW_MS - BOOT_MS) % 2**32, NOW_MS // 1000, 0, 0)
    decoder = Decoder()
    decoder.feed(header + body, "192.0.2.1")
    packets = encode_v9(flows(10), boot_ms=BOOT_MS, export_ms=NOW_MS, sequence=1)
    got, _ = decode_all(packets, decoder)
    assert set(got.sampling_interval.tolist()) == {100}


def test_ipfix_enterprise_and_variable_length_elements_are_skipped():
    # octets (8), an enterprise element (4 bytes), a variable-length string, source IPv4
    template = struct.pack("!HH", 400, 4) + struct.pack("!HH", 1, 8)
    template += struct.pack("!HHI", 0x8000 | 7, 4, 9) + struct.pack("!HH", 96, 0xFFFF)
    template += struct.pack("!HH", 8, 4)
    records = b""
    for i, name in enumerate([b"http", b"", b"x" * 300]):
        length = bytes([len(name)]) if len(name) < 255 else b"\xff" + struct.pack("!H", len(name))
        records += struct.pack("!Q", 1000 + i) + b"ent!" + length + name + bytes([10, 0, 0, i])
    sets = struct.pack("!HH", 2, 4 + len(template)) + template
    sets += struct.pack("!HH", 400, 4 + len(records)) + records
    message = IPFIX_HEADER.pack(10, IPFIX_HEADER.size + len(sets), NOW_MS // 1000, 0, 1) + sets
    got, _ = decode_all([message])
    assert got.bytes.tolist() == [1000, 1001, 1002]
    assert [bytes(a[12:]) for a in got.src_addr] == [bytes([10, 0, 0, i]) for i in range(3)]


@pytest.mark.parametrize(
    ("packet", "reason"),
    [
        (b"", "truncated"),
        (b"\x00\x05\x00\x01", "truncated"),
        (b"\x00\x07" + bytes(40), "unknown_version"),
        (V9_HEADER.pack(9, 1, 0, 0, 0, 0) + struct.pack("!HH", 256, 500), "set_overruns_packet"),
        (V9_HEADER.pack(9, 1, 0, 0, 0, 0) + struct.pack("!HH", 256, 2), "set_overruns_packet"),
        (IPFIX_HEADER.pack(10, 4000, 0, 0, 0), "truncated"),
        (V9_HEADER.pack(9, 1, 0, 0, 0, 0) + struct.pack("!HHHH", 0, 8, 256, 3), "truncated"),
    ],
)
def test_malformed_packets_are_refused_with_their_reason(packet, reason):
    decoder = Decoder()
    with pytest.raises(Malformed) as refused:
        decoder.feed(packet, "192.0.2.1")
    assert refused.value.reason == reason
    assert decoder.pending == 0


def test_a_packet_refused_part_way_adds_nothing():
    good = encode_v9(flows(30), boot_ms=BOOT_MS, export_ms=NOW_MS)[0]
    broken = good + struct.pack("!HH", 256, 400)  # a set claiming more than is there
    decoder = Decoder()
    with pytest.raises(Malformed):
        decoder.feed(broken, "192.0.2.1")
    assert decoder.pending == 0 and not decoder.templates


def test_make_template_places_only_the_elements_it_reads():
    template = make_template([(8, 4), (999, 3), (1, 8)])
    assert template.length == 15
    assert template.fields == ((8, 0, 4), (1, 7, 8))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=1500), st.sampled_from([b"\x00\x05", b"\x00\x09", b"\x00\x0a", b""]))
def test_random_bytes_never_crash_the_decoder(data, prefix):
    decoder = Decoder()
    with contextlib.suppress(Malformed):
        decoder.feed(prefix + data, "192.0.2.1")
    decoder.flush()


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_mutated_exports_never_crash_the_decoder(data):
    packets = encode_v9(flows(40, seed=3), boot_ms=BOOT_MS, export_ms=NOW_MS)
    packets += encode_ipfix(flows(40, seed=4, v6=0.5), export_ms=NOW_MS)
    decoder = Decoder()
    for packet in packets:
        mutated = bytearray(packet)
        for _ in range(data.draw(st.integers(0, 6))):
            mutated[data.draw(st.integers(0, len(mutated) - 1))] = data.draw(st.integers(0, 255))
        cut = data.draw(st.integers(0, len(mutated)))
        with contextlib.suppress(Malformed):
            decoder.feed(bytes(mutated[:cut] if data.draw(st.booleans()) else mutated), "x")
    decoder.expire()
    decoder.flush()
