"""Shared text helpers: decoding, line cleaning, slugs, dates and the clean-text builder."""

from __future__ import annotations

import math
import re
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime

import charset_normalizer
from dateutil import parser as date_parser

from rag.core.documents import Heading, OcrPage
from rag.core.script import IDEOGRAPHS

# Any run of whitespace, including ideographic spaces and NBSP, inside a line.
_SPACE_RUN = re.compile(r"\s+")
# Zero-width characters and other invisible format characters that carry no text.
_INVISIBLE = re.compile("[\u200b-\u200d\u2060\ufeff\u00ad]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SLUG_JUNK = re.compile(rf"[^0-9A-Za-z_\u3007{IDEOGRAPHS}]+")
_YEAR = re.compile(r"\d{4}")
_CN_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
# Control, private-use, surrogate and replacement characters: what binary data decodes to.
_BINARYISH = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ue000-\uf8ff\ud800-\udfff\ufffd]")
_BINARY_SHARE = 0.3


class FormatError(ValueError):
    """A file's content cannot make a document; the message says why (without the path)."""


class Deadline:
    """A time budget for reading one file, checked between pages or paragraphs: a file
    that would take longer is refused with one line instead of holding the build."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds if seconds else math.inf

    def check(self, where: str) -> None:
        if time.monotonic() > self.end:
            raise FormatError(f"reading it took more than {self.seconds:g} s (stopped at "
                              f"{where}); split the file, or raise the time limit")


class DecodeError(FormatError):
    """Bytes that are not a text document."""


def decode_bytes(data: bytes) -> str:
    """Decode a text file's bytes and normalise newlines to ``\\n``.

    Tries UTF-8 (with or without BOM), then GB18030, then charset-normalizer. Raises
    :class:`DecodeError` for binary data (NUL bytes, mostly control characters).
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = _decode_utf16(data)
    elif b"\x00" in data:
        text = _utf16_without_bom(data)
    else:
        text = _decode_8bit(data)
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    if _mostly_control(text):
        raise DecodeError("binary, not a text document (mostly control characters)")
    return text


def _decode_utf16(data: bytes) -> str:
    try:
        return data.decode("utf-16")
    except UnicodeDecodeError as exc:
        raise DecodeError(f"binary, not a text document (bad UTF-16: {exc.reason})") from exc


