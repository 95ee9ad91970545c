"""NetFlow v5, v9 and IPFIX export packets decoded in bulk into columns of flows.

Python works per packet and per set, never per flow: `Decoder.feed` checks a packet,
keeps its templates and appends each data set's raw records to a buffer per template;
`Decoder.flush` reads every buffer with one ``numpy.frombuffer`` over a structured dtype
built from its template (v5 is one more, fixed, template) and returns the columns. Only
IPFIX templates with variable-length elements are walked record by record (rare: such
records are repacked to a fixed layout of the elements Jet reads).

Templates are kept per exporter, observation domain and template id, refreshed when sent
again and forgotten after `template_seconds` unseen. A data set that comes before its
template is held until the template arrives, or dropped and counted after
`hold_seconds`. A packet that is wrong anywhere (short, a set longer than the packet, an
unknown version) raises :class:`Malformed` and contributes nothing.

Times become absolute: v5 and v9 give flow times in the exporter's uptime, which the
header ties to wall-clock time; IPFIX gives absolute times, or uptimes with the system's
init time. Sequence numbers are checked per exporter and domain (v5 and IPFIX count
flows, v9 counts packets), so gaps are reported in those units, never filled.
"""

from __future__ import annotations

import struct
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

# Information elements Jet reads (NetFlow v9 field types are IPFIX element ids below 128).
OCTETS, PACKETS, PROTOCOL, SRC_PORT, SRC_V4, DST_PORT, DST_V4 = 1, 2, 4, 7, 8, 11, 12
END_UPTIME, START_UPTIME, SRC_V6, DST_V6 = 21, 22, 27, 28
SAMPLING_INTERVAL, SAMPLER_RANDOM_INTERVAL = 34, 50
START_SECONDS, END_SECONDS, START_MS, END_MS, INIT_MS = 150, 151, 152, 153, 160
PACKET_INTERVAL, PACKET_SPACE = 305, 306
_FLOW_ELEMENTS = {
    OCTETS, PACKETS, PROTOCOL, SRC_PORT, SRC_V4, DST_PORT, DST_V4, END_UPTIME,
    START_UPTIME, SRC_V6, DST_V6, START_SECONDS, END_SECONDS, START_MS, END_MS, INIT_MS,
    SAMPLING_INTERVAL, SAMPLER_RANDOM_INTERVAL,
}  # fmt: skip
_OPTION_ELEMENTS = {
    SAMPLING_INTERVAL,
    SAMPLER_RANDOM_INTERVAL,
    PACKET_INTERVAL,
    PACKET_SPACE,
    INIT_MS,
}

V5_HEADER = struct.Struct("!HHIIIIBBH")
V9_HEADER = struct.Struct("!HHIIII")
IPFIX_HEADER = struct.Struct("!HHIII")
PAIR = struct.Struct("!HH")
ENTERPRISE_BIT = 0x8000
VARIABLE = 0xFFFF
_WRAP = 1 << 32
_V4_MAPPED = b"\0" * 10 + b"\xff\xff"


