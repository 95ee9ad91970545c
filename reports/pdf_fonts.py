"""The Unicode fonts documents print with, fast enough for a billing run's thousands.

fpdf2 parses a TrueType font on `add_font` (about 10 ms for the shipped DejaVu Sans
subset) and, on `output`, subsets it to the glyphs the document used, builds its widths,
its ToUnicode map and a 128 KB CIDToGIDMap and compresses them (about 15 ms a font).
Here that is done once per process and glyph set, not per document:

- `use_fonts` gives a document its own light copy of a font parsed once (`_template`):
  the character widths and maps are shared, what a document changes (the glyphs it used,
  its font descriptor) is its own. The copy starts with a fixed glyph set, ASCII,
  Latin-1 and common punctuation (`FIXED`), each at a fixed code, so every document
  that prints nothing else embeds the very same font; a glyph outside the set (a Greek
  or Cyrillic name) is added after them, in the order the document prints it.
- `FastFonts`, the output producer, makes each font's embedded objects (the font file
  cut to the document's glyphs, widths, ToUnicode, CIDToGIDMap) once per glyph set and
  keeps them (`_embedded`): a run makes them a handful of times. The same document gives
  the same bytes, whichever documents a process rendered before.

The shipped font, reports/fonts/DejaVuSans*.ttf, is DejaVu Sans (its LICENSE beside it)
cut to Latin, Latin Extended, Greek, Cyrillic, punctuation and currency signs
(reports/fonts/README.md says how). A realm whose customers write in other scripts names its own
TTF files (branding `font_regular`, `font_bold`)."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import cache
from io import BytesIO
from pathlib import Path

from fontTools import subset as ftsubset
from fontTools import ttLib
from fpdf import FPDF
from fpdf.fonts import CoreFont, TTFFont
from fpdf.output import (
    CIDSystemInfo,
    OutputProducer,
    PDFContentStream,
    PDFFont,
    _build_cmap_blocks,
    _cid_font_widths,
)
from fpdf.syntax import Name, PDFArray

FONTS = Path(__file__).parent / "fonts"
REGULAR = FONTS / "DejaVuSans.ttf"
BOLD = FONTS / "DejaVuSans-Bold.ttf"
FAMILY = "jet"  # the family name documents set: set_font(FAMILY, style="B")
# Embedded in every document: printable ASCII, Latin-1 and the punctuation invoices use.
FIXED = (
    "".join(map(chr, range(0x20, 0x7F)))
    + "".join(map(chr, range(0xA0, 0x100)))
    + "\u2013\u2014\u2018\u2019\u201a\u201c\u201d\u201e\u2022\u2026\u20ac\u2212\u2122"
)


def use_fonts(pdf: FPDF, regular: str | Path | None = None, bold: str | Path | None = None) -> None:
    """Give `pdf` the family `FAMILY` (regular and bold): the shipped font, or a realm's."""
    for style, path in (("", regular or REGULAR), ("B", bold or regular or BOLD)):
        pdf.fonts[f"{FAMILY}{style}"] = _copy(_template(str(path), style), len(pdf.fonts) + 1)