_PLAUSIBLE = re.compile(r"[\s!-~\u00a0-\u024f\u2000-\u206f\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


def _utf16_without_bom(data: bytes) -> str:
    """UTF-16 text saved without a byte-order mark (it has NUL bytes), else DecodeError.

    Both byte orders are tried; the one whose characters are almost all ordinary text
    (Latin, CJK, punctuation, spaces) wins. Binary data decodes to a scatter of code
    points, of which about a third are plausible.
    """
    if len(data) % 2 == 0:
        best, share = "", 0.0
        for encoding in ("utf-16-le", "utf-16-be"):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                continue
            sample = text[:20000]
            plausible = len(_PLAUSIBLE.findall(sample)) / max(1, len(sample))
            if plausible > share:
                best, share = text, plausible
        if share >= 0.95:
            return best
    raise DecodeError("binary, not a text document (contains NUL bytes)")


def _decode_8bit(data: bytes) -> str:
    for encoding in ("utf-8-sig", "utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        raise DecodeError("binary or unknown encoding: not UTF-8, GB18030 or any detected encoding")
    return str(best)


def _mostly_control(text: str) -> bool:
    sample = text[:65536]
    return len(_BINARYISH.findall(sample)) > _BINARY_SHARE * len(sample)


def clean_line(line: str) -> str:
    """Strip a line (ideographic spaces and NBSP included) and collapse inner space runs."""
    line = _CONTROL.sub(" ", _INVISIBLE.sub("", line))
    return _SPACE_RUN.sub(" ", line).strip()


def slugify(stem: str) -> str:
    """A readable id from a file stem: CJK, ASCII letters, digits and ``_`` kept.

    >>> slugify("证券法(2019-12-28)")
    '证券法-2019-12-28'
    """
    stem = unicodedata.normalize("NFKC", stem)
    return _SLUG_JUNK.sub("-", stem).strip("-") or "doc"


def cn_date(text: str) -> str | None:
    """The first valid Chinese date in ``text`` (``2023年12月29日``) as ISO, else None."""
    for match in _CN_DATE.finditer(text):
        iso = _iso(*(int(g) for g in match.groups()))
        if iso:
            return iso
    return None


def _iso(year: int, month: int, day: int) -> str | None:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def parse_date(value: object) -> str | None:
    """ISO date for a YAML value or a date string; None when it is not a date.

    The date is taken as written, without converting time zones:
    ``2022-02-28 15:27:50 +0800`` → ``2022-02-28``,
    ``Thu, 01 Sep 2022 00:13:52 GMT`` → ``2022-09-01``.
    """
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    found = cn_date(text)
    if found or not _YEAR.search(text):
        return found
    try:
        parsed = date_parser.parse(text, default=datetime(2000, 1, 1))
    except (ValueError, OverflowError):
        return None
    return parsed.date().isoformat()


@dataclass(frozen=True)
class Block:
    """One line of clean text to be; ``level`` is set for headings.

    ``pages`` (paged sources only) holds ``(offset in text, page)`` for the page the block
    starts on and each page it continues onto; the text must then already be clean.
    """

    text: str
    level: int | None = None
    pages: tuple[tuple[int, int], ...] = ()


@dataclass
class Parsed:
    """What a format reader extracts, before sidecar overrides and id assignment."""

    title: str
    blocks: list[Block]
    kind: str
    date: str | None = None
    version: str | None = None
    issuer: str | None = None
    url: str | None = None
    status: str | None = None
    valid_from: str | None = None
    subtitle: str | None = None
    history: tuple[str, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)
    # Leading blocks that are not body (a statute's title and history lines).
    lead_blocks: int = 0
    # Paged sources: how many pages, which were OCR'd, and pages that could not be read.
    page_count: int = 0
    ocr: tuple[OcrPage, ...] = ()
    warnings: list[str] = field(default_factory=list)


@dataclass
class TextBuilder:
    """Joins cleaned lines with ``\\n`` and records heading offsets as it goes."""

    lines: list[str] = field(default_factory=list)
    headings: list[Heading] = field(default_factory=list)
    length: int = 0
    page_starts: list[int] = field(default_factory=list)

    def add(
        self, text: str, level: int | None = None, pages: tuple[tuple[int, int], ...] = ()
    ) -> bool:
        """Append one cleaned line; returns False when it was empty and so skipped."""
        line = clean_line(text)
        if not line:
            return False
        if pages and line != text:
            raise ValueError(f"a block with page marks must be clean text: {text[:40]!r}")
        start = self.length + (1 if self.lines else 0)
        self.lines.append(line)
        self.length = start + len(line)
        if level is not None:
            self.headings.append(Heading(level=level, start=start, end=self.length, text=line))
        for offset, page in pages:
            self.mark_page(page, start + offset)
        return True

    def extend(self, blocks: list[Block]) -> None:
        for block in blocks:
            self.add(block.text, block.level, block.pages)

    def mark_page(self, page: int, offset: int) -> None:
        """Page ``page`` (1-based) begins at ``offset``; pages before it without text too."""
        while len(self.page_starts) < page:
            self.page_starts.append(offset)

    def page_map(self, page_count: int) -> tuple[int, ...]:
        """Start offset of every page; pages after the last text begin at its end."""
        if not page_count:
            return ()
        starts = list(self.page_starts)
        while len(starts) < page_count:
            starts.append(self.length)
        return tuple(starts[:page_count])

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def relative_levels(blocks: list[Block]) -> list[Block]:
    """Renumber heading levels so the outermost level used becomes 1."""
    levels = [b.level for b in blocks if b.level is not None]
    if not levels:
        return blocks
    shift = min(levels) - 1
    return [b if b.level is None else Block(b.text, b.level - shift) for b in blocks]


def title_heading(blocks: list[Block]) -> tuple[str | None, list[Block]]:
    """Treat a leading, outermost-and-only-at-its-level heading as the document title.

    The title stays the first line but is not a heading; the other heading levels are
    renumbered from 1. Returns ``(title or None, blocks)``.
    """
    top = blocks[0].level if blocks else None
    if top is None or any(b.level is not None and b.level <= top for b in blocks[1:]):
        return None, relative_levels(blocks)
    return blocks[0].text, [Block(blocks[0].text), *relative_levels(blocks[1:])]
