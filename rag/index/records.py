"""Documents and clauses as plain JSON rows, and the hashes that fingerprint them."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

from rag.core.clauses import Clause, Span
from rag.core.documents import Document, Heading, OcrPage
from rag.index.backend import StoreError
from rag.index.passages import content_hash


def document_row(doc: Document) -> dict[str, Any]:
    """A document as a JSON row. A document without pages has no ``pages``/``ocr`` keys, so
    the rows (and record hashes) of formats without pages stay as they were before PDFs."""
    row = asdict(doc)
    row["headings"] = [asdict(h) for h in doc.headings]
    row["history"] = list(doc.history)
    row["pages"] = list(doc.pages)
    row["ocr"] = [asdict(p) for p in doc.ocr]
    for key in ("pages", "ocr"):
        if not row[key]:
            del row[key]
    return row


def document_from_row(row: Mapping[str, Any]) -> Document:
    data = dict(row)
    data["headings"] = tuple(Heading(**h) for h in data.get("headings", []))
    data["history"] = tuple(data.get("history", []))
    data["pages"] = tuple(int(p) for p in data.get("pages", []))
    data["ocr"] = tuple(OcrPage(**p) for p in data.get("ocr", []))
    return Document(**data)


def clause_row(clause: Clause, passage_hash: str) -> dict[str, Any]:
    """The stored record of a clause: everything but its text, which is
    ``document.text[start:end]`` and stored once, with the document."""
    row = asdict(clause)
    del row["text"]
    row["path"] = list(clause.path)
    row["spans"] = [asdict(s) for s in clause.spans]
    row["hash"] = passage_hash
    return row


def clause_from_row(row: Mapping[str, Any], documents: Mapping[str, Document]) -> Clause:
    data = dict(row)
    data.pop("hash", None)
    doc = documents.get(str(data["doc_id"]))
    if doc is None:
        raise StoreError(f"clause {data['id']} names unknown document {data['doc_id']}")
    data["text"] = doc.text[int(data["start"]) : int(data["end"])]
    data["path"] = tuple(data["path"])
    data["spans"] = tuple(Span(**s) for s in data["spans"])
    return Clause(**data)


def record_hash(row: Mapping[str, Any]) -> str:
    """Hash of a stored record: a corrected date, status or label changes it."""
    return content_hash(json.dumps(row, ensure_ascii=False, sort_keys=True))


def corpus_fingerprint(hashes: Sequence[str], ids: Sequence[str]) -> str:
    """One hash of everything an index holds, in order."""
    return content_hash("\n".join(f"{i}\t{h}" for i, h in zip(ids, hashes, strict=True)))
