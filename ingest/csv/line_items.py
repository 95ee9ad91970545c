"""External line items from a CSV file: charges or credits from outside Jet.

A static IP block, a contractor's install fee, a goodwill credit: each lands on its
billing account's next invoice, in arrears of its date (billing-rules.md). The format
(one file per batch, header first, UTF-8)::

    account,date,description,amount,taxable
    alice,2026-02-10,Static IP block /29,15.00,true
    bob,2026-02-12,"Goodwill credit, outage 2026-02-03",-10.00,no

- `date` is ISO `YYYY-MM-DD`; the item is billed on the invoice whose arrears window
  `[A, B)` holds it.
- `amount` is a decimal with a point, at most 6 places and 12 digits before the point
  (what the rating models keep), never an exponent or a decimal comma; negative is a
  credit, zero is allowed. It is read as text into `Decimal`, never through float.
- `taxable` is true/false, yes/no or 1/0 (any case); empty means true.
- `description` is 1 to 200 characters; quote it when it holds a comma.
- Values are trimmed of surrounding spaces; blank lines and rows of only empty
  values (`,,,,` as spreadsheets export them) are skipped.

Line numbers are the file's physical lines, the header being line 1, so a bad row can
be found in an editor. A file with any bad row (including an account the store does
not know) is refused whole, with every bad row listed: billing half a batch is worse
than billing none. A file is identified by its name and the sha256 of its bytes, so
importing the same file again adds nothing.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from jet.errors import JetError
from jet.store.models import Account, LineItem

COLUMNS = ("account", "date", "description", "amount", "taxable")
MAX_DESCRIPTION = 200  # LineItem.description
MAX_PLACES = 6  # billing-rules.md: prices and rates carry up to 6 places
MAX_WHOLE_DIGITS = 12  # stg_ops__line_items keeps amounts as decimal(18, 6)
MAX_SOURCE = 200  # LineItem.source

_AMOUNT = re.compile(r"[+-]?[0-9]+(?:\.([0-9]+))?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TAXABLE = {
    "": True,
    "true": True,
    "yes": True,
    "1": True,
    "false": False,
    "no": False,
    "0": False,
}


class LineItemsError(JetError, ValueError):
    """A refused file: every bad row, each as (line number, what was wrong and expected)."""

    def __init__(self, source: str, problems: list[tuple[int, str]]) -> None:
        self.source = str(source)
        self.problems = sorted(problems)
        lines = [f"{self.source}: refused, nothing was imported"]
        lines += [f"  line {line}: {message}" for line, message in self.problems]
        super().__init__("\n".join(lines))


@dataclass(frozen=True, slots=True)
class LineItemRow:
    """One valid row of a line-items file; `line` is its physical line (header = 1)."""

    line: int
    account: str
    date: datetime.date
    description: str
    amount: Decimal
    taxable: bool


@dataclass(frozen=True, slots=True)
class ImportResult:
    imported: int
    already_imported: bool


@dataclass
class _Parsed:
    rows: list[LineItemRow] = field(default_factory=list)
    # line -> what is wrong with it (a bad row has one or more)
    problems: dict[int, list[str]] = field(default_factory=dict)
    # line -> account id, for every row that names one (valid or not)
    accounts: dict[int, str] = field(default_factory=dict)

    def refuse(self, line: int, message: str) -> None:
        self.problems.setdefault(line, []).append(message)

    def error(self, path: Path) -> LineItemsError:
        return LineItemsError(
            str(path), [(line, "; ".join(msgs)) for line, msgs in self.problems.items()]
        )


def read_line_items(path: Path) -> list[LineItemRow]:
    """Read and validate one line-items file, or raise LineItemsError listing every bad row.

    Accounts are not checked here (that needs the store): see `import_line_items`."""
    path = Path(path)
    parsed = _parse(path.read_bytes(), path)
    if parsed.problems:
        raise parsed.error(path)
    return parsed.rows


def import_line_items(session: Session, path: Path) -> ImportResult:
    """Store every row of `path` as a LineItem in `session`'s transaction, or nothing.

    The rows' source is `<file name>#sha256:<first 16 hex of the file's sha256>`; a file
    whose source already has rows is not imported again (`already_imported`). A file
    with a bad row or an account that does not exist raises LineItemsError and adds
    nothing."""
    path = Path(path)
    data = path.read_bytes()  # hash and parse the same bytes, even if the file changes
    source = source_name(path, data)
    if session.scalar(select(LineItem.id).where(LineItem.source == source).limit(1)):
        return ImportResult(imported=0, already_imported=True)

    parsed = _parse(data, path)
    known = _existing_accounts(session, set(parsed.accounts.values()))
    for line, account in parsed.accounts.items():
        if account not in known:
            parsed.refuse(
                line,
                f"account {account!r} does not exist; expected the id of an account in "
                "the store (add the account first, or correct the id)",
            )
    if parsed.problems:
        raise parsed.error(path)

    session.add_all(
        LineItem(
            account_id=row.account,
            item_date=row.date,
            description=row.description,
            amount=row.amount,
            taxable=row.taxable,
            source=source,
            source_line=row.line,
        )
        for row in parsed.rows
    )
    session.flush()
    return ImportResult(imported=len(parsed.rows), already_imported=False)


def source_name(path: Path, data: bytes) -> str:
    """`<file name>#sha256:<16 hex>`: which file, and which bytes of it, rows came from."""
    suffix = f"#sha256:{hashlib.sha256(data).hexdigest()[:16]}"
    return Path(path).name[: MAX_SOURCE - len(suffix)] + suffix


