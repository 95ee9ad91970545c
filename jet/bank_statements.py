"""Bank statements read into plain lines: ISO 20022 camt.053 (any version from
camt.053.001.02 on) and CSV for banks without it. Reading stores nothing; a file that is
not what it claims is refused whole with where and what is wrong.

Each booked entry's transaction (`TxDtls`; the entry itself when it has none) is one
`Line`. Its `key`, the statement's id and the bank's entry reference, is what makes it
imported once."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from lxml import etree

from jet import bank_ids
from jet.errors import JetError

_CAMT053 = re.compile(r"urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.(\d\d)")
# Why a direct debit came back: the common ISO 20022 return reason codes.
RETURN_REASONS = {
    "AC01": "incorrect account number",
    "AC04": "account closed",
    "AC06": "account blocked",
    "AC13": "debtor account is a consumer account",
    "AG01": "transaction forbidden on this account",
    "AG02": "invalid bank operation code",
    "AM04": "insufficient funds",
    "AM05": "duplicate collection",
    "BE05": "unknown creditor",
    "FF01": "invalid file format",
    "MD01": "no mandate",
    "MD02": "mandate data missing or incorrect",
    "MD06": "refund requested by the debtor",
    "MD07": "debtor deceased",
    "MS02": "refused by the debtor",
    "MS03": "reason not specified",
    "RC01": "bank identifier incorrect",
    "RR01": "missing debtor account or identification",
    "RR02": "missing debtor name or address",
    "RR03": "missing creditor name or address",
    "RR04": "regulatory reason",
    "SL01": "specific service offered by the debtor's bank",
}


class StatementError(JetError, ValueError):
    """A statement file that cannot be read; nothing from it was stored."""


@dataclass(frozen=True, slots=True)
class Line:
    """One booked transaction: `amount` is positive, `credit` says which way it went.
    `reference` is the remittance information (unstructured and structured) and
    `end_to_end_id` the id a direct debit or transfer carried; `return_code` is set on a
    returned debit."""

    key: str
    booked_on: date
    amount: Decimal
    credit: bool
    currency: str
    reference: str = ""
    end_to_end_id: str | None = None
    counterparty: str | None = None
    counterparty_iban: str | None = None
    return_code: str | None = None
    return_text: str | None = None

    @property
    def return_reason(self) -> str:
        """The code and why, as a reversal keeps it: "AM04 insufficient funds"."""
        text = self.return_text or RETURN_REASONS.get(self.return_code or "", "returned")
        return f"{self.return_code} {text}"


@dataclass(frozen=True, slots=True)
class Statement:
    """One account's statement: its id, the account's IBAN and its lines."""

    id: str
    iban: str
    lines: list[Line]


def read_statements(path: Path, fmt: str | None = None, profile: str = "jet") -> list[Statement]:
    """The statements in `path`: camt.053 XML, or CSV (by `fmt`, else by the suffix)."""
    fmt = fmt or ("csv" if path.suffix.lower() == ".csv" else "camt053")
    data = path.read_bytes()
    if fmt == "csv":
        return [read_csv(data, profile, path.name)]
    return read_camt053(data)


# --- camt.053 -------------------------------------------------------------------------


def read_camt053(data: bytes) -> list[Statement]:
    """Every `Stmt` of a camt.053 document; a StatementError names the line and element
    of the first thing that is wrong."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=True, remove_comments=True
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as err:
        line, column = err.position
        raise StatementError(
            f"not a camt.053 statement: the XML is broken at line {line}, column {column}: "
            f"{(err.msg or '').split(', line ')[0]}"
        ) from None
    found = _CAMT053.fullmatch(etree.QName(root).namespace or "")
    if etree.QName(root).localname != "Document" or found is None or int(found[1]) < 2:
        raise StatementError(
            f"not a camt.053 statement: the root element is {root.tag!r}, expected Document "
            "in namespace urn:iso:std:iso:20022:tech:xsd:camt.053.001.02 (or a later version)"
        )
    reader = _Camt(etree.QName(root).namespace)
    report = reader.need(root, "BkToCstmrStmt")
    statements = [reader.statement(stmt) for stmt in reader.all(report, "Stmt")]
    if not statements:
        raise StatementError(f"line {report.sourceline}: BkToCstmrStmt holds no Stmt")
    return statements


