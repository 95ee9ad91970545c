"""camt.053 bank statements written as a bank writes them (ISO 20022 BkToCstmrStmt, in
the element order of the standard): the demo's bank, and the statement tests' and
benchmark's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from xml.sax.saxutils import escape


@dataclass(frozen=True, slots=True)
class Booked:
    """One entry: a credit (a customer's transfer, a collected debit) or a debit (with
    `return_code`, a returned direct debit)."""

    ref: str
    amount: str
    credit: bool = True
    day: date = date(2026, 1, 20)
    reference: str = ""
    end_to_end_id: str | None = None
    name: str | None = None
    iban: str | None = None
    return_code: str | None = None


def statement(
    iban: str, entries: list[Booked], ident: str = "STMT-2026-01-20", version: str = "08"
) -> bytes:
    """A camt.053.001.`version` document (02 and 08 differ in status and party shapes)."""
    v08 = version >= "08"
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}">',
        "<BkToCstmrStmt><GrpHdr><MsgId>MSG-" + escape(ident) + "</MsgId>",
        "<CreDtTm>2026-01-21T06:00:00</CreDtTm></GrpHdr>",
        f"<Stmt><Id>{escape(ident)}</Id><CreDtTm>2026-01-21T06:00:00</CreDtTm>",
        f"<Acct><Id><IBAN>{iban}</IBAN></Id><Ccy>EUR</Ccy></Acct>",
        '<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">0.00</Amt>',
        "<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-01-20</Dt></Dt></Bal>",
    ]
    parts += [_entry(e, v08) for e in entries]
    parts.append("</Stmt></BkToCstmrStmt></Document>")
    return "\n".join(parts).encode()


def _entry(e: Booked, v08: bool) -> str:
    status = "<Sts><Cd>BOOK</Cd></Sts>" if v08 else "<Sts>BOOK</Sts>"
    side = "Dbtr" if e.credit else "Cdtr"
    party = ""
    if e.name:
        name = f"<Nm>{escape(e.name)}</Nm>"
        party = f"<{side}>{f'<Pty>{name}</Pty>' if v08 else name}</{side}>"
    if e.iban:
        party += f"<{side}Acct><Id><IBAN>{e.iban}</IBAN></Id></{side}Acct>"
    refs = f"<Refs><EndToEndId>{e.end_to_end_id or 'NOTPROVIDED'}</EndToEndId></Refs>"
    # From camt.053.001.04 on, a transaction repeats its amount and direction.
    amount = (
        f'<Amt Ccy="EUR">{e.amount}</Amt><CdtDbtInd>{"CRDT" if e.credit else "DBIT"}</CdtDbtInd>'
    )
    returned = ""
    if e.return_code:
        returned = f"<RtrInf><Rsn><Cd>{e.return_code}</Cd></Rsn></RtrInf>"
    remittance = f"<RmtInf><Ustrd>{escape(e.reference)}</Ustrd></RmtInf>" if e.reference else ""
    return (
        f'<Ntry><NtryRef>{e.ref}</NtryRef><Amt Ccy="EUR">{e.amount}</Amt>'
        f"<CdtDbtInd>{'CRDT' if e.credit else 'DBIT'}</CdtDbtInd>"
        f"{'<RvslInd>true</RvslInd>' if e.return_code else ''}{status}"
        f"<BookgDt><Dt>{e.day}</Dt></BookgDt><ValDt><Dt>{e.day}</Dt></ValDt>"
        f"<AcctSvcrRef>{e.ref}</AcctSvcrRef>"
        "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>"
        f"<NtryDtls><TxDtls>{refs}{amount if v08 else ''}"
        f"{f'<RltdPties>{party}</RltdPties>' if party else ''}{remittance}{returned}"
        "</TxDtls></NtryDtls></Ntry>"
    )