@cache
def _template(path: str, style: str) -> TTFFont:
    """The font in `path`, parsed once per process, its `FIXED` glyphs picked in order."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"font file {path} does not exist")
    scratch = FPDF()
    scratch.add_font(FAMILY, style, path)
    font = scratch.fonts[f"{FAMILY}{style}"]
    # By width: the widths array (W) is then a range a width, a third as long, and every
    # PDF reader parses it (factur-x's pypdf rewrite parses each number).
    fixed = sorted((font.cw[ord(c)], ord(c)) for c in FIXED if ord(c) in font.cmap)
    for _, code in fixed:
        font.subset.pick_glyph(font.subset.get_glyph(unicode=code))
    return font


class _DocumentFont(TTFFont):
    """A document's copy of a template font. Text of `FIXED` characters only, whose codes
    are the same in every document, is encoded once per process: labels, product names,
    periods and amounts recur on every invoice."""

    __slots__ = ()  # TTFFont's layout, so that a copy of one can become one

    def encode_text(self, text: str) -> str:
        if not _FIXED_SET.issuperset(text):
            return super().encode_text(text)
        key = (self.ttffile, text)
        encoded = _ENCODED.get(key)
        if encoded is None:
            if len(_ENCODED) >= _ENCODED_MAX:
                _ENCODED.clear()
            encoded = _ENCODED[key] = super().encode_text(text)
        return encoded


_FIXED_SET = frozenset(FIXED)
_ENCODED: dict[tuple, str] = {}
_ENCODED_MAX = 65536


def _copy(template: TTFFont, index: int) -> TTFFont:
    """A document's own font: the parse shared, the glyphs it uses and its descriptor its own."""
    font = copy.copy(template)
    font.__class__ = _DocumentFont
    font.i = index
    font.desc = copy.copy(template.desc)
    font.missing_glyphs = []
    font.biggest_size_pt = 0
    font._hbfont = None
    subset = copy.copy(template.subset)
    subset.font = font
    subset._char_id_per_glyph = dict(template.subset._char_id_per_glyph)
    subset._reserved = list(template.subset._reserved)
    font.subset = subset
    return font


@cache
def _file_bytes(path: str) -> bytes:
    return Path(path).read_bytes()


@dataclass(frozen=True)
class _Embedded:
    """What a font embeds for one glyph set: compressed streams and the widths array."""

    font_file: bytes  # compressed
    font_file_length: int  # uncompressed: /Length1
    to_unicode: bytes
    cid_to_gid: bytes  # compressed
    widths: str


_EMBEDDED: dict[tuple, _Embedded] = {}
_EMBEDDED_MAX = 256


def _embedded(font: TTFFont) -> _Embedded:
    """The font's objects for the glyphs its document picked: made once per glyph set."""
    glyphs = tuple(
        (glyph.glyph_name, glyph.glyph_id, glyph.unicode, glyph.glyph_width, code)
        for glyph, code in font.subset.items()
        if glyph is not None
    )
    key = (str(font.ttffile), glyphs)
    found = _EMBEDDED.get(key)
    if found is None:
        if len(_EMBEDDED) >= _EMBEDDED_MAX:
            _EMBEDDED.clear()
        found = _EMBEDDED[key] = _make_embedded(font, glyphs)
    return found


def _make_embedded(font: TTFFont, glyphs: tuple) -> _Embedded:
    """As fpdf2's `OutputProducer._add_fonts` makes them for a TrueType font."""
    ttfont = ttLib.TTFont(BytesIO(_file_bytes(str(font.ttffile))), recalcTimestamp=False)
    options = ftsubset.Options(notdef_outline=True, recommended_glyphs=True)
    options.drop_tables += [
        "FFTM", "GDEF", "GPOS", "GSUB", "MATH", "hdmx", "meta", "sbix", "CBDT", "CBLC",
        "EBDT", "EBLC", "EBSC", "SVG ", "CPAL", "COLR",
    ]  # fmt: skip
    subsetter = ftsubset.Subsetter(options)
    subsetter.populate(glyphs=[name for name, *_ in glyphs])
    subsetter.subset(ttfont)
    out = BytesIO()
    ttfont.save(out)
    data = out.getvalue()
    cid_to_gid = bytearray(256 * 256 * 2)
    for name, _, _, _, code in glyphs:
        gid = ttfont.getGlyphID(name)
        cid_to_gid[code * 2], cid_to_gid[code * 2 + 1] = gid >> 8, gid & 0xFF
    mappings = [
        f"<{code:04X}> <{''.join(_utf16(u) for u in unicode)}>\n"
        for _, _, unicode, _, code in glyphs
        if isinstance(unicode, tuple) and unicode
    ]
    to_unicode = (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo\n"
        "<</Registry (Adobe)\n/Ordering (UCS)\n/Supplement 0\n>> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n1 begincodespacerange\n"
        "<0000> <FFFF>\nendcodespacerange\n"
        f"{_build_cmap_blocks(mappings, 'bfchar')}"
        "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend"
    ).encode("latin-1")
    return _Embedded(
        font_file=PDFContentStream(data, compress=True).content_stream(),
        font_file_length=len(data),
        to_unicode=to_unicode,
        cid_to_gid=PDFContentStream(bytes(cid_to_gid), compress=True).content_stream(),
        widths=_cid_font_widths({code: width for _, _, _, width, code in glyphs}),
    )


