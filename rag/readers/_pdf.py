"""PDF files via PDFium (pypdfium2): the text layer, or OCR for scanned pages, page by page.

Each page's characters are grouped into positioned fragments (one per run of text on a
line); pages without a text layer but with an image are rendered and OCR'd. The fragments
of all pages go through :mod:`rag.readers._layout` (columns, headers and footers, joined
lines), and every paragraph remembers the pages it spans, so clauses can be cited to the
page. Title and date come from the PDF's metadata when it has them; a date printed under
the title, before the first article, is the document's date.
"""

from __future__ import annotations

import ctypes
import math
import re
import sys
from datetime import date
from pathlib import Path
from typing import Any

from rag.core.documents import OcrPage
from rag.readers._layout import Fragment, PageText, Paragraph, layout
from rag.readers._mend import is_cjk
from rag.readers._ocr import Ocr, OcrError, confidence, fragments
from rag.readers._plain import lead_date, plain_blocks, title_kind
from rag.readers._text import Block, Deadline, FormatError, Parsed, clean_line

DEFAULT_MAX_PAGES = 2000
OCR_SCALE = 2.0  # 144 dpi: small print stays legible, a page stays under 2000 px
MAX_OCR_PIXELS = 36_000_000  # an A0 sheet at 144 dpi is 24 M; one pixel is one byte (grey)
MIN_OCR_DPI = 50  # below this print is not legible: such a page is reported, not read
_SCANNED_MAX_CHARS = 10  # a page with fewer characters than this is read by OCR
_PDF_DATE = re.compile(r"^(?:D:)?(\d{4})(\d{2})?(\d{2})?")
_JUNK_TITLE = re.compile(
    r"^(?:untitled|无标题|microsoft word\s*-.*|.*\.(?:docx?|wps|pdf|tmp))$", re.IGNORECASE
)
_WORD_PREFIX = re.compile(r"^microsoft word\s*-\s*", re.IGNORECASE)
_TAIL_BYTES = 4096
_TITLE_CHARS = 100


def read_pdf(
    path: Path,
    *,
    fallback_title: str,
    max_pages: int = DEFAULT_MAX_PAGES,
    ocr: Ocr | None = None,
    progress: bool = False,
    deadline: Deadline | None = None,
) -> Parsed:
    """A PDF as paragraphs with page marks; pages that cannot be read become warnings."""
    import pypdfium2 as pdfium

    _check_bytes(path)
    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        raise FormatError(_open_error(exc)) from exc
    try:
        count = len(pdf)
        if count == 0:
            raise FormatError("PDF has no pages")
        if count > max_pages:
            raise FormatError(
                f"PDF has {count} pages, more than the limit of {max_pages} pages "
                "(split it, or raise max_pages)"
            )
        budget = deadline or Deadline(None)
        pages, scanned, warnings = _text_layer(pdf, count, budget)
        ocr_pages = _ocr_pages(pdf, scanned, pages, warnings, path=path,
                               ocr=ocr or Ocr(), progress=progress, deadline=budget) \
            if scanned else []
        meta = pdf.get_metadata_dict()
    finally:
        pdf.close()
    found = layout(pages)
    if not found:
        raise FormatError(_no_text(count, scanned, warnings))
    title = _meta_title(meta.get("Title")) or found[0].text[:_TITLE_CHARS] or fallback_title
    return Parsed(
        title=title,
        blocks=_blocks(found),
        kind=title_kind(title),
        date=lead_date([p.text for p in found]) or _pdf_date(meta.get("CreationDate")),
        extra={"format": "pdf"},
        page_count=count,
        ocr=tuple(ocr_pages),
        warnings=warnings,
    )


def _check_bytes(path: Path) -> None:
    """Refuse files that are not PDFs or that stop before their end-of-file marker."""
    try:
        with path.open("rb") as handle:
            head = handle.read(1024)
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - _TAIL_BYTES))
            tail = handle.read()
    except OSError as exc:
        raise FormatError(f"cannot read: {exc.strerror or exc}") from exc
    if b"%PDF-" not in head:
        raise FormatError("not a PDF: the file does not start with %PDF-")
    if b"%%EOF" not in tail:
        raise FormatError(
            "truncated PDF: the file ends before its %%EOF marker "
            "(copy or download it again)"
        )


