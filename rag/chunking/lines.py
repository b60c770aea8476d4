"""What every strategy builds on: the document's lines, clause drafts and the heading stack."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field, replace

from rag.core.clauses import Span
from rag.core.documents import Document, Heading
from rag.core.numbering import cn_to_int

# Characters that count as blank at the ends of a line, besides whitespace.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
# The longest line still read as a title (front matter, English Article titles).
TITLE_MAX = 80
# Internal heading level for detected 一、 section lines: deeper than any reader heading.
SECTION_LEVEL = 100


@dataclass(frozen=True)
class Line:
    """One non-empty line of the document, stripped; offsets into ``Document.text``."""

    start: int
    end: int
    text: str
    index: int  # 1-based position among non-heading lines; 0 for heading lines
    heading: Heading | None = None


@dataclass
class Draft:
    """A clause under construction (local id, offsets, spans)."""

    local: str
    kind: str
    label: str
    path: tuple[str, ...]
    block: int
    start: int
    end: int
    heading: str | None = None
    spans: list[Span] = field(default_factory=list)
    whole_line: bool = False


class Outline:
    """The heading stack while walking a document: current path, section number, block."""

    def __init__(self) -> None:
        self.frames: list[tuple[int, str, int | None]] = []
        self.block = 0

    def push(self, level: int, text: str, number: int | None = None) -> None:
        while self.frames and self.frames[-1][0] >= level:
            self.frames.pop()
        self.frames.append((level, normalize(text), number))
        self.block += 1

    def push_section(self, text: str, number: int) -> None:
        """A detected ``一、`` section line replaces the current numbered section."""
        while self.frames and (self.frames[-1][0] >= SECTION_LEVEL or self.frames[-1][2]):
            self.frames.pop()
        self.frames.append((SECTION_LEVEL, normalize(text), number))
        self.block += 1

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(text for _, text, _ in self.frames)

    @property
    def section(self) -> int | None:
        for _, _, number in reversed(self.frames):
            if number is not None:
                return number
        return None


def is_space(ch: str) -> bool:
    """Whitespace, or an invisible character (zero-width space, BOM…)."""
    return ch.isspace() or ch in _INVISIBLE


def normalize(text: str) -> str:
    """Collapse whitespace runs (path components are compared and shown normalised)."""
    return " ".join(text.split())


def rstrip(text: str, start: int, end: int) -> int:
    """``end`` moved back over trailing blanks, but not before ``start``."""
    while end > start and is_space(text[end - 1]):
        end -= 1
    return end


def split_lines(doc: Document) -> list[Line]:
    """Non-empty lines with stripped offsets; lines holding a recorded heading are marked."""
    text = doc.text
    heading_starts = sorted((h.start, i) for i, h in enumerate(doc.headings))
    starts = [start for start, _ in heading_starts]
    lines: list[Line] = []
    index = 0
    offset = 0
    for raw in text.split("\n"):
        raw_start, raw_end = offset, offset + len(raw)
        offset = raw_end + 1
        start, end = raw_start, raw_end
        while start < end and is_space(text[start]):
            start += 1
        while end > start and is_space(text[end - 1]):
            end -= 1
        if start == end:
            continue
        heading = None
        pos = bisect.bisect_left(starts, raw_start)
        if pos < len(starts) and starts[pos] <= raw_end:
            heading = doc.headings[heading_starts[pos][1]]
        if heading is None:
            index += 1
        lines.append(Line(start, end, text[start:end], 0 if heading else index, heading))
    return lines


def line_draft(line: Line, local: str, path: tuple[str, ...], block: int) -> Draft:
    """A whole line as a ``paragraph`` draft."""
    return Draft(
        local=local,
        kind="paragraph",
        label="",
        path=path,
        block=block,
        start=line.start,
        end=line.end,
        whole_line=True,
    )


def id_number(numeral: str) -> str:
    """A numeral as ids write it: 一百九十一 → ``191``; one it cannot read stays as it is."""
    try:
        return str(cn_to_int(numeral))
    except ValueError:
        return numeral


def unique_keys(spans: list[Span]) -> list[Span]:
    """Repeated span keys get ``-dup2``, ``-dup3``… in order."""
    seen: dict[str, int] = {}
    unique = []
    for span in spans:
        count = seen.get(span.key, 0) + 1
        seen[span.key] = count
        unique.append(span if count == 1 else replace(span, key=f"{span.key}-dup{count}"))
    return unique