class Malformed(Exception):
    """A packet Jet cannot read; `reason` names the counter it goes to."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass(frozen=True)
class Template:
    """Where each element Jet reads sits in a record of `length` bytes."""

    fields: tuple[tuple[int, int, int], ...]  # (element, offset, length) of read elements
    length: int  # bytes per record; 0 when some element has a variable length
    layout: tuple[tuple[int, int], ...]  # every (element, length), to walk variable records
    options: bool = False

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(
            {
                "names": [f"e{element}" for element, _, _ in self.fields],
                "formats": [_format(length) for _, _, length in self.fields],
                "offsets": [offset for _, offset, _ in self.fields],
                "itemsize": self.length or sum(length for _, _, length in self.fields),
            }
        )


def _format(length: int) -> str | tuple:
    return f">u{length}" if length in (1, 2, 4, 8) else (np.uint8, (length,))


def make_template(layout: list[tuple[int, int]], options: bool = False) -> Template:
    """The template of a record laid out as `layout`; element -1 is an enterprise one."""
    wanted = set(_OPTION_ELEMENTS if options else _FLOW_ELEMENTS)
    fields, offset = [], 0
    for element, length in layout:
        if length == VARIABLE:
            offset = None
            break
        if element in wanted and _readable(element, length):
            fields.append((element, offset, length))
            wanted.discard(element)  # an element sent twice is read once, the first time
        offset += length
    if offset is None:  # repack to the fixed-length read elements only
        fixed, wanted = [], set(_OPTION_ELEMENTS if options else _FLOW_ELEMENTS)
        for element, length in layout:
            if element in wanted and _readable(element, length):
                fixed.append((element, length))
                wanted.discard(element)
        starts = np.cumsum([0] + [n for _, n in fixed])
        fields = [(e, int(s), n) for (e, n), s in zip(fixed, starts, strict=False)]
        return Template(tuple(fields), 0, tuple(layout), options)
    return Template(tuple(fields), offset, tuple(layout), options)


def _readable(element: int, length: int) -> bool:
    """Addresses must have their own size; numbers may be reduced-size (RFC 7011 6.2)."""
    if element in (SRC_V4, DST_V4):
        return length == 4
    if element in (SRC_V6, DST_V6):
        return length == 16
    return 1 <= length <= 8


V5 = make_template(
    [
        (SRC_V4, 4), (DST_V4, 4), (0, 4), (0, 2), (0, 2), (PACKETS, 4), (OCTETS, 4),
        (START_UPTIME, 4), (END_UPTIME, 4), (SRC_PORT, 2), (DST_PORT, 2), (0, 2),
        (PROTOCOL, 1), (0, 1), (0, 8),
    ]
)  # fmt: skip


@dataclass
class Flows:
    """Decoded flows as equal-length columns; addresses are IPv6 (IPv4 mapped)."""

    first_ms: np.ndarray  # int64, ms since the epoch
    last_ms: np.ndarray
    src_addr: np.ndarray  # (n, 16) uint8
    dst_addr: np.ndarray
    src_port: np.ndarray  # uint16
    dst_port: np.ndarray
    protocol: np.ndarray  # uint8
    packets: np.ndarray  # uint64, as exported (not scaled by sampling)
    bytes: np.ndarray
    sampling_interval: np.ndarray  # uint32, 1 when unsampled
    exporter: np.ndarray  # int32 index into Decoder.exporter_names

    def __len__(self) -> int:
        return len(self.first_ms)

    def take(self, rows: np.ndarray) -> Flows:
        """The flows at `rows` (indices or a mask)."""
        return Flows(**{name: getattr(self, name)[rows] for name in self.__dataclass_fields__})


@dataclass
class ExporterState:
    """What the decoder knows of one exporter and observation domain."""

    previous: int | None = None  # the last packet's sequence number
    previous_count: int = 0  # and its flows (v5, IPFIX) or 1 (v9)
    numbering: str | None = None  # "before" (RFC 7011) or "including" this packet
    lost: int = 0  # flows (v5, IPFIX) or packets (v9) missing from the sequence
    sampling: int = 1  # from options data, for records that carry no interval
    init_ms: int = -1  # IPFIX systemInitTimeMilliseconds from options data


@dataclass
class _Buffer:
    """Raw records of one template awaiting `flush`, with their packets' context."""

    chunks: list[bytes] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    context: list[tuple[int, int, int, int, int]] = field(default_factory=list)
    # per chunk: export time ms, uptime ms (-1: none), init ms (-1), sampling, exporter


@dataclass
class _Held:
    body: bytes
    context: tuple[int, int, int, int, int]
    since: float


