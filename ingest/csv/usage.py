"""Usage files from upstream providers: read through a mapping profile, checked row by
row, the good rows landed as `upstream_csv`, the bad ones quarantined with reasons.

A row is bad when a value is missing or unreadable, a quantity is negative or
fractional (unless the profile rounds), a timestamp lies outside [2000-01-01, a day
after the import] or falls in a clock change, the account is not in the store (or a
user name's realm is not the account's), the row has the wrong number of fields, or
its bytes are not text in the profile's encoding. Rows of only empty values are
skipped. Every landed row keeps its file name and physical line.

The quarantine file, `<quarantine>/<file stem>-<batch id>.csv`, is in the file's own
layout: its header line and each bad record byte for byte, followed by two columns,
`jet_line` and `jet_reasons`. Corrected (or once the missing account exists), it can
be imported with the same profile like any other file.

The batch id is `usage-<file hash>-<profile hash>` (`usage_batch_id`): importing the
same bytes with the same profile again lands nothing. The same bytes with another
profile are refused, since they would count the same usage twice. A file of which no
row is good lands nothing and is not recorded as imported, so it can be imported again
once the profile or the accounts are fixed.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
from sqlalchemy import select
from sqlalchemy.orm import Session

from ingest.csv.conversions import Converted, as_mask, quantities, timestamps
from ingest.csv.profiles import BYTE_UNITS, DURATION_UNITS, UsageProfile
from ingest.csv.records import Records, find_records
from ingest.landing import batch_manifest, content_batch_id, land, landed_batches
from jet.errors import JetError
from jet.store.models import Account
from schemas.raw import UPSTREAM_CSV

SOURCE = "upstream_csv"
QUARANTINE_COLUMNS = ("jet_line", "jet_reasons")
_SHOW = 60  # characters of a value quoted in a reason

# account id -> its realm, for the ids of those given that exist
AccountLookup = Callable[[list[str]], dict[str, str]]


class UsageFileError(JetError, ValueError):
    """A file that cannot be read with its profile at all; nothing was imported."""


@dataclass(frozen=True)
class Rejected:
    """A quarantined row: its physical line, what was wrong with it, and its record's
    bytes as they were in the file."""

    line: int
    reasons: str
    record: bytes


@dataclass(frozen=True)
class CheckedFile:
    """A usage file read through its profile: the good rows as an UPSTREAM_CSV table,
    the bad ones, and the header record (None without one), for the quarantine."""

    good: pa.Table
    rejected: list[Rejected]
    header: bytes | None


@dataclass(frozen=True)
class UsageImport:
    """What an import did. `landed_at` is set when the file was already imported (by
    this import's batch id, with `landed` the rows it landed then)."""

    batch_id: str
    landed: int
    rejected: list[Rejected]
    quarantine: Path | None
    landed_at: str | None = None


def usage_batch_id(data: bytes, profile: UsageProfile) -> str:
    """`usage-<16 hex of the file's sha256>-<16 hex of the profile's meaning>`."""
    return content_batch_id(content_batch_id("usage-", data) + "-", profile.fingerprint())


def import_usage(
    path: Path,
    profile: UsageProfile,
    *,
    raw_root: Path,
    quarantine_dir: Path,
    session: Session,
    now: datetime | None = None,
) -> UsageImport:
    """Import one usage file: quarantine its bad rows, then land the good ones once.

    The quarantine is written before the batch lands, so an import killed in between
    leaves the file not imported and the next attempt writes the same quarantine."""
    path = Path(path)
    data = path.read_bytes()  # hash and parse the same bytes, even if the file changes
    batch_id = usage_batch_id(data, profile)
    quarantine = Path(quarantine_dir) / f"{path.stem}-{batch_id}.csv"
    earlier = batch_manifest(SOURCE, batch_id, raw_root)
    if earlier is not None:
        return UsageImport(
            batch_id,
            int(earlier["rows"]),
            [],
            quarantine if quarantine.exists() else None,
            earlier["landed_at"],
        )
    file_prefix = batch_id.rsplit("-", 1)[0] + "-"
    other = sorted(b for b in landed_batches(SOURCE, raw_root) if b.startswith(file_prefix))
    if other:
        manifest = batch_manifest(SOURCE, other[0], raw_root) or {}
        raise UsageFileError(
            f"{path}: these bytes were already imported with another profile, on "
            f"{manifest.get('landed_at', '?')} as batch {other[0]}; importing them with "
            f"profile {profile.name!r} would count their usage twice. If that import was "
            f"wrong, remove its batch from {Path(raw_root) / SOURCE} (the manifest "
            f"_manifests/{other[0]}.json, then date=*/{other[0]}.parquet) first."
        )

    checked = read_usage(
        data, path.name, profile, lambda ids: _accounts(session, ids), now or datetime.now(UTC)
    )
    rejected = checked.rejected
    if rejected:
        _write_quarantine(quarantine, checked, profile)
    if checked.good.num_rows == 0:
        return UsageImport(batch_id, 0, rejected, quarantine if rejected else None)
    result = land(SOURCE, checked.good, batch_id, raw_root)
    if result.already_landed:  # another import of the same file won the race
        landed_at = (batch_manifest(SOURCE, batch_id, raw_root) or {}).get("landed_at")
        return UsageImport(batch_id, result.rows, [], quarantine if rejected else None, landed_at)
    return UsageImport(batch_id, result.rows, rejected, quarantine if rejected else None)


def read_usage(
    data: bytes,
    source_file: str,
    profile: UsageProfile,
    accounts: AccountLookup,
    now: datetime,
) -> CheckedFile:
    """Every row of a usage file checked, or UsageFileError if the file cannot be read
    with `profile` at all."""
    data = _without_bom(data, profile)
    records = find_records(data)
    if len(records) == 0:
        raise UsageFileError(f"{source_file}: the file is empty")
    text, undecodable = _decode(data, profile.encoding, records)
    names = _include_columns(records, data, profile, source_file)
    table, invalid = _read_csv(text, profile, names, source_file)

    # row i of the table is record row_record[i]: neither the header nor a skipped one
    keep = np.ones(len(records), dtype=bool)
    keep[0] = not profile.header
    keep[[row.number - 1 for row in invalid]] = False
    row_record = np.flatnonzero(keep)
    if row_record.size != table.num_rows:
        raise UsageFileError(
            f"{source_file}: its records could not be matched to lines ({row_record.size} "
            f"found, {table.num_rows} read); check its quotes"
        )

    values = {key: table.column(name).combine_chunks() for key, name in names.items()}
    blank = np.logical_and.reduce(
        [as_mask(pc.equal(pc.utf8_trim_whitespace(v), "")) for v in values.values()]
    )
    checks = _checks(values, profile, accounts, now)

    reasons: dict[int, list[str]] = {}  # record index -> what is wrong with it
    for row in invalid:
        reasons[row.number - 1] = [
            f"expected {row.expected_columns} fields, got {row.actual_columns}"
        ]
    for record in undecodable:
        reasons.setdefault(int(record), []).append(
            f"not {profile.encoding} text (is the file's encoding the profile's?)"
        )
    labels = {key: _label(column) for key, column in profile.columns().items()}
    for key, converted in checks.items():
        for mask, message in converted.problems:
            for i in np.flatnonzero(mask & ~blank):
                value = _show(values[key][int(i)].as_py().strip())
                reasons.setdefault(int(row_record[i]), []).append(
                    f"{labels[key]}: {message.format(value=value)}"
                )

    good = ~blank & ~np.isin(row_record, list(reasons))
    zeros = pa.array(np.zeros(table.num_rows, dtype=np.uint64))
    landed = pa.table(
        {
            "account_id": checks["account.column"].values,
            "ts": checks["timestamp.column"].values,
            "bytes_in": checks["bytes.in"].values if "bytes.in" in checks else zeros,
            "bytes_out": checks["bytes.out"].values if "bytes.out" in checks else zeros,
            "seconds": checks["duration.column"].values if profile.duration else zeros,
            "source_file": pa.repeat(pa.scalar(source_file), table.num_rows),
            "source_line": pa.array(records.line[row_record], pa.uint32()),
        }
    ).filter(pa.array(good))
    rejected = [
        Rejected(int(records.line[i]), "; ".join(messages), _record(data, records, i))
        for i, messages in sorted(reasons.items())
    ]
    header = _record(data, records, 0) if profile.header else None
    return CheckedFile(landed.cast(UPSTREAM_CSV), rejected, header)


def _read_csv(
    text: bytes, profile: UsageProfile, names: dict[str, str], source_file: str
) -> tuple[pa.Table, list[pcsv.InvalidRow]]:
    """The profile's columns as text, and the rows with the wrong number of fields."""
    invalid: list[pcsv.InvalidRow] = []

    def on_invalid(row: pcsv.InvalidRow) -> str:
        invalid.append(row)
        return "skip"

    try:
        table = pcsv.read_csv(
            io.BytesIO(text),
            # one thread, so that InvalidRow.number is set and maps to a record
            read_options=pcsv.ReadOptions(
                use_threads=False, autogenerate_column_names=not profile.header
            ),
            parse_options=pcsv.ParseOptions(
                delimiter=profile.delimiter,
                newlines_in_values=True,
                invalid_row_handler=on_invalid,
            ),
            convert_options=pcsv.ConvertOptions(
                include_columns=list(names.values()),
                column_types={name: pa.string() for name in names.values()},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowKeyError) as exc:
        raise UsageFileError(
            f"{source_file}: not readable as CSV with the delimiter {profile.delimiter!r} "
            f"of profile {profile.name!r}: {exc}"
        ) from None
    return table, invalid


def _checks(
    values: dict[str, pa.Array], profile: UsageProfile, accounts: AccountLookup, now: datetime
) -> dict[str, Converted]:
    """Each column the profile reads, converted, by key path."""
    checks = {
        "account.column": _account_ids(values["account.column"], profile, accounts),
        "timestamp.column": timestamps(
            values["timestamp.column"], profile.timestamp.format, profile.timestamp.timezone, now
        ),
    }
    unit = profile.bytes.unit
    for key in ("bytes.in", "bytes.out"):
        if key in values:
            checks[key] = quantities(values[key], unit, BYTE_UNITS[unit], "bytes", profile.round)
    if profile.duration is not None:
        unit = profile.duration.unit
        checks["duration.column"] = quantities(
            values["duration.column"], unit, DURATION_UNITS[unit], "seconds", profile.round
        )
    return checks


def _decode(data: bytes, encoding: str, records: Records) -> tuple[bytes, np.ndarray]:
    """The file as UTF-8 for pyarrow, and the records that are not text in `encoding`
    (their bad bytes replaced by U+FFFD, so the row is still read, and reported)."""
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        pass
    else:
        return (data if encoding == "utf-8" else text.encode("utf-8")), np.zeros(0, np.int64)
    bad = []
    for i, (start, end) in enumerate(zip(records.start, records.end, strict=True)):
        try:
            data[start:end].decode(encoding)
        except UnicodeDecodeError:
            bad.append(i)
    # a replacement never swallows a line break or a quote: the records stay as they are
    return data.decode(encoding, errors="replace").encode("utf-8"), np.array(bad, np.int64)


def _include_columns(
    records: Records, data: bytes, profile: UsageProfile, source_file: str
) -> dict[str, str]:
    """The name pyarrow gives each column the profile reads, by key path; UsageFileError
    naming the column and the profile if the file has no such column."""
    first = _record(data, records, 0).decode(profile.encoding, errors="replace")
    fields = next(csv.reader([first], delimiter=profile.delimiter), [])
    names: dict[str, str] = {}
    missing = []
    for key, column in profile.columns().items():
        if isinstance(column, int):
            if column > len(fields):
                missing.append(f"{key} is column {column}, but the file has {len(fields)}")
            else:
                names[key] = fields[column - 1] if profile.header else f"f{column - 1}"
            continue
        found = [name for name in fields if name.strip().lower() == column.lower()]
        if len(found) != 1:
            how = "is not in" if not found else "appears twice in"
            missing.append(f"{key} is {column!r}, which {how} the header")
        else:
            names[key] = found[0]
    if missing:
        header = f"; the header is {first!r}" if profile.header else ""
        raise UsageFileError(
            f"{source_file} does not fit profile {profile.name!r}: {'; '.join(missing)}"
            f"{header}. Check the file, or fix the profile's columns."
        )
    return names


def _account_ids(keys: pa.Array, profile: UsageProfile, accounts: AccountLookup) -> Converted:
    """The account id of each row's key, and the rows whose key names no account."""
    text = pl.from_arrow(keys).str.strip_chars()
    realm = pl.repeat(None, len(text), dtype=pl.String, eager=True)
    if profile.account.kind == "user_name":
        parts = text.str.extract_groups(r"^(.*)@([^@]*)$")
        realm = parts.struct.field("2").str.to_lowercase().replace("", None)
        text = parts.struct.field("1").fill_null(text)
        expected = "a user name such as alice@acme"
    else:
        expected = "an account id"
    empty = (text == "").to_numpy()
    known = accounts(sorted(text.filter(text != "").unique().to_list()))
    home = text.replace_strict(known, default=None, return_dtype=pl.String)
    unknown = (home.is_null() & (text != "")).to_numpy()
    wrong_realm = (realm.is_not_null() & home.is_not_null() & (realm != home)).fill_null(False)
    problems = [
        (empty, f"empty, expected {expected}"),
        (unknown, "{value} is not an account in Jet (add it, then import the quarantine)"),
        (wrong_realm.to_numpy(), "{value} names a realm its account is not in"),
    ]
    return Converted(text.to_arrow().cast(pa.string()), problems)


def _accounts(session: Session, ids: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for i in range(0, len(ids), 500):  # stay under the backends' parameter limits
        rows = session.execute(
            select(Account.id, Account.realm_id).where(Account.id.in_(ids[i : i + 500]))
        )
        found.update({account_id: realm_id for account_id, realm_id in rows})
    return found


def _write_quarantine(path: Path, checked: CheckedFile, profile: UsageProfile) -> None:
    """The bad records in the file's own layout, plus `jet_line` and `jet_reasons`;
    written whole (to a temporary name, then renamed) or not at all."""

    def extra(*values: str) -> bytes:
        fields = "".join(profile.delimiter + _quoted(v, profile.delimiter) for v in values)
        return fields.encode(profile.encoding, errors="replace")

    lines = [checked.header + extra(*QUARANTINE_COLUMNS)] if checked.header is not None else []
    lines += [row.record + extra(str(row.line), row.reasons) for row in checked.rejected]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(b"\n".join(lines) + b"\n")
    os.replace(tmp, path)


def _record(data: bytes, records: Records, i: int) -> bytes:
    return data[records.start[i] : records.end[i]]


def _quoted(value: str, delimiter: str) -> str:
    if delimiter in value or any(c in value for c in '"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def _without_bom(data: bytes, profile: UsageProfile) -> bytes:
    """What spreadsheets write first in a UTF-8 file is not data."""
    if profile.encoding == "utf-8" and data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :]
    return data


def _label(column: int | str) -> str:
    return f"column {column}" if isinstance(column, int) else column


def _show(value: str) -> str:
    text = repr(value)
    return text if len(text) <= _SHOW else text[: _SHOW - 3] + "..."
