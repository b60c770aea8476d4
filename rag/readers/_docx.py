"""Word ``.docx`` files via python-docx: paragraphs, tables as text, automatic numbering.

Paragraphs and tables are read in body order. A table row becomes one line, its cells
joined by `` | ``. A paragraph numbered by Word (``numPr`` on the paragraph or its
style) gets the label Word shows (第一条, （一）, 1.) put back in front of its text, so the
clause keeps its name. Title and date come from the core properties when set (a date
printed under the title, before the first article, wins over the file's creation date).
Legacy ``.doc``/``.wps`` files are refused with a message saying how to convert them.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rag.readers._numbering import Numbering, qn
from rag.readers._plain import lead_date, plain_blocks, title_kind
from rag.readers._text import (
    Block,
    Deadline,
    FormatError,
    Parsed,
    clean_line,
    relative_levels,
)

LEGACY_SUFFIXES = (".doc", ".wps")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_LEGACY = (
    "legacy Word 97-2003 / WPS format, which cannot be read: open it in Word or WPS and "
    "save it as .docx (or run: libreoffice --headless --convert-to docx FILE)"
)
_HEADING_STYLE = re.compile(r"^(?:heading|标题)\s*(\d)$", re.IGNORECASE)
_TITLE_STYLES = frozenset({"title", "标题"})
_TITLE_CHARS = 100
_CELL_SEPARATOR = " | "
# unpacked sizes (a 2,000-page statute's document.xml is about 10 MB)
MAX_UNPACKED = 64 * 2**20
MAX_PART = 24 * 2**20


def refuse_legacy() -> FormatError:
    """The error for a ``.doc``/``.wps`` file (or a ``.docx`` that is really one)."""
    return FormatError(_LEGACY)


def read_docx(path: Path, *, fallback_title: str, max_bytes: int,
              deadline: Deadline | None = None) -> Parsed:
    """A Word document as blocks; its numbering labels restored."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from lxml import etree

    _check_package(path, max_bytes=max_bytes)
    try:
        # python-docx meets a malformed package part with AttributeError, too
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, AttributeError, etree.XMLSyntaxError,
            zipfile.BadZipFile) as exc:
        raise FormatError(f"damaged Word file: {type(exc).__name__}: {exc}") from exc
    try:
        lines = list(_lines(document, deadline=deadline or Deadline(None)))
        props = document.core_properties
        meta_title, created = props.title, props.created
    except FormatError:  # out of time: says so itself
        raise
    except (KeyError, ValueError, etree.XMLSyntaxError) as exc:
        raise FormatError(f"damaged Word file: {type(exc).__name__}: {exc}") from exc
    lines = [(text, level, is_title) for text, level, is_title in lines if text]
    if not lines:
        raise FormatError("no text in the Word document")
    styled_title = next((text for text, _, is_title in lines if is_title), None)
    title = (clean_line(meta_title or "") or styled_title or lines[0][0][:_TITLE_CHARS]
             or fallback_title)
    return Parsed(
        title=title,
        blocks=_blocks(lines),
        kind=title_kind(title),
        date=lead_date([text for text, _, _ in lines])
        or (created.date().isoformat() if created else None),
        extra={"format": "docx"},
    )


def _check_package(path: Path, *, max_bytes: int) -> None:
    """A zip with ``word/document.xml`` that unpacks to at most ``max_bytes`` × 8 and
    :data:`MAX_UNPACKED`, with no XML part over :data:`MAX_PART`."""
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError as exc:
        raise FormatError(f"cannot read: {exc.strerror or exc}") from exc
    if head == _OLE_MAGIC:
        raise refuse_legacy()
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise FormatError("not a Word .docx file: not a zip archive") from exc
    names = {info.filename for info in infos}
    if "word/document.xml" not in names:
        raise FormatError(
            "not a Word .docx file: a zip archive without word/document.xml (a renamed .zip?)"
        )
    unpacked = sum(info.file_size for info in infos)
    limit = min(8 * max_bytes, MAX_UNPACKED)
    if unpacked > limit:
        raise FormatError(f"Word file unpacks to {unpacked:,} bytes, more than the limit of "
                          f"{limit:,} (a zip bomb, or split the document)")
    for info in infos:
        if info.filename.endswith(".xml") and info.file_size > MAX_PART:
            raise FormatError(f"Word file part {info.filename} unpacks to "
                              f"{info.file_size:,} bytes, more than the limit of "
                              f"{MAX_PART:,} (split the document)")