def _open_error(exc: Exception) -> str:
    import pypdfium2.raw as raw

    code = getattr(exc, "err_code", None)
    if code == raw.FPDF_ERR_PASSWORD:
        return ("encrypted PDF: it needs a password to open "
                "(save an unprotected copy and index that)")
    if code == raw.FPDF_ERR_SECURITY:
        return "encrypted PDF with an unsupported security handler (save an unprotected copy)"
    if code == raw.FPDF_ERR_FORMAT:
        return "damaged PDF: PDFium cannot parse it (export or download it again)"
    return f"cannot open PDF: {exc}"


def _text_layer(pdf: Any, count: int, deadline: Deadline
                ) -> tuple[list[PageText], list[int], list[str]]:
    """Fragments of every page's text layer; which pages need OCR; pages that failed."""
    import pypdfium2 as pdfium

    pages: list[PageText] = []
    scanned: list[int] = []
    warnings: list[str] = []
    for index in range(count):
        deadline.check(f"page {index + 1}")
        try:
            page = pdf[index]
        except pdfium.PdfiumError as exc:
            warnings.append(f"page {index + 1}: cannot be read ({exc})")
            pages.append(PageText(index + 1, 0.0, 0.0, ()))
            continue
        try:
            width, height = page.get_size()
            textpage = page.get_textpage()
            try:
                frags = page_fragments(textpage, height)
            finally:
                textpage.close()
            chars = sum(len(f.text.replace(" ", "")) for f in frags)
            if chars < _SCANNED_MAX_CHARS and _has_image(page):
                scanned.append(index)
                frags = []
            pages.append(PageText(index + 1, width, height, tuple(frags)))
        finally:
            page.close()
    return pages, scanned, warnings


def page_fragments(textpage: Any, height: float) -> list[Fragment]:
    """The characters of a text page grouped into fragments (a run on one line).

    A fragment ends where the text moves to another line, jumps backwards, or leaves a
    gap wider than 1.5 characters (a column gutter or a table cell). Spaces in the file
    are kept; a space PDFium infers from a gap is kept between words, and between
    Chinese characters only when the gap is wider than 0.15 em (a gap the
    eye reads as a space, as in ``第四节 单位犯罪``, not justification).
    """
    import pypdfium2.raw as raw

    count = textpage.count_chars()
    if count <= 0:
        return []
    text = textpage.get_text_range(0, count)
    if len(text) != count:  # characters outside the BMP: read them one by one
        text = "".join(chr(raw.FPDFText_GetUnicode(textpage.raw, i)) for i in range(count))
    rect = raw.FS_RECTF()
    box = ctypes.byref(rect)
    out: list[Fragment] = []
    chars: list[str] = []
    x0 = x1 = top = bottom = 0.0
    pending_space = False
    for i, ch in enumerate(text):
        if ch in "\r\n\x02":
            continue
        if ch == " " and raw.FPDFText_IsGenerated(textpage.raw, i):
            pending_space = bool(chars)
            continue
        if ch.isspace() and not chars:
            continue  # an indent typed as spaces (　　第一条) must not hide the indent
        if not raw.FPDFText_GetLooseCharBox(textpage.raw, i, box):
            continue
        c0, c1, ctop, cbottom = rect.left, rect.right, height - rect.top, height - rect.bottom
        size = max(cbottom - ctop, 1.0)
        same_line = chars and abs((ctop + cbottom) - (top + bottom)) / 2 < 0.5 * size
        if same_line and x1 - 0.5 * size <= c0 <= x1 + 1.5 * size:
            if pending_space and (c0 - x1 > 0.15 * size
                                  or not (is_cjk(chars[-1]) and is_cjk(ch))):
                chars.append(" ")
            chars.append(ch)
            if not ch.isspace():
                x1 = max(x1, c1)
                top, bottom = min(top, ctop), max(bottom, cbottom)
        else:
            if chars:
                out.append(Fragment("".join(chars), x0, x1, top, bottom))
            chars = [ch]
            x0, x1, top, bottom = c0, c1, ctop, cbottom
        pending_space = False
    if chars:
        out.append(Fragment("".join(chars), x0, x1, top, bottom))
    return [f for f in out if f.text.strip()]


