"""What each channel sees of a clause: the passage text that is embedded and BM25-indexed.

A bare article ("第五十一条 证券交易内幕信息的知情人包括：…") does not name its law, so the
passage is prefixed with the document title and the clause's path. The quote shown to a
user is never this text: it is always the verbatim ``document.text[start:end]``.
"""

from __future__ import annotations

import hashlib

from rag.clauses import Clause
from rag.documents import Document

PASSAGE_FORMAT = "title-path-text-v1"


def passage_text(clause: Clause, doc: Document) -> str:
    head = [doc.title]
    if doc.subtitle:
        head.append(doc.subtitle)
    head.extend(clause.path)
    if clause.heading and clause.heading not in clause.text[:60]:
        head.append(clause.heading)
    return " ".join(head) + "\n" + clause.text


def content_hash(text: str) -> str:
    """Stable hash of a passage: same text, same hash, on every machine."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