class _Styles:
    """The paragraph styles, read once: name, base style and list level by style id.

    (python-docx's ``paragraph.style`` scans every style of the document for each
    paragraph, which made reading a long document slow in proportion to its styles.)
    """

    def __init__(self, element: Any) -> None:
        self._styles: dict[str, tuple[str, str | None, int | None]] = {}
        self.default: str | None = None
        for style in element.iterfind(qn("w:style")):
            if style.get(qn("w:type"), "paragraph") != "paragraph":
                continue
            style_id = style.get(qn("w:styleId")) or ""
            name = style.find(qn("w:name"))
            based = style.find(qn("w:basedOn"))
            ilvl = style.find(f"{qn('w:pPr')}/{qn('w:numPr')}/{qn('w:ilvl')}")
            level = ilvl.get(qn("w:val"), "") if ilvl is not None else ""
            self._styles[style_id] = (
                (name.get(qn("w:val"), "") if name is not None else "").strip(),
                based.get(qn("w:val")) if based is not None else None,
                int(level) if level.isdigit() else None)
            if style.get(qn("w:default")) in ("1", "true", "on") and self.default is None:
                self.default = style_id
        self._ilvl: dict[str | None, int | None] = {}

    def of(self, paragraph: Any) -> str | None:
        """The paragraph's style id (the default paragraph style when it names none or
        one that does not exist, as Word does)."""
        ppr = paragraph._p.pPr
        style = ppr.pStyle.val if ppr is not None and ppr.pStyle is not None else None
        return style if style in self._styles else self.default

    def name(self, style_id: str | None) -> str:
        return self._styles[style_id][0] if style_id in self._styles else ""

    def ilvl(self, style_id: str | None) -> int | None:
        """The list level the style (or a style it is based on) sets."""
        if style_id not in self._ilvl:
            seen: set[str] = set()
            current, level = style_id, None
            while current in self._styles and current not in seen:  # based-on loops end
                seen.add(current)
                _, based, level = self._styles[current]
                if level is not None:
                    break
                current = based
            self._ilvl[style_id] = level
        return self._ilvl[style_id]


def _lines(document: Any, *, deadline: Deadline) -> Iterator[tuple[str, int | None, bool]]:
    """(text, heading level, is the title) per line, in body order."""
    numbering = Numbering(_numbering_element(document), document.styles.element)
    styles = _Styles(document.styles.element)
    for n, item in enumerate(document.iter_inner_content()):
        if n % 256 == 0:
            deadline.check(f"paragraph {n + 1}")
        if hasattr(item, "rows"):
            for row in _table_rows(item, numbering, styles):
                yield row, None, False
            continue
        text = _paragraph_text(item, numbering, styles)
        level, is_title = _style_level(item, styles)
        for k, part in enumerate(text.split("\n")):
            yield clean_line(part), level if k == 0 else None, is_title and k == 0


def _numbering_element(document: Any) -> Any | None:
    try:
        return document.part.numbering_part.element
    except (KeyError, NotImplementedError):
        return None


def _paragraph_text(paragraph: Any, numbering: Numbering, styles: _Styles) -> str:
    """The paragraph's text (inserted revisions included), its Word label in front."""
    p = paragraph._p
    runs = p.xpath(".//w:r[not(ancestor::w:del) and not(ancestor::w:moveFrom)"
                   " and not(ancestor::w:txbxContent)]")
    text = "".join(run.text for run in runs)
    if not text.strip():
        return ""
    num_id, level = _num_pr(paragraph, numbering, styles)
    return (numbering.label(num_id, level) if num_id else "") + text


def _num_pr(paragraph: Any, numbering: Numbering, styles: _Styles) -> tuple[str | None, int]:
    """The list and level of a paragraph: its own ``numPr``, else its style's."""
    ppr = paragraph._p.pPr
    num_pr = ppr.numPr if ppr is not None else None
    num_id = level = None
    if num_pr is not None:
        num_id = None if num_pr.numId is None else str(num_pr.numId.val)
        level = None if num_pr.ilvl is None else int(num_pr.ilvl.val)
    style = ppr.pStyle.val if ppr is not None and ppr.pStyle is not None else None
    if num_id is None and style:
        num_id = numbering.style_num(style)
        if level is None:
            level = styles.ilvl(styles.of(paragraph))
    return num_id, level or 0


def _style_level(paragraph: Any, styles: _Styles) -> tuple[int | None, bool]:
    """Heading level from the style (Heading N / 标题 N / an outline level); is it Title."""
    name = styles.name(styles.of(paragraph))
    if name.lower() in _TITLE_STYLES:
        return None, True
    match = _HEADING_STYLE.match(name)
    if match:
        return int(match.group(1)), False
    ppr = paragraph._p.pPr
    outline = ppr.find(qn("w:outlineLvl")) if ppr is not None else None
    if outline is not None:
        value = outline.get(qn("w:val"), "9")
        if value.isdigit() and int(value) < 9:
            return int(value) + 1, False
    return None, False


def _table_rows(table: Any, numbering: Numbering, styles: _Styles) -> Iterator[str]:
    """Each row as one line, its (distinct) cells joined by `` | ``."""
    for row in table.rows:
        cells: list[str] = []
        seen: set[int] = set()
        for cell in row.cells:
            if id(cell._tc) in seen:
                continue  # a merged cell appears once per grid column it spans
            seen.add(id(cell._tc))
            cells.append(_cell_text(cell, numbering, styles))
        line = clean_line(_CELL_SEPARATOR.join(c for c in cells if c))
        if line:
            yield line


def _cell_text(cell: Any, numbering: Numbering, styles: _Styles) -> str:
    parts: list[str] = []
    for item in cell.iter_inner_content():
        if hasattr(item, "rows"):
            parts.extend(_table_rows(item, numbering, styles))
        else:
            parts.append(clean_line(_paragraph_text(item, numbering, styles)))
    return " ".join(p for p in parts if p)


def _blocks(lines: list[tuple[str, int | None, bool]]) -> list[Block]:
    """Word heading styles when the document uses them, else 第X章 / 一、 lines."""
    if any(level is not None for _, level, _ in lines):
        return relative_levels([Block(text, level) for text, level, _ in lines])
    return plain_blocks([text for text, _, _ in lines])
