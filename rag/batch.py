"""Batch questions in, batch records out: the file formats behind ``rag batch``.

Questions come from ``.txt`` (one per line), ``.jsonl`` (field ``question``, optional
``id``), ``.csv`` (column ``question``, optional ``id``) or stdin; a line that cannot be
used becomes a question with an ``error`` so the batch reports it and carries on.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from rag.answers import Answer, Citation


class CommandError(Exception):
    """A failure to report as one clean line (no traceback)."""


class UsageError(CommandError):
    """Bad arguments found after parsing (exit code 2)."""


BATCH_INPUTS = (".txt", ".jsonl", ".csv")
BATCH_OUTPUTS = (".jsonl", ".csv", ".md", ".docx")
CSV_COLUMNS = (
    "id", "question", "answered", "confidence", "rank", "citation", "document", "label",
    "clause_id", "text", "score", "url", "date", "source",
)


@dataclass(frozen=True)
class BatchQuestion:
    """One question read from a batch file; ``error`` when the line itself is unusable."""

    id: str
    question: str
    line: int
    error: str | None = None


def _lines(text: str) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            yield number, line


def questions_from_txt(text: str) -> list[BatchQuestion]:
    return [BatchQuestion(str(n), line.strip(), line=lineno)
            for n, (lineno, line) in enumerate(_lines(text), 1)]


def questions_from_jsonl(text: str) -> list[BatchQuestion]:
    out = []
    for n, (lineno, line) in enumerate(_lines(text), 1):
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            out.append(BatchQuestion(str(n), "", lineno, f"line {lineno} is not JSON ({error})"))
            continue
        if not isinstance(row, dict):
            out.append(BatchQuestion(str(n), "", lineno, f"line {lineno} is not a JSON object"))
            continue
        qid = row.get("id")
        qid = str(n) if qid is None or qid == "" else str(qid)
        question = row.get("question")
        if not isinstance(question, str):
            out.append(BatchQuestion(
                qid, "", lineno, f"line {lineno} has no \"question\" string field"))
            continue
        out.append(BatchQuestion(qid, question.strip(), lineno,
                                 None if question.strip() else "the question is empty"))
    return out


def questions_from_csv(text: str, *, name: str) -> list[BatchQuestion]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = {(c or "").strip().lower(): c for c in reader.fieldnames or []}
    if "question" not in columns:
        found = ", ".join(repr(c) for c in reader.fieldnames or []) or "none"
        raise CommandError(f"{name}: no 'question' column in the header (found: {found})")
    out = []
    for n, row in enumerate(reader, 1):
        question = (row.get(columns["question"]) or "").strip()
        qid = (row.get(columns["id"]) or "").strip() if "id" in columns else ""
        out.append(BatchQuestion(qid or str(n), question, reader.line_num,
                                 None if question else "the question is empty"))
    return out


def read_questions(source: str, *, stdin: TextIO | None = None) -> list[BatchQuestion]:
    """Questions from a .txt/.jsonl/.csv file, or ``-`` for stdin (txt, or jsonl when the
    lines start with ``{``)."""
    if source == "-":
        text = (stdin or sys.stdin).read().lstrip("\ufeff")
        first = next((line for _, line in _lines(text)), "")
        return questions_from_jsonl(text) if first.lstrip().startswith("{") else \
            questions_from_txt(text)
    path = Path(source)
    suffix = path.suffix.lower()
    if suffix not in BATCH_INPUTS:
        raise UsageError(
            f"{source}: unknown question file type {suffix or '(none)'}; "
            f"use {', '.join(BATCH_INPUTS)}, or - for stdin"
        )
    if not path.is_file():
        raise CommandError(f"{source}: no such file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise CommandError(
            f"{source}: not UTF-8 text ({error.reason} at byte {error.start}); save it as UTF-8"
        ) from None
    if suffix == ".csv":
        return questions_from_csv(text, name=source)
    return questions_from_jsonl(text) if suffix == ".jsonl" else questions_from_txt(text)


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
    }


def batch_row(item: BatchQuestion, result: Answer | None, error: str | None) -> dict[str, Any]:
    return {
        "id": item.id,
        "question": item.question,
        "line": item.line,
        "answered": bool(result and result.answered),
        "confidence": result.confidence if result else 0.0,
        "message": result.message if result else None,
        "error": error,
        "citations": [citation_row(c) for c in result.citations] if result else [],
    }


def csv_rows(row: dict[str, Any]) -> Iterator[list[object]]:
    """One CSV row per (question, citation); a question without citations gets one row."""
    base = [row["id"], row["question"], row["answered"], row["confidence"]]
    if not row["citations"]:
        yield [*base, "", "", "", "", "", row["error"] or row["message"] or "", "", "", "", ""]
        return
    for c in row["citations"]:
        yield [*base, c["rank"], c["citation"], c["document"], c["label"], c["clause_id"],
               c["text"], c["score"], c["url"] or "", c["date"] or "", c["source"]]