@dataclass
class Decoder:
    """Decodes export packets from many exporters; keeps their templates and counters."""

    template_seconds: float = 1800.0
    hold_seconds: float = 60.0
    hold_max: int = 10_000  # data sets held at most, over all exporters
    clock: Callable[[], float] = time.monotonic
    templates: dict[tuple[str, int, int], tuple[Template, float]] = field(default_factory=dict)
    exporters: dict[tuple[str, int], ExporterState] = field(default_factory=dict)
    dropped: Counter[str] = field(default_factory=Counter)
    exporter_names: list[str] = field(default_factory=list)
    _exporter_index: dict[str, int] = field(default_factory=dict)
    _buffers: dict[Template, _Buffer] = field(default_factory=dict)
    _held: dict[tuple[str, int, int], list[_Held]] = field(default_factory=dict)
    _pending_flows: int = 0

    @property
    def pending(self) -> int:
        """Flows fed and not yet flushed."""
        return self._pending_flows

    def lost(self) -> int:
        return sum(state.lost for state in self.exporters.values())

    def held(self) -> int:
        return sum(len(sets) for sets in self._held.values())

    def feed(self, data: bytes, exporter: str) -> int:
        """Take one datagram from `exporter` (its address); return the flows it held."""
        if len(data) < 4:
            raise Malformed("truncated", f"{len(data)} bytes")
        version = int.from_bytes(data[:2], "big")
        if version == 5:
            return self._v5(data, exporter)
        if version in (9, 10):
            return self._templated(data, exporter, version)
        raise Malformed("unknown_version", f"version {version}")

    def expire(self) -> None:
        """Forget stale templates; drop held data whose template never came."""
        now = self.clock()
        for key, (_, seen) in list(self.templates.items()):
            if now - seen > self.template_seconds:
                del self.templates[key]
        for key, sets in list(self._held.items()):
            fresh = [h for h in sets if now - h.since <= self.hold_seconds]
            self.dropped["template_never_came"] += len(sets) - len(fresh)
            if fresh:
                self._held[key] = fresh
            else:
                del self._held[key]

    def flush(self) -> Flows:
        """Every flow fed since the last flush, decoded."""
        parts = [_decode(t, b) for t, b in self._buffers.items()]
        self._buffers, self._pending_flows = {}, 0
        return _concat(parts)

    # --- packets ---------------------------------------------------------------------------

    def _v5(self, data: bytes, exporter: str) -> int:
        if len(data) < V5_HEADER.size:
            raise Malformed("truncated", "v5 header")
        _, count, uptime, secs, nsecs, sequence, engine_type, engine_id, sampling = (
            V5_HEADER.unpack_from(data)
        )
        end = V5_HEADER.size + count * V5.length
        if count == 0 or len(data) < end:
            raise Malformed("truncated", f"v5 header says {count} flows in {len(data)} bytes")
        self._sequence(exporter, engine_type << 8 | engine_id, sequence, count)
        export_ms = secs * 1000 + nsecs // 1_000_000
        context = (export_ms, uptime, -1, max(sampling & 0x3FFF, 1), self._index(exporter))
        self._append(V5, data[V5_HEADER.size : end], count, context)
        return count

    def _templated(self, data: bytes, exporter: str, version: int) -> int:
        if version == 9:
            if len(data) < V9_HEADER.size:
                raise Malformed("truncated", "v9 header")
            _, _, uptime, secs, sequence, domain = V9_HEADER.unpack_from(data)
            offset, end, template_set, options_set = V9_HEADER.size, len(data), 0, 1
        else:
            if len(data) < IPFIX_HEADER.size:
                raise Malformed("truncated", "IPFIX header")
            _, end, secs, sequence, domain = IPFIX_HEADER.unpack_from(data)
            if not IPFIX_HEADER.size <= end <= len(data):
                raise Malformed("truncated", f"IPFIX header says {end} bytes, got {len(data)}")
            uptime, offset, template_set, options_set = -1, IPFIX_HEADER.size, 2, 3
        sets = []
        while offset + PAIR.size <= end:  # check the framing before changing any state
            set_id, length = PAIR.unpack_from(data, offset)
            if length < PAIR.size or offset + length > end:
                raise Malformed("set_overruns_packet", f"set {set_id} is {length} bytes")
            sets.append((set_id, data[offset + PAIR.size : offset + length]))
            offset += length
        state = self._state(exporter, domain)
        context = (secs * 1000, uptime, state.init_ms, state.sampling, self._index(exporter))
        before, records, held = self._pending_flows, 0, False
        for set_id, body in sets:
            if set_id in (template_set, options_set):
                self._templates(body, exporter, domain, version, set_id == options_set)
            elif set_id >= 256:
                n = self._data(body, (exporter, domain, set_id), context)
                held |= n is None
                records += n or 0
            else:
                self.dropped["unknown_set_id"] += 1
        if version == 9:
            self._sequence(exporter, domain, sequence, 1)
        elif held:  # records we cannot count yet: take the sequence up again next time
            state.previous = None
        else:
            self._sequence(exporter, domain, sequence, records)
        return self._pending_flows - before

    def _templates(self, body: bytes, exporter: str, domain: int, version: int, options: bool):
        """Store the templates of a (options) template set; release data held for them."""
        offset = 0
        while len(body) - offset >= 4:
            template_id, count = PAIR.unpack_from(body, offset)
            offset += 4
            if options and version == 9:  # v9 gives the scope and option lengths in bytes
                if len(body) - offset < 2:
                    raise Malformed("truncated", "v9 options template")
                option_bytes = int.from_bytes(body[offset : offset + 2], "big")
                count, offset = (count + option_bytes) // 4, offset + 2
            elif options and count:
                offset += 2  # IPFIX scope field count: scope elements are read like others
            key = (exporter, domain, template_id)
            if count == 0:  # IPFIX withdrawal
                self.templates.pop(key, None)
                continue
            if template_id < 256:
                raise Malformed("bad_template", f"template id {template_id}")
            layout = []
            for _ in range(count):
                if len(body) - offset < 4:
                    raise Malformed("truncated", f"template {template_id}")
                element, length = PAIR.unpack_from(body, offset)
                offset += 4
                if version == 10 and element & ENTERPRISE_BIT:
                    element, offset = -1, offset + 4  # enterprise elements are skipped
                layout.append((element, length))
            if version == 9 and options and len(body) - offset < 4:
                offset = len(body)  # v9 pads an options template set to 4 bytes
            if all(length == 0 for _, length in layout):
                raise Malformed("bad_template", f"template {template_id} has no length")
            template = make_template(layout, options)
            try:
                template.dtype  # noqa: B018 - refuse now what flush() could not read
            except (ValueError, TypeError) as err:
                raise Malformed("bad_template", f"template {template_id}: {err}") from None
            self.templates[key] = (template, self.clock())
            for held in self._held.pop(key, []):
                self._data(held.body, key, held.context)

    def _data(self, body: bytes, key: tuple[str, int, int], context) -> int | None:
        """Buffer a data set; None when it is held for its template."""
        known = self.templates.get(key)
        if known is None:
            if self.held() >= self.hold_max:
                self.dropped["no_template"] += 1
                return 0
            self._held.setdefault(key, []).append(_Held(body, context, self.clock()))
            return None
        template = known[0]
        if template.length == 0:
            body, template, count = _repack(body, template)
        else:
            count = len(body) // template.length  # what is left over is padding
            body = body[: count * template.length]
        if template.options:
            self._options(body, template, count, self._state(key[0], key[1]))
            return count
        if count:
            self._append(template, body, count, context)
        return count

    def _options(self, body: bytes, template: Template, count: int, state: ExporterState):
        if not count:
            return
        record = np.frombuffer(body, dtype=template.dtype, count=count)[-1]
        names = record.dtype.names
        for element in (SAMPLING_INTERVAL, SAMPLER_RANDOM_INTERVAL):
            if f"e{element}" in names and int(record[f"e{element}"]) > 0:
                state.sampling = int(record[f"e{element}"])
        if f"e{PACKET_INTERVAL}" in names and f"e{PACKET_SPACE}" in names:
            taken = int(record[f"e{PACKET_INTERVAL}"])
            if taken > 0:
                state.sampling = round((taken + int(record[f"e{PACKET_SPACE}"])) / taken)
        if f"e{INIT_MS}" in names:
            state.init_ms = int(record[f"e{INIT_MS}"])

    # --- bookkeeping -----------------------------------------------------------------------

    def _append(self, template: Template, body: bytes, count: int, context) -> None:
        buffer = self._buffers.get(template)
        if buffer is None:
            buffer = self._buffers[template] = _Buffer()
        buffer.chunks.append(body)
        buffer.counts.append(count)
        buffer.context.append(context)
        self._pending_flows += count

    def _state(self, exporter: str, domain: int) -> ExporterState:
        state = self.exporters.get((exporter, domain))
        if state is None:
            state = self.exporters[(exporter, domain)] = ExporterState()
        return state

    def _index(self, exporter: str) -> int:
        index = self._exporter_index.get(exporter)
        if index is None:
            index = self._exporter_index[exporter] = len(self.exporter_names)
            self.exporter_names.append(exporter)
        return index

    def _sequence(self, exporter: str, domain: int, sequence: int, count: int) -> None:
        """Count the flows (or v9 packets) missing between this packet and the last.

        RFC 7011 numbers a message by the records sent before it; some exporters
        (softflowd's IPFIX) by the records sent including it. An exporter is taken to
        follow whichever numbering first explains a gap the other one cannot."""
        state = self._state(exporter, domain)
        if state.previous is not None:
            before = (sequence - state.previous - state.previous_count) % _WRAP
            including = (sequence - state.previous - count) % _WRAP
            if state.numbering is None and (before == 0) != (including == 0):
                state.numbering = "before" if before == 0 else "including"
            gap = including if state.numbering == "including" else before
            if gap < _WRAP // 2:  # else a restart or reordering: nothing lost
                state.lost += gap
        state.previous, state.previous_count = sequence, count


