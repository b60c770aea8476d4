"""Filters as Milvus boolean expressions over a clause row's document fields.

Same meaning as :meth:`rag.core.filters.Filters.admits` (tested against it): any of the
document ids, any of the kinds, and a day — the document's version date, else its date,
stored as ``day`` ("" when it has neither) — inside the inclusive date range; a document
without a day is excluded by either end of a range.
"""

from __future__ import annotations

from rag.core.documents import Document
from rag.core.filters import Filters
from rag.index.milvus.schema import quoted


def day_of(doc: Document) -> str:
    """The date filters compare: the version date, else the date, else ""."""
    return doc.version or doc.date or ""


def expression(filters: Filters | None) -> str:
    """The Milvus filter for ``filters`` ("" admits every clause)."""
    if filters is None or filters.is_empty():
        return ""
    parts = []
    if filters.doc_ids:
        parts.append(f"doc_id in {quoted(filters.doc_ids)}")
    if filters.kinds:
        parts.append(f"kind in {quoted(filters.kinds)}")
    if filters.date_from or filters.date_to:
        parts.append('day != ""')
    if filters.date_from:
        parts.append(f"day >= {quoted([filters.date_from])[1:-1]}")
    if filters.date_to:
        parts.append(f"day <= {quoted([filters.date_to])[1:-1]}")
    return " and ".join(parts)
