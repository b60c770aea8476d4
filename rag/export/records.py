"""Answers as flat records: the batch JSON-lines schema and its CSV rows."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rag.answer.types import Answer, Citation
from rag.export.common import csv_safe

# New columns go at the end, so that consumers reading columns by position keep working.
CSV_COLUMNS = (
    "id", "question", "answered", "confidence", "rank", "citation", "document", "label",
    "clause_id", "text", "score", "url", "date", "source", "pages", "ocr_confidence",
    "versions",
)


def citation_row(citation: Citation) -> dict[str, object]:
    """A citation as a batch record: verbatim text, formal citation, where it comes from."""
    return {
        "rank": citation.rank,
        "clause_id": citation.clause_id,
        "doc_id": citation.doc_id,
        "document": citation.document,
        "label": citation.label,
        "citation": citation.citation,
        "text": citation.text,
        "score": citation.score,
        "source": citation.source,
        "url": citation.url,
        "date": citation.date,
        "kind": citation.kind,
        "status": citation.status,
        "version": citation.version,
        "version_note": citation.version_note,
        "path": list(citation.path),
        "low_confidence": citation.low_confidence,
        "via": citation.via,
        "highlights": [
            {"start": h.start, "end": h.end, "kind": h.kind} for h in citation.highlights
        ],
        "pages": list(citation.pages) if citation.pages else None,
        "ocr": citation.ocr,
        "ocr_confidence": citation.ocr_confidence,
        "versions": [c.to_dict() for c in citation.versions],
    }


def batch_row(
    *, id: str, question: str, line: int, result: Answer | None, error: str | None
) -> dict[str, Any]:
    """One question's record (the batch JSON-lines schema in the README)."""
    return {
        "id": id,
        "question": question,
        "line": line,
        "answered": bool(result and result.answered),
        "confidence": result.confidence if result else 0.0,
        "message": result.message if result else None,
        "error": error,
        "citations": [citation_row(c) for c in result.citations] if result else [],
    }


def csv_rows(row: dict[str, Any]) -> Iterator[list[object]]:
    """One CSV row per (question, citation); a question without citations gets one row.

    Every cell is neutralised against formula injection (:func:`csv_safe`).
    """
    base = [row["id"], row["question"], row["answered"], row["confidence"]]
    if not row["citations"]:
        cells = [*base, "", "", "", "", "", row["error"] or row["message"] or "", "", "", "", "",
                 "", "", ""]
        yield [csv_safe(cell) for cell in cells]
        return
    for c in row["citations"]:
        cells = [*base, c["rank"], c["citation"], c["document"], c["label"], c["clause_id"],
                 c["text"], c["score"], c["url"] or "", c["date"] or "", c["source"],
                 _pages(c["pages"]),
                 "" if c["ocr_confidence"] is None else c["ocr_confidence"],
                 _versions(c["versions"])]
        yield [csv_safe(cell) for cell in cells]


def _pages(pages: list[int] | None) -> str:
    """``3`` or ``3-4``; empty for a source without pages."""
    if not pages:
        return ""
    first, last = pages
    return str(first) if first == last else f"{first}-{last}"


def _versions(compared: list[dict[str, Any]]) -> str:
    """``2018-10-26 第二十八条 → 2023-12-29 第四十九条 changed; …``: the cited article in
    its law's other versions (``-`` where a version has no counterpart)."""
    return "; ".join(
        f"{item['older']['version'] or ''} {item['older']['label'] or '-'} → "
        f"{item['newer']['version'] or ''} {item['newer']['label'] or '-'} {item['relation']}"
        for item in compared)