class _Camt:
    """Reading one camt.053 version's elements, with errors that say where."""

    def __init__(self, namespace: str) -> None:
        self.ns = namespace
        self._paths: dict[str, str] = {}

    def all(self, element, path: str) -> list:
        return element.findall(self._path(path))

    def one(self, element, path: str):
        return element.find(self._path(path))

    def need(self, element, path: str):
        found = self.one(element, path)
        if found is None:
            raise StatementError(
                f"line {element.sourceline}: {etree.QName(element).localname} has no {path}"
            )
        return found

    def text(self, element, path: str) -> str | None:
        found = self.one(element, path)
        return found.text.strip() if found is not None and found.text else None

    def need_text(self, element, path: str) -> str:
        found = self.need(element, path)
        if not (found.text or "").strip():
            raise StatementError(f"line {found.sourceline}: {path} is empty")
        return found.text.strip()

    def _path(self, path: str) -> str:
        found = self._paths.get(path)
        if found is None:
            found = self._paths[path] = "/".join(f"{{{self.ns}}}{p}" for p in path.split("/"))
        return found

    def statement(self, stmt) -> Statement:
        ident = self.need_text(stmt, "Id")
        iban_node = self.need(stmt, "Acct/Id/IBAN")
        try:
            iban = bank_ids.iban(iban_node.text or "")
        except ValueError as err:
            raise StatementError(f"line {iban_node.sourceline}: Acct/Id/IBAN: {err}") from None
        currency = self.text(stmt, "Acct/Ccy")
        lines: list[Line] = []
        for n, entry in enumerate(self.all(stmt, "Ntry"), 1):
            if self._status(entry) not in ("BOOK", None):
                continue  # pending and information-only entries are not booked money
            lines += self.entry(ident, n, entry, currency)
        return Statement(ident, iban, lines)

    def _status(self, entry) -> str | None:
        # camt.053.001.02-.07: <Sts>BOOK</Sts>; .08 on: <Sts><Cd>BOOK</Cd></Sts>
        return self.text(entry, "Sts/Cd") or self.text(entry, "Sts")

    def entry(self, ident: str, n: int, entry, currency: str | None) -> list[Line]:
        amount, ccy = self.amount(self.need(entry, "Amt"))
        direction = self.need_text(entry, "CdtDbtInd")
        if direction not in ("CRDT", "DBIT"):
            raise StatementError(
                f"line {entry.sourceline}: CdtDbtInd is {direction!r}, expected CRDT or DBIT"
            )
        booked = self.day(entry, "BookgDt")
        ref = self.text(entry, "NtryRef") or self.text(entry, "AcctSvcrRef") or f"#{n}"
        details = self.all(entry, "NtryDtls/TxDtls")
        lines = []
        for t, tx in enumerate(details or [entry], 1):
            tx_amount, tx_ccy = amount, ccy
            found = self.one(tx, "Amt") if details else None
            if found is None and details:
                found = self.one(tx, "AmtDtls/TxAmt/Amt")
            if found is not None:
                tx_amount, tx_ccy = self.amount(found)
            key = f"{ident}/{ref}" if len(details) <= 1 else f"{ident}/{ref}/{t}"
            lines.append(self.line(key, tx, booked, tx_amount, direction == "CRDT", tx_ccy))
        if currency and any(line.currency != currency for line in lines):
            raise StatementError(
                f"line {entry.sourceline}: an amount in another currency than the account's "
                f"{currency}"
            )
        return lines

    def line(self, key: str, tx, booked: date, amount: Decimal, credit: bool, ccy: str) -> Line:
        # The other party: the debtor of a credit, the creditor of a debit (v02 names the
        # party directly, v08 on wraps it in Pty). Parts looked up only when present.
        other = "Dbtr" if credit else "Cdtr"
        name = iban = return_code = return_text = None
        parties = self.one(tx, "RltdPties")
        if parties is not None:
            name = self.text(parties, f"{other}/Nm") or self.text(parties, f"{other}/Pty/Nm")
            iban = self.text(parties, f"{other}Acct/Id/IBAN")
        remittance = []
        info = self.one(tx, "RmtInf")
        if info is not None:
            remittance = [u.text.strip() for u in self.all(info, "Ustrd") if u.text]
            remittance += [r.text.strip() for r in self.all(info, "Strd/CdtrRefInf/Ref") if r.text]
        returned = self.one(tx, "RtrInf")
        if returned is not None:
            return_code = self.text(returned, "Rsn/Cd")
            notes = [a.text.strip() for a in self.all(returned, "AddtlInf") if a.text]
            return_text = " ".join(notes) or None
        return Line(
            key=key,
            booked_on=booked,
            amount=amount,
            credit=credit,
            currency=ccy,
            reference=" ".join(remittance),
            end_to_end_id=_given(self.text(tx, "Refs/EndToEndId")),
            counterparty=name,
            counterparty_iban=iban and iban.replace(" ", "").upper(),
            return_code=return_code,
            return_text=return_text,
        )

    def amount(self, node) -> tuple[Decimal, str]:
        ccy = node.get("Ccy")
        try:
            value = Decimal((node.text or "").strip())
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite() or value < 0 or not ccy:
            raise StatementError(
                f"line {node.sourceline}: Amt {node.text!r} (Ccy {ccy!r}) is not an amount: "
                'expected a positive decimal with its currency, such as <Amt Ccy="EUR">10.00</Amt>'
            )
        return value, ccy

    def day(self, entry, path: str) -> date:
        node = self.need(entry, path)
        text = self.text(node, "Dt") or (self.text(node, "DtTm") or "")[:10]
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise StatementError(
                f"line {node.sourceline}: {path} {text!r} is not a date: expected Dt YYYY-MM-DD"
            ) from None


