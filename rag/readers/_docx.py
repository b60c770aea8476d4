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
from rag.readers._text import Block, FormatError, Parsed, clean_line, relative_levels

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


def refuse_legacy() -> FormatError:
    """The error for a ``.doc``/``.wps`` file (or a ``.docx`` that is really one)."""
    return FormatError(_LEGACY)


def read_docx(path: Path, *, fallback_title: str, max_bytes: int) -> Parsed:
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
        lines = list(_lines(document))
        props = document.core_properties
        meta_title, created = props.title, props.created
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
    """A zip with ``word/document.xml`` that unpacks to at most ``max_bytes`` × 8."""
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
    if unpacked > 8 * max_bytes:
        raise FormatError(
            f"Word file unpacks to {unpacked} bytes, more than the limit of {8 * max_bytes}"
        )


def _lines(document: Any) -> Iterator[tuple[str, int | None, bool]]:
    """(text, heading level, is the title) per line, in body order."""
    numbering = Numbering(_numbering_element(document), document.styles.element)
    for item in document.iter_inner_content():
        if hasattr(item, "rows"):
            for row in _table_rows(item, numbering):
                yield row, None, False
            continue
        text = _paragraph_text(item, numbering)
        level, is_title = _style_level(item)
        for n, part in enumerate(text.split("\n")):
            yield clean_line(part), level if n == 0 else None, is_title and n == 0


def _numbering_element(document: Any) -> Any | None:
    try:
        return document.part.numbering_part.element
    except (KeyError, NotImplementedError):
        return None


def _paragraph_text(paragraph: Any, numbering: Numbering) -> str:
    """The paragraph's text (inserted revisions included), its Word label in front."""
    p = paragraph._p
    runs = p.xpath(".//w:r[not(ancestor::w:del) and not(ancestor::w:moveFrom)"
                   " and not(ancestor::w:txbxContent)]")
    text = "".join(run.text for run in runs)
    if not text.strip():
        return ""
    num_id, level = _num_pr(paragraph, numbering)
    return (numbering.label(num_id, level) if num_id else "") + text


def _num_pr(paragraph: Any, numbering: Numbering) -> tuple[str | None, int]:
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
            level = _style_ilvl(paragraph)
    return num_id, level or 0


def _style_ilvl(paragraph: Any) -> int | None:
    style = paragraph.style
    while style is not None:
        ppr = style.element.pPr
        if ppr is not None and ppr.numPr is not None and ppr.numPr.ilvl is not None:
            return int(ppr.numPr.ilvl.val)
        style = style.base_style
    return None


def _style_level(paragraph: Any) -> tuple[int | None, bool]:
    """Heading level from the style (Heading N / 标题 N / an outline level); is it Title."""
    style = paragraph.style
    name = (style.name or "").strip() if style is not None else ""
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


def _table_rows(table: Any, numbering: Numbering) -> Iterator[str]:
    """Each row as one line, its (distinct) cells joined by `` | ``."""
    for row in table.rows:
        cells: list[str] = []
        seen: set[int] = set()
        for cell in row.cells:
            if id(cell._tc) in seen:
                continue  # a merged cell appears once per grid column it spans
            seen.add(id(cell._tc))
            cells.append(_cell_text(cell, numbering))
        line = clean_line(_CELL_SEPARATOR.join(c for c in cells if c))
        if line:
            yield line


def _cell_text(cell: Any, numbering: Numbering) -> str:
    parts: list[str] = []
    for item in cell.iter_inner_content():
        if hasattr(item, "rows"):
            parts.extend(_table_rows(item, numbering))
        else:
            parts.append(clean_line(_paragraph_text(item, numbering)))
    return " ".join(p for p in parts if p)


def _blocks(lines: list[tuple[str, int | None, bool]]) -> list[Block]:
    """Word heading styles when the document uses them, else 第X章 / 一、 lines."""
    if any(level is not None for _, level, _ in lines):
        return relative_levels([Block(text, level) for text, level, _ in lines])
    return plain_blocks([text for text, _, _ in lines])