def _existing_accounts(session: Session, ids: set[str]) -> set[str]:
    found: set[str] = set()
    wanted = sorted(ids)
    for i in range(0, len(wanted), 500):  # stay under the backends' parameter limits
        chunk = wanted[i : i + 500]
        found.update(session.scalars(select(Account.id).where(Account.id.in_(chunk))))
    return found


def _parse(data: bytes, path: Path) -> _Parsed:
    parsed = _Parsed()
    header_hint = f"expected the header line {','.join(COLUMNS)}"
    try:
        text = data.decode("utf-8-sig")  # a BOM, as spreadsheets write it, is not data
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        parsed.refuse(line, "the file is not UTF-8 text; save it as CSV UTF-8 and import again")
        return parsed

    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] | None = None
    header_line = 1
    while True:
        start = reader.line_num + 1  # a quoted value may span lines: report where it starts
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            parsed.refuse(start, f"not readable as CSV ({exc}); check the quotes on this line")
            return parsed
        if not any(value.strip() for value in record):
            continue  # a blank line, or a spreadsheet's empty row (",,,,")
        if header is None:
            header, header_line = [name.strip().lower() for name in record], start
            if sorted(header) != sorted(COLUMNS) or len(set(header)) != len(header):
                parsed.refuse(start, f"{header_hint}, got {','.join(record)}")
                return parsed
            continue
        _parse_row(parsed, start, dict(zip(header, record, strict=False)), len(record))

    if header is None:
        parsed.refuse(1, f"the file is empty; {header_hint} and one line item per line")
    elif not parsed.rows and not parsed.problems:
        parsed.refuse(
            header_line, "the file has no line items; expected one line item per line after it"
        )
    return parsed


def _parse_row(parsed: _Parsed, line: int, values: dict[str, str], count: int) -> None:
    if count != len(COLUMNS):
        parsed.refuse(
            line,
            f"expected {len(COLUMNS)} columns ({','.join(COLUMNS)}), got {count}; "
            "quote a description that holds a comma",
        )
        return

    problems: list[str] = []

    account = values["account"].strip()
    if account:
        parsed.accounts[line] = account
    else:
        problems.append("account is empty; expected the id of an account")

    raw_date = values["date"].strip()
    item_date = None
    if _DATE.fullmatch(raw_date):
        try:
            item_date = datetime.date.fromisoformat(raw_date)
        except ValueError:
            problems.append(f"date {raw_date!r} is not a calendar date; expected YYYY-MM-DD")
    else:
        problems.append(f"date {raw_date!r} is not a date; expected YYYY-MM-DD such as 2026-02-10")

    description = values["description"].strip()
    if not description:
        problems.append("description is empty; expected what the charge is for")
    elif len(description) > MAX_DESCRIPTION:
        problems.append(
            f"description has {len(description)} characters; expected at most {MAX_DESCRIPTION}"
        )

    raw_amount = values["amount"].strip()
    amount = None
    match = _AMOUNT.fullmatch(raw_amount)
    if match is None:
        problems.append(
            f"amount {raw_amount!r} is not a decimal number; expected digits with a point "
            f"and at most {MAX_PLACES} decimal places, such as 15.00 or -10.50 for a credit"
        )
    elif match.group(1) is not None and len(match.group(1)) > MAX_PLACES:
        problems.append(
            f"amount {raw_amount!r} has {len(match.group(1))} decimal places; "
            f"expected at most {MAX_PLACES}"
        )
    else:
        amount = Decimal(raw_amount)
        if abs(amount) >= Decimal(10) ** MAX_WHOLE_DIGITS:
            problems.append(
                f"amount {raw_amount!r} is too large; expected at most "
                f"{MAX_WHOLE_DIGITS} digits before the point"
            )
            amount = None

    raw_taxable = values["taxable"].strip()
    taxable = _TAXABLE.get(raw_taxable.lower())
    if taxable is None:
        problems.append(
            f"taxable {raw_taxable!r} is not a yes or no; "
            "expected true/false, yes/no, 1/0 or empty (true)"
        )

    if problems:
        for message in problems:
            parsed.refuse(line, message)
        return
    assert item_date is not None and amount is not None and taxable is not None
    parsed.rows.append(
        LineItemRow(
            line=line,
            account=account,
            date=item_date,
            description=description,
            amount=amount,
            taxable=taxable,
        )
    )