def _given(value: str | None) -> str | None:
    return None if value in (None, "NOTPROVIDED") else value


# --- CSV ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CsvProfile:
    """How one bank writes its CSV: the delimiter, the decimal mark, the date format."""

    delimiter: str
    decimal: str
    date_format: str


# The columns every profile reads (docs/direct-debit.md); amount is signed (< 0 a debit).
CSV_COLUMNS = ("account_iban", "date", "amount", "currency", "bank_reference")
CSV_OPTIONAL = ("reference", "end_to_end_id", "counterparty", "counterparty_iban", "return_code")
PROFILES = {
    "jet": CsvProfile(",", ".", "%Y-%m-%d"),
    "eu": CsvProfile(";", ",", "%d.%m.%Y"),
}


def read_csv(data: bytes, profile: str, source: str) -> Statement:
    """A CSV statement of one account; the statement id is `csv:` and its IBAN, so a line
    is the same line in whichever file it comes again."""
    if profile not in PROFILES:
        raise StatementError(f"unknown CSV profile {profile!r}: give one of {', '.join(PROFILES)}")
    p = PROFILES[profile]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise StatementError(f"{source} is not UTF-8 text ({err})") from None
    rows = csv.DictReader(io.StringIO(text), delimiter=p.delimiter)
    missing = [c for c in CSV_COLUMNS if c not in (rows.fieldnames or [])]
    if missing:
        raise StatementError(
            f"{source}: no column {', '.join(missing)}; a bank-statement CSV has the columns "
            f"{', '.join(CSV_COLUMNS)} and optionally {', '.join(CSV_OPTIONAL)}"
        )
    ibans: set[str] = set()
    lines = []
    for n, row in enumerate(rows, 2):
        try:
            ibans.add(bank_ids.iban(row["account_iban"] or ""))
            lines.append(_csv_line(row, p))
        except ValueError as err:
            raise StatementError(f"{source} line {n}: {err}") from None
    if len(ibans) != 1:
        raise StatementError(f"{source}: expected the lines of one account, found {len(ibans)}")
    iban = ibans.pop()
    lines = [_keyed(line, f"csv:{iban}") for line in lines]
    return Statement(f"csv:{iban}", iban, lines)


def _csv_line(row: dict, p: CsvProfile) -> Line:
    text = (row["amount"] or "").strip().replace(p.decimal, ".")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"amount {row['amount']!r} is not a decimal") from None
    if not amount.is_finite() or amount == 0:
        raise ValueError(f"amount {row['amount']!r} is not a non-zero amount")
    try:
        booked = datetime.strptime((row["date"] or "").strip(), p.date_format).date()
    except ValueError:
        raise ValueError(f"date {row['date']!r} does not match {p.date_format}") from None
    if not (row["bank_reference"] or "").strip():
        raise ValueError("bank_reference is empty: each line needs the bank's own reference")
    return Line(
        key=row["bank_reference"].strip(),
        booked_on=booked,
        amount=abs(amount),
        credit=amount > 0,
        currency=(row["currency"] or "").strip().upper(),
        reference=(row.get("reference") or "").strip(),
        end_to_end_id=_given((row.get("end_to_end_id") or "").strip() or None),
        counterparty=(row.get("counterparty") or "").strip() or None,
        counterparty_iban=(row.get("counterparty_iban") or "").replace(" ", "").upper() or None,
        return_code=(row.get("return_code") or "").strip() or None,
    )


def _keyed(line: Line, statement_id: str) -> Line:
    return replace(line, key=f"{statement_id}/{line.key}")
