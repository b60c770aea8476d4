"""Pages of a paged document: which page(s) an offset range lies on, and how they were read."""

from __future__ import annotations

from bisect import bisect_right

from rag.core.documents import Document


def pages_of(doc: Document, start: int, end: int) -> tuple[int, int] | None:
    """The first and last page (1-based) that ``doc.text[start:end]`` lies on.

    None for a document without a page map (markdown, HTML, text, Word).
    """
    if not doc.pages:
        return None
    last_char = max(start, end - 1)
    first = max(1, bisect_right(doc.pages, start))
    return first, max(first, bisect_right(doc.pages, last_char))


def ocr_confidence(doc: Document, pages: tuple[int, int] | None) -> float | None:
    """The lowest OCR confidence among ``pages`` (first, last); None when none was OCR'd."""
    if pages is None:
        return None
    first, last = pages
    found = [p.confidence for p in doc.ocr if first <= p.page <= last]
    return min(found) if found else None


def page_label(pages: tuple[int, int] | None) -> str:
    """``第3页`` or ``第3-4页`` (empty without pages): how a Chinese citation names them."""
    if pages is None:
        return ""
    first, last = pages
    return f"第{first}页" if first == last else f"第{first}-{last}页"


def page_label_en(pages: tuple[int, int] | None) -> str:
    """``p. 3`` or ``pp. 3–4`` (empty without pages)."""
    if pages is None:
        return ""
    first, last = pages
    return f"p. {first}" if first == last else f"pp. {first}–{last}"
