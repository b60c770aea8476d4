"""Page layout → paragraphs: columns, reading order, running headers/footers, joined lines.

Input is what a page shows, as positioned text fragments (from a PDF's text layer or from
OCR), in page coordinates with y growing downwards. Output is one :class:`Paragraph` per
paragraph of the document, in reading order, each knowing the page(s) it spans:

* a page with two columns (a vertical gutter that no body line crosses) is read left
  column first; lines spanning both columns (titles) keep their place;
* lines at the top or bottom of pages that repeat on many pages at the same place
  (running headers, footers) and page numbers (``- 3 -``, ``第3页``, ``Page 3 of 9``) go;
* lines join into paragraphs, across columns and pages, unless the next line is
  indented, the previous one stops short of the margin, the spacing or font size
  changes, or a new ``第X条`` / ``（一）`` / ``Article N`` starts after a finished sentence.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import median

from rag.core.numbering import NUMERAL as _NUM
from rag.core.numbering import STRUCTURE_LABEL
from rag.readers._mend import is_cjk, mend_line
from rag.readers._text import clean_line

_EDGE = 0.12  # share of the page height where running headers and footers live
_REPEATED = 0.4  # a header/footer repeats on at least this share of the pages (and ≥ 2)
_PAGE_NUMBER = re.compile(
    r"^(?:[-–—_\s]*\d{1,4}[-–—_\s]*"
    r"|第\s*\d{1,4}\s*页(?:\s*[/，,]?\s*共\s*\d{1,4}\s*页)?"
    r"|共\s*\d{1,4}\s*页\s*[/，,]?\s*第\s*\d{1,4}\s*页"
    r"|\d{1,4}\s*/\s*\d{1,4}"
    r"|(?:page|p\.)\s*\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?"
    r"|[ivxlc]{1,6})$",
    re.IGNORECASE,
)
_MARKER = re.compile(
    rf"^(?:{STRUCTURE_LABEL}|[（(]{_NUM}[）)]|{_NUM}、|\d{{1,3}}[.．]\D"
    r"|(?:Article|Chapter|Section|Part)\s+\w|§)",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[。；：！？.;:!?）)」』”]$")
_NO_LINE_START = frozenset("，。、；：！？）》」』”,.;:!?)%")
_LATIN_END = re.compile(r"[A-Za-z0-9,.;:!?%)\]'\"]$")
_LATIN_START = re.compile(r"^[A-Za-z0-9(\['\"]")


@dataclass(frozen=True)
class Fragment:
    """A run of text on one line of a page; coordinates in points, y downwards."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float

    @property
    def height(self) -> float:
        return max(self.bottom - self.top, 1.0)


@dataclass(frozen=True)
class PageText:
    """What one page shows: its size and its text fragments (any order)."""

    number: int  # 1-based
    width: float
    height: float
    fragments: tuple[Fragment, ...]