def _repack(body: bytes, template: Template) -> tuple[bytes, Template, int]:
    """Walk records with variable-length elements; keep the fixed read elements only."""
    wanted = {element for element, _, _ in template.fields}
    take = []  # per layout position: is it the first fixed-length one of a read element
    for element, length in template.layout:
        take.append(element in wanted and length != VARIABLE)
        if take[-1]:
            wanted.discard(element)
    out, offset, count = bytearray(), 0, 0
    while offset < len(body):
        record = bytearray()
        for (_, length), taken in zip(template.layout, take, strict=True):
            if length == VARIABLE:
                length, offset = (body[offset] if offset < len(body) else 0), offset + 1
                if length == 255:
                    length, offset = int.from_bytes(body[offset : offset + 2], "big"), offset + 2
            elif taken:
                record += body[offset : offset + length]
            offset += length
        if offset > len(body):
            break  # padding, or a record cut short: not a record
        out += record
        count += 1
    packed = Template(template.fields, template.dtype.itemsize, (), template.options)
    return bytes(out), packed, count


def _decode(template: Template, buffer: _Buffer) -> Flows:
    """One template's buffered records as columns."""
    counts = np.asarray(buffer.counts)
    n = int(counts.sum())
    records = np.frombuffer(b"".join(buffer.chunks), dtype=template.dtype, count=n)
    export_ms, uptime, init_ms, sampling, exporter = (
        np.repeat(np.asarray(column, dtype=np.int64), counts)
        for column in zip(*buffer.context, strict=False)
    )
    names = set(records.dtype.names or ())

    def number(element: int) -> np.ndarray | None:
        name = f"e{element}"
        if name not in names:
            return None
        column = records[name]
        if column.ndim == 2:  # an odd length: big-endian bytes to an integer
            value = np.zeros(n, dtype=np.uint64)
            for i in range(column.shape[1]):
                value = (value << np.uint64(8)) | column[:, i].astype(np.uint64)
            return value
        return column.astype(np.uint64)

    def address(v4: int, v6: int) -> np.ndarray:
        out = np.zeros((n, 16), dtype=np.uint8)
        if f"e{v6}" in names:
            out[:] = records[f"e{v6}"]
        elif f"e{v4}" in names:
            out[:, :12] = np.frombuffer(_V4_MAPPED, dtype=np.uint8)
            out[:, 12:] = records[f"e{v4}"].astype(">u4").view(np.uint8).reshape(n, 4)
        return out

    def when(ms: int, seconds: int, up: int) -> np.ndarray:
        value = number(ms)
        if value is not None:
            return value.astype(np.int64)
        value = number(seconds)
        if value is not None:
            return value.astype(np.int64) * 1000
        value = number(up)
        if value is None:
            return export_ms.copy()
        value = value.astype(np.int64)
        init = number(INIT_MS)
        init = init.astype(np.int64) if init is not None else init_ms
        behind = (uptime - value) % _WRAP  # uptime wraps after 49.7 days
        behind = np.where(behind >= _WRAP // 2, behind - _WRAP, behind)
        return np.where(
            uptime >= 0, export_ms - behind, np.where(init >= 0, init + value, export_ms)
        )

    def zeros(dtype) -> np.ndarray:
        return np.zeros(n, dtype=dtype)

    interval = number(SAMPLING_INTERVAL)
    if interval is None:
        interval = number(SAMPLER_RANDOM_INTERVAL)
    if interval is not None:
        sampling = np.where(interval > 0, interval.astype(np.int64), sampling)
    get = {e: number(e) for e in (SRC_PORT, DST_PORT, PROTOCOL, PACKETS, OCTETS)}
    return Flows(
        first_ms=when(START_MS, START_SECONDS, START_UPTIME),
        last_ms=when(END_MS, END_SECONDS, END_UPTIME),
        src_addr=address(SRC_V4, SRC_V6),
        dst_addr=address(DST_V4, DST_V6),
        src_port=(zeros(np.uint16) if get[SRC_PORT] is None else get[SRC_PORT].astype(np.uint16)),
        dst_port=(zeros(np.uint16) if get[DST_PORT] is None else get[DST_PORT].astype(np.uint16)),
        protocol=(zeros(np.uint8) if get[PROTOCOL] is None else get[PROTOCOL].astype(np.uint8)),
        packets=zeros(np.uint64) if get[PACKETS] is None else get[PACKETS],
        bytes=zeros(np.uint64) if get[OCTETS] is None else get[OCTETS],
        sampling_interval=sampling.astype(np.uint32),
        exporter=exporter.astype(np.int32),
    )


def no_flows() -> Flows:
    return Flows(*(np.zeros((0, 16) if "addr" in name else 0, dtype=t) for name, t in _DTYPES))


def _concat(parts: list[Flows]) -> Flows:
    if not parts:
        return no_flows()
    return Flows(*(np.concatenate([getattr(p, name) for p in parts]) for name, _ in _DTYPES))


_DTYPES = (
    ("first_ms", np.int64), ("last_ms", np.int64), ("src_addr", np.uint8),
    ("dst_addr", np.uint8), ("src_port", np.uint16), ("dst_port", np.uint16),
    ("protocol", np.uint8), ("packets", np.uint64), ("bytes", np.uint64),
    ("sampling_interval", np.uint32), ("exporter", np.int32),
)  # fmt: skip
