"""The Unicode fonts documents print with, fast enough for a billing run's thousands.

fpdf2 parses a TrueType font on `add_font` (about 10 ms for the shipped DejaVu Sans subset)
and, on `output`, subsets it to the glyphs the document used (about 15 ms a font). Both are
done here once per process and font, not per document:

- `use_fonts` gives a document its own light copy of a font parsed once (`_template`):
  the character widths and maps are shared, what a document changes (the glyphs it used,
  its font descriptor) is its own.
- `FastFonts`, the output producer, cuts each font to the glyphs used plus all of ASCII
  and keeps each cut: documents in the same script share one glyph set, so a run cuts a
  font a handful of times, not once per document. A document saves its font loaded from
  the cut's bytes whether the cut was made now or before: the same document gives the
  same bytes.

The shipped font, reports/fonts/DejaVuSans*.ttf, is DejaVu Sans (its LICENSE beside it)
cut to Latin, Latin Extended, Greek, Cyrillic, punctuation and currency signs
(reports/fonts/README.md says how). A realm whose customers write in other scripts names its own
TTF files (branding `font_regular`, `font_bold`)."""

from __future__ import annotations

import copy
from functools import cache
from io import BytesIO
from pathlib import Path

from fontTools import subset as ftsubset
from fontTools import ttLib
from fpdf import FPDF
from fpdf import output as fpdf_output
from fpdf.fonts import SubsetMap, TTFFont
from fpdf.output import OutputProducer

FONTS = Path(__file__).parent / "fonts"
REGULAR = FONTS / "DejaVuSans.ttf"
BOLD = FONTS / "DejaVuSans-Bold.ttf"
FAMILY = "jet"  # the family name documents set: set_font(FAMILY, style="B")


def use_fonts(pdf: FPDF, regular: str | Path | None = None, bold: str | Path | None = None) -> None:
    """Give `pdf` the family `FAMILY` (regular and bold): the shipped font, or a realm's."""
    for style, path in (("", regular or REGULAR), ("B", bold or regular or BOLD)):
        pdf.fonts[f"{FAMILY}{style}"] = _copy(_template(str(path), style), len(pdf.fonts) + 1)


@cache
def _template(path: str, style: str) -> TTFFont:
    """The font in `path`, parsed once per process."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"font file {path} does not exist")
    scratch = FPDF()
    scratch.add_font(FAMILY, style, path)
    return scratch.fonts[f"{FAMILY}{style}"]


def _copy(template: TTFFont, index: int) -> TTFFont:
    """A document's own font: the parse shared, the glyphs it uses and its descriptor its own."""
    font = copy.copy(template)
    font.i = index
    font.desc = copy.copy(template.desc)
    font.missing_glyphs = []
    font.biggest_size_pt = 0
    font._hbfont = None
    font.subset = SubsetMap(font)
    return font


@cache
def _file_bytes(path: str) -> bytes:
    return Path(path).read_bytes()


class _Cut:
    """A font cut to a glyph set, as fpdf2's output uses it after subsetting: its bytes
    (`save`) and its glyph ids (`getGlyphID`), both made once per cut instead of loading
    and saving the font again for every document."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        order = ttLib.TTFont(BytesIO(data), recalcTimestamp=False).getGlyphOrder()
        self._ids = {name: i for i, name in enumerate(order)}

    def getGlyphID(self, name: str) -> int:  # noqa: N802 (fontTools' name)
        return self._ids[name]

    def save(self, out: BytesIO) -> None:
        out.write(self._data)

    def __contains__(self, table: str) -> bool:  # a TrueType cut has no "CFF " table
        return False

    def close(self) -> None:  # shared by every document that uses the cut: stays open
        pass


_SUBSETS: dict[tuple[str, frozenset[str]], _Cut] = {}  # (font file, glyphs) -> the cut
_SUBSETS_MAX = 512


class _CachedSubsetter:
    """What fpdf2's output calls as `fontTools.subset.Subsetter`, cutting each font to the
    glyphs used plus ASCII (so most documents share one glyph set) and keeping each cut
    once (`_Cut`): a document's font is the cut's bytes, whether made now or before."""

    def __init__(self, options: ftsubset.Options, fonts: dict[int, TTFFont]) -> None:
        self._options, self._fonts = options, fonts
        self._glyphs: frozenset[str] = frozenset()

    def populate(self, glyphs: list[str]) -> None:
        self._glyphs = frozenset(glyphs)

    def subset(self, ttfont: ttLib.TTFont) -> None:
        font = self._fonts[id(ttfont)]
        path = str(font.ttffile)
        glyphs = self._glyphs | _ascii_glyphs(path)
        cut = _SUBSETS.get((path, glyphs))
        if cut is None:
            real = ftsubset.Subsetter(self._options)
            real.populate(glyphs=sorted(glyphs))
            real.subset(ttfont)
            out = BytesIO()
            ttfont.save(out)
            cut = _Cut(out.getvalue())
            if len(_SUBSETS) >= _SUBSETS_MAX:
                _SUBSETS.clear()
            _SUBSETS[(path, glyphs)] = cut
        font.ttfont = cut


@cache
def _ascii_glyphs(path: str) -> frozenset[str]:
    template = _template(path, "")
    return frozenset(template.cmap[c] for c in range(0x20, 0x7F) if c in template.cmap)


class _SubsetModule:
    """Stands in for the `fontTools.subset` module fpdf2's output uses."""

    def __init__(self, fonts: dict[int, TTFFont]) -> None:
        self.Options = ftsubset.Options
        self._fonts = fonts

    def Subsetter(self, options: ftsubset.Options) -> _CachedSubsetter:  # noqa: N802
        return _CachedSubsetter(options, self._fonts)


class FastFonts(OutputProducer):
    """fpdf2's output, each TrueType font cut from a cache of cuts (`_CachedSubsetter`).

    Pass it as `pdf.output(output_producer_class=FastFonts)`. It swaps fpdf2's reference
    to fontTools' subsetter while it adds the fonts: rendering is one document at a time
    per process (reports.issued_invoices renders in processes, not threads)."""

    def _add_fonts(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        fonts = {}
        for font in self.fpdf.fonts.values():
            if isinstance(font, TTFFont):
                font.ttfont = ttLib.TTFont(
                    BytesIO(_file_bytes(str(font.ttffile))), recalcTimestamp=False, lazy=True
                )
                fonts[id(font.ttfont)] = font
        saved = fpdf_output.ftsubset
        fpdf_output.ftsubset = _SubsetModule(fonts)  # type: ignore[assignment]
        try:
            return super()._add_fonts(*args, **kwargs)
        finally:
            fpdf_output.ftsubset = saved