@dataclass(frozen=True)
class Line:
    """A line of a page in reading order; ``slot`` is full, left, right or span."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    page: int
    slot: str

    @property
    def height(self) -> float:
        return max(self.bottom - self.top, 1.0)


@dataclass
class Paragraph:
    """One paragraph: clean text and ``(offset, page)`` where each of its pages begins."""

    text: str
    pages: list[tuple[int, int]] = field(default_factory=list)


def layout(pages: Sequence[PageText]) -> list[Paragraph]:
    """The paragraphs of a document, in reading order, page furniture removed."""
    gutters = [find_gutter(page.fragments, page.width) for page in pages]
    lines = [page_lines(page, _gutter(page, n, gutters)) for n, page in enumerate(pages)]
    kept = drop_furniture(lines, pages)
    return paragraphs([line for page in kept for line in page])


def _gutter(page: PageText, n: int, gutters: list[float | None]) -> float | None:
    """The page's own gutter; else that of the nearest page before (or after) it when no
    line of this page crosses it: the last page of a two-column part may fill only its
    left column."""
    if gutters[n] is not None:
        return gutters[n]
    before = [g for g in gutters[:n] if g is not None]
    after = [g for g in gutters[n + 1 :] if g is not None]
    near = before[-1] if before else (after[0] if after else None)
    if near is None or not page.fragments:
        return None
    body = [f for f in page.fragments if f.text.strip()
            and page.height * _EDGE < f.top and f.bottom < page.height * (1 - _EDGE)]
    if not body or any(f.x0 < near < f.x1 for f in body):
        return None
    return near


def page_lines(page: PageText, gutter: float | None) -> list[Line]:
    """The lines of one page in reading order (left column before right column)."""
    frags = [f for f in page.fragments if f.text.strip()]
    slots: dict[str, list[Fragment]] = defaultdict(list)
    for frag in frags:
        if gutter is None:
            slots["full"].append(frag)
        elif frag.x1 <= gutter:
            slots["left"].append(frag)
        elif frag.x0 >= gutter:
            slots["right"].append(frag)
        else:
            slots["span"].append(frag)
    lines = [line for slot, group in slots.items() for line in _group_lines(group, page, slot)]
    if gutter is None:
        return sorted(lines, key=lambda line: (line.top, line.x0))
    return _column_order(lines)


def find_gutter(frags: Sequence[Fragment], width: float) -> float | None:
    """The x of a vertical gap between two columns of text, or None for one column.

    The gap lies in the middle of the page, at most a few fragments (a title, a centred
    page number) cross it, each side has several side-by-side lines, and those lines
    mostly fill their column (so a table of short cells is not read as columns).
    """
    if len(frags) < 6 or width <= 0:
        return None
    lo, hi = int(width * 0.3), int(width * 0.7)
    steps = [0] * (hi - lo + 2)
    for frag in frags:
        start, end = max(lo, math.ceil(frag.x0)), min(hi, math.floor(frag.x1))
        if start <= end:
            steps[start - lo] += 1
            steps[end - lo + 1] -= 1
    cover = list(itertools.accumulate(steps[:-1]))
    allowed = max(1, len(frags) // 10)
    best: tuple[int, int] | None = None
    run_start = None
    for i, count in enumerate([*cover, allowed + 1]):
        if count <= allowed and run_start is None:
            run_start = i
        elif count > allowed and run_start is not None:
            if best is None or i - run_start > best[1] - best[0]:
                best = (run_start, i)
            run_start = None
    if best is None or best[1] - best[0] < 4:
        return None
    gutter = lo + (best[0] + best[1]) / 2
    left = [f for f in frags if f.x1 <= gutter]
    right = [f for f in frags if f.x0 >= gutter]
    if len(left) < 3 or len(right) < 3 or not _side_by_side(left, right):
        return None
    if not (_fills(left, gutter) and _fills(right, gutter)):
        return None
    return gutter


def _side_by_side(left: Sequence[Fragment], right: Sequence[Fragment]) -> bool:
    top, bottom = min(f.top for f in left), max(f.bottom for f in left)
    return sum(1 for f in right if top <= (f.top + f.bottom) / 2 <= bottom) >= 3


def _fills(frags: Sequence[Fragment], gutter: float) -> bool:
    start = min(f.x0 for f in frags)
    end = max(f.x1 for f in frags)
    return median(f.x1 - f.x0 for f in frags) >= 0.5 * max(end - start, 1.0)


def _group_lines(frags: list[Fragment], page: PageText, slot: str) -> list[Line]:
    """Fragments that share a line (vertical overlap ≥ half a line) become one line."""
    rows: list[list[Fragment]] = []
    for frag in sorted(frags, key=lambda f: ((f.top + f.bottom) / 2, f.x0)):
        if rows:
            last = rows[-1]
            top, bottom = min(f.top for f in last), max(f.bottom for f in last)
            overlap = min(bottom, frag.bottom) - max(top, frag.top)
            if overlap >= 0.5 * min(frag.height, bottom - top):
                last.append(frag)
                continue
        rows.append([frag])
    lines = []
    for row in rows:
        row.sort(key=lambda f: f.x0)
        text = row[0].text
        for before, frag in itertools.pairwise(row):
            gap = frag.x0 - before.x1
            text += (" " if gap > 0.25 * frag.height else "") + frag.text
        text = clean_line(mend_line(clean_line(text)))
        if text:
            lines.append(Line(text, row[0].x0, max(f.x1 for f in row),
                              min(f.top for f in row), max(f.bottom for f in row),
                              page.number, slot))
    return lines


def _column_order(lines: list[Line]) -> list[Line]:
    """Bands between spanning lines; in each band the left column, then the right."""
    ordered: list[Line] = []
    band: list[Line] = []
    for line in sorted(lines, key=lambda line: (line.top, line.x0)):
        if line.slot == "span":
            ordered += _band(band)
            ordered.append(line)
            band = []
        else:
            band.append(line)
    return ordered + _band(band)


def _band(lines: list[Line]) -> list[Line]:
    return ([line for line in lines if line.slot == "left"]
            + [line for line in lines if line.slot == "right"])


def drop_furniture(pages: Sequence[list[Line]], shape: Sequence[PageText]) -> list[list[Line]]:
    """Remove page numbers and running headers/footers from the page edges."""
    edges: dict[tuple[str, str], list[float]] = defaultdict(list)
    for lines, page in zip(pages, shape, strict=True):
        seen = set()
        for line in lines:
            zone = _zone(line, page)
            key = (zone, _shape(line.text))
            if zone and key not in seen:
                seen.add(key)
                edges[key].append(line.top)
    with_text = sum(1 for lines in pages if lines)
    needed = max(2, math.ceil(_REPEATED * with_text))
    out = []
    for lines, page in zip(pages, shape, strict=True):
        kept = []
        for line in lines:
            zone = _zone(line, page)
            tops = edges.get((zone, _shape(line.text)), [])
            furniture = zone and (
                _PAGE_NUMBER.match(line.text)
                or (len(tops) >= needed and abs(line.top - median(tops)) <= max(3.0, line.height))
            )
            if not furniture:
                kept.append(line)
        out.append(kept)
    return out


def _zone(line: Line, page: PageText) -> str:
    if line.bottom <= page.height * _EDGE:
        return "top"
    if line.top >= page.height * (1 - _EDGE):
        return "bottom"
    return ""


def _shape(text: str) -> str:
    """A header's text with its digits and spaces removed (``第3页`` and ``第4页`` match)."""
    return re.sub(r"[\s0-9０-９]+", "", text)


