"""Arrow schemas of the landed raw tables: the contract between collectors and the lake.

Every raw table is landed exactly as received, plus `_batch_id` and `_landed_at`,
which `ingest.landing` adds so rating can tell when each record arrived.
"""

from __future__ import annotations

import pyarrow as pa

TS = pa.timestamp("us", tz="UTC")

RADIUS = pa.schema(
    [
        ("event_time", TS),  # Event-Timestamp, else receipt time minus Acct-Delay-Time
        ("status_type", pa.string()),  # Start, Interim-Update, Stop, Accounting-On, Accounting-Off
        ("user_name", pa.string()),  # as sent, user@realm
        ("acct_session_id", pa.string()),
        ("nas_ip", pa.uint32()),  # IPv4 as an unsigned integer
        ("nas_identifier", pa.string()),
        ("framed_ip", pa.uint32()),
        ("input_octets", pa.uint64()),  # Gigawords folded in: 64-bit counters
        ("output_octets", pa.uint64()),
        ("session_time", pa.uint32()),
        # What ingest.radius adds; null where the NAS did not send the attribute.
        ("received_at", TS),  # when Jet received the packet
        ("nas_port", pa.uint32()),
        ("input_packets", pa.uint64()),  # what the user sent, as input_octets
        ("output_packets", pa.uint64()),
        ("delay_time", pa.uint32()),  # Acct-Delay-Time, seconds
        ("called_station_id", pa.string()),
        ("calling_station_id", pa.string()),
        ("class", pa.string()),  # hex of the Class octets; several are joined by ","
        ("terminate_cause", pa.string()),  # the name, e.g. User-Request, else the number
        ("cisco_avpairs", pa.list_(pa.string())),  # every Cisco-AVPair, in order
        ("ssg_account_info", pa.string()),  # Cisco SSG VSAs 250 and 251 (the first of each)
        ("ssg_service_info", pa.string()),
        ("source_ip", pa.uint32()),  # the packet's source address: the NAS client
        ("packet_id", pa.uint8()),  # the Identifier and Request Authenticator: with
        ("authenticator", pa.binary(16)),  # source_ip they tell a resend from a new record
    ]
)

NETFLOW = pa.schema(
    [
        ("exporter", pa.string()),  # the exporter's address, as text
        ("first_ts", TS),
        ("last_ts", TS),
        ("src_addr", pa.binary(16)),  # IPv6 in network order; IPv4 as ::ffff:a.b.c.d
        ("dst_addr", pa.binary(16)),
        ("src_port", pa.uint16()),
        ("dst_port", pa.uint16()),
        ("protocol", pa.uint8()),
        ("packets", pa.uint64()),  # as exported: a sampled exporter's 1 in N
        ("bytes", pa.uint64()),
        ("sampling_interval", pa.uint32()),  # N; 1 when unsampled
    ]
)

UPSTREAM_CSV = pa.schema(
    [
        ("account_id", pa.string()),
        ("ts", TS),
        ("bytes_in", pa.uint64()),
        ("bytes_out", pa.uint64()),
        ("seconds", pa.uint64()),
        ("source_file", pa.string()),
        ("source_line", pa.uint32()),
    ]
)

# The column that decides a record's date partition, per source.
SOURCES: dict[str, tuple[pa.Schema, str]] = {
    "radius": (RADIUS, "event_time"),
    "netflow": (NETFLOW, "last_ts"),
    "upstream_csv": (UPSTREAM_CSV, "ts"),
}

LANDING_COLUMNS = [("_batch_id", pa.string()), ("_landed_at", TS)]


def landed_schema(source: str) -> pa.Schema:
    """The schema of a source's Parquet files: the received columns plus the landing columns."""
    schema, _ = SOURCES[source]
    for name, type_ in LANDING_COLUMNS:
        schema = schema.append(pa.field(name, type_))
    return schema


def write_schema_files(raw_root) -> None:
    """An empty `<source>/_schema.parquet` per source, so dbt reads typed columns before
    anything has landed (the staging macro falls back to it)."""
    import pyarrow.parquet as pq

    for source in SOURCES:
        path = raw_root / source / "_schema.parquet"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(landed_schema(source).empty_table(), path)