def _has_image(page: Any) -> bool:
    import pypdfium2.raw as raw

    return any(True for _ in page.get_objects(filter=[raw.FPDF_PAGEOBJ_IMAGE], max_depth=3))


def ocr_scale(width: float, height: float) -> float | None:
    """The scale to render a ``width`` × ``height`` pt page at for OCR: 144 dpi, less for a
    page that would pass :data:`MAX_OCR_PIXELS`; None when even :data:`MIN_OCR_DPI` would
    (a poster-sized page is not rendered into gigabytes)."""
    area = max(width, 1.0) * max(height, 1.0)
    scale = min(OCR_SCALE, math.sqrt(MAX_OCR_PIXELS / area))
    return scale if scale * 72 >= MIN_OCR_DPI else None


def _ocr_pages(
    pdf: Any, scanned: list[int], pages: list[PageText], warnings: list[str], *,
    path: Path, ocr: Ocr, progress: bool, deadline: Deadline,
) -> list[OcrPage]:
    """OCR the scanned pages in place of their (empty) text layer, one progress step each."""
    import pypdfium2 as pdfium
    from tqdm import tqdm

    done: list[OcrPage] = []
    with tqdm(total=len(scanned), desc=f"OCR {path.name}", unit="page", file=sys.stderr,
              disable=not progress or not scanned) as bar:
        for index in scanned:
            deadline.check(f"page {index + 1}")
            width, height = pages[index].width, pages[index].height
            scale = ocr_scale(width, height)
            if scale is None:
                warnings.append(f"page {index + 1}: no text layer, and at {width:.0f} × "
                                f"{height:.0f} pt it is too large to render for OCR (at most "
                                f"{MAX_OCR_PIXELS:,} pixels at {MIN_OCR_DPI} dpi)")
                bar.update(1)
                continue
            page = pdf[index]
            try:
                image = page.render(scale=scale, grayscale=True).to_pil()
                boxes = ocr.read(image)
            except OcrError as exc:
                warnings.append(f"page {index + 1}: no text layer, and {exc}")
                boxes = []
            except pdfium.PdfiumError as exc:
                warnings.append(f"page {index + 1}: no text layer, and it cannot be rendered "
                                f"for OCR ({exc})")
                boxes = []
            finally:
                page.close()
            bar.update(1)
            if not boxes:
                if not any(w.startswith(f"page {index + 1}:") for w in warnings):
                    warnings.append(f"page {index + 1}: scanned page, OCR found no text on it")
                continue
            old = pages[index]
            pages[index] = PageText(old.number, old.width, old.height,
                                    fragments(boxes, scale=scale))
            done.append(OcrPage(index + 1, round(confidence(boxes), 4)))
    return done


def _blocks(found: list[Paragraph]) -> list[Block]:
    """Paragraphs as blocks; 第X章 lines (else short 一、 lines) become headings."""
    levels = plain_blocks([p.text for p in found])
    return [Block(p.text, b.level, tuple(p.pages)) for p, b in zip(found, levels, strict=True)]


def _meta_title(value: str | None) -> str | None:
    title = clean_line(_WORD_PREFIX.sub("", value or ""))
    if not title or _JUNK_TITLE.match(title) or title.isdigit():
        return None
    return title


def _pdf_date(value: str | None) -> str | None:
    """``D:20240105093000+08'00'`` → ``2024-01-05``; None when it is not a date."""
    match = _PDF_DATE.match((value or "").strip())
    if not match or not match.group(2) or not match.group(3):
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3))).isoformat()
    except ValueError:
        return None


def _no_text(count: int, scanned: list[int], warnings: list[str]) -> str:
    if warnings:
        return f"no text in any of its {count} pages ({warnings[0]})"
    if scanned:
        return f"no text in any of its {count} pages (scanned, and OCR found none)"
    return f"no text in any of its {count} pages (no text layer and no scanned image)"