def _utf16(code: int) -> str:
    if code > 0xFFFF:  # a surrogate pair
        return f"{0xD800 | (code - 0x10000) >> 10:04X}{0xDC00 | (code & 0x3FF):04X}"
    return f"{code:04X}"


class _Stream(PDFContentStream):
    """A stream whose (compressed) contents were made before."""

    def __init__(self, contents: bytes, compressed: bool) -> None:
        super().__init__(b"")
        self._contents = contents
        self.filter = Name("FlateDecode") if compressed else None
        self.length = len(contents)


class FastFonts(OutputProducer):
    """fpdf2's output, each TrueType font's objects from `_embedded`.

    Pass it as `pdf.output(output_producer_class=FastFonts)`. A document with a colour
    font, or one PDF/A-1 asks a CIDSet of, goes fpdf2's own way."""

    def _add_fonts(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        fonts = sorted(self.fpdf.fonts.values(), key=lambda font: font.i)
        compliance = self.fpdf._compliance
        if any(isinstance(f, TTFFont) and f.color_font for f in fonts) or (
            compliance and compliance.profile == "PDFA" and compliance.part == 1
        ):
            return super()._add_fonts(*args, **kwargs)
        objects: dict[int, PDFFont] = {}
        for font in fonts:
            if isinstance(font, CoreFont):
                encoding = (
                    "WinAnsiEncoding" if font.name not in ("Symbol", "ZapfDingbats") else None
                )
                objects[font.i] = PDFFont(subtype="Type1", base_font=font.name, encoding=encoding)
                self._add_pdf_obj(objects[font.i], "fonts")
            else:
                objects[font.i] = self._add_truetype(font)
        return objects

    def _add_truetype(self, font: TTFFont) -> PDFFont:
        """The objects fpdf2 adds for a TrueType font, in its order, from `_embedded`."""
        embedded = _embedded(font)
        name = f"MPDFAA+{font.name}"
        composite = PDFFont(subtype="Type0", base_font=name, encoding="Identity-H")
        self._add_pdf_obj(composite, "fonts")
        cid_font = PDFFont(
            subtype="CIDFontType2", base_font=name, d_w=font.desc.missing_width, w=embedded.widths
        )
        self._add_pdf_obj(cid_font, "fonts")
        composite.descendant_fonts = PDFArray([cid_font])
        to_unicode = _Stream(embedded.to_unicode, compressed=False)
        self._add_pdf_obj(to_unicode, "fonts")
        composite.to_unicode = to_unicode
        system_info = CIDSystemInfo()
        self._add_pdf_obj(system_info, "fonts")
        cid_font.c_i_d_system_info = system_info
        descriptor = font.desc
        descriptor.font_name = Name(name)
        self._add_pdf_obj(descriptor, "fonts")
        cid_font.font_descriptor = descriptor
        cid_to_gid = _Stream(embedded.cid_to_gid, compressed=True)
        self._add_pdf_obj(cid_to_gid, "fonts")
        cid_font.c_i_d_to_g_i_d_map = cid_to_gid
        font_file = _Stream(embedded.font_file, compressed=True)
        font_file.length1 = embedded.font_file_length  # type: ignore[attr-defined]
        self._add_pdf_obj(font_file, "fonts")
        descriptor.font_file2 = font_file  # type: ignore[attr-defined]
        font.subset.pick.cache_clear()
        font.subset.get_glyph.cache_clear()
        return composite