def paragraphs(lines: Sequence[Line]) -> list[Paragraph]:
    """Join lines into paragraphs, recording where each page begins inside them."""
    margins = _margins(lines)
    leading = _leading(lines)
    out: list[Paragraph] = []
    before: Line | None = None
    for line in lines:
        if before is None or _breaks(before, line, margins, leading):
            out.append(Paragraph(line.text, [(0, line.page)]))
        else:
            current = out[-1]
            current.text += _joiner(current.text, line.text)
            if line.page != before.page:
                current.pages.append((len(current.text), line.page))
            current.text += line.text
        before = line
    return out


def _margins(lines: Sequence[Line]) -> dict[str, tuple[float, float]]:
    """Left and right text margin of each slot kind, over the whole document.

    Left: the smallest x0 that at least a tenth of the lines share (continuation lines
    start there; indented first lines do not). Right: the 90th percentile of x1.
    """
    by_slot: dict[str, list[Line]] = defaultdict(list)
    for line in lines:
        by_slot[line.slot].append(line)
    margins = {}
    for slot, group in by_slot.items():
        counts: dict[int, int] = defaultdict(int)
        for line in group:
            counts[round(line.x0)] += 1
        common = [x for x, n in counts.items() if n >= max(1, len(group) // 10)]
        left = float(min(common)) if common else min(line.x0 for line in group)
        ends = sorted(line.x1 for line in group)
        right = ends[min(len(ends) - 1, int(len(ends) * 0.9))]
        margins[slot] = (left, right)
    return margins


def _leading(lines: Sequence[Line]) -> float | None:
    """The usual distance between consecutive lines of the same column."""
    steps = [
        b.top - a.top
        for a, b in itertools.pairwise(lines)
        if a.page == b.page and a.slot == b.slot and b.top > a.top
    ]
    return median(steps) if steps else None


def _breaks(
    before: Line, line: Line, margins: dict[str, tuple[float, float]], leading: float | None
) -> bool:
    """Whether ``line`` starts a new paragraph after ``before``."""
    if "span" in (before.slot, line.slot):
        return True
    if abs(line.height - before.height) > 0.2 * before.height:
        return True
    same_column = before.page == line.page and before.slot == line.slot
    if same_column and leading and line.top - before.top > 1.4 * leading:
        return True
    left, _ = margins[line.slot]
    if line.x0 - left > 0.8 * line.height:
        return True
    _, right = margins[before.slot]
    if right - before.x1 > _room(line):
        return True
    return bool(_MARKER.match(line.text) and _SENTENCE_END.search(before.text))


def _room(line: Line) -> float:
    """The width the first word of ``line`` needed at the end of the line before."""
    per_char = (line.x1 - line.x0) / max(len(line.text), 1)
    text = line.text
    if is_cjk(text[0]):
        chars = 2 if len(text) > 1 and text[1] in _NO_LINE_START else 1
    else:
        chars = len(text.split(" ", 1)[0]) + 1
    return max(chars * per_char, 0.5 * line.height) + 0.25 * line.height


def _joiner(before: str, after: str) -> str:
    """A space between Latin words at a line wrap; nothing inside Chinese text."""
    if before.endswith("-") and len(before) > 1 and before[-2].isalpha():
        return ""
    return " " if _LATIN_END.search(before) and _LATIN_START.match(after) else ""
