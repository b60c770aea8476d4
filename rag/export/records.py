"""Answers as batch rows: the answer record (:mod:`rag.answer.records`) and its CSV rows."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from rag.answer.records import AnswerRecord
from rag.answer.types import Answer
from rag.export.common import csv_safe

# New columns go at the end, so that consumers reading columns by position keep working.
CSV_COLUMNS = (
    "id", "question", "answered", "confidence", "rank", "citation", "document", "label",
    "clause_id", "text", "score", "url", "date", "source", "pages", "ocr_confidence",
    "versions",
)


def batch_row(
    *, id: str, question: str, line: int, result: Answer | None, error: str | None,
    debug: bool = False,
) -> dict[str, Any]:
    """One question's record, JSON-ready: :class:`AnswerRecord` with its batch fields (the
    README's "Answer record" tables list its fields)."""
    return AnswerRecord.row(id=id, line=line, question=question, result=result, error=error,
                            debug=debug).model_dump(mode="json")


def json_line(row: Mapping[str, Any]) -> str:
    """``row`` as one line of JSON (no newline), Chinese as is. A question read with a lone
    surrogate (``"\\ud8c4"`` in a JSON line) is written escaped, as it came, instead of
    failing the UTF-8 output and the rest of the batch with it."""
    text = json.dumps(row, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(row)
    return text


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
