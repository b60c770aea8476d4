"""What each channel sees of a clause: the passages that are embedded and BM25-indexed.

A bare article ("第五十一条 证券交易内幕信息的知情人包括：…") does not name its law, so both
passages start with the document title. They differ in one measured way: a statute's
chapter path (第三章 证券交易 / 第三节 禁止的交易行为) helps keyword search but dilutes the
embedding, so the dense passage of an article leaves it out. On STARD dev against the full
national corpus, dropping the path from embedded articles raised dense-only Recall@10
from 0.47 to 0.53, while BM25 without the path lost 0.02 (README, "Figures").
For policy documents and news the section names are topical and stay in both.

The quote shown to a user is never this text: it is always ``document.text[start:end]``.
"""

from __future__ import annotations

import hashlib

from rag.core.clauses import Clause
from rag.core.documents import Document

PASSAGE_FORMAT = "dense-title-text-v2"


def _head(clause: Clause, doc: Document, *, path: bool) -> list[str]:
    head = [doc.title]
    if doc.subtitle:
        head.append(doc.subtitle)
    if path:
        head.extend(clause.path)
    if clause.heading and clause.heading not in clause.text[:60]:
        head.append(clause.heading)
    return head


def dense_passage(clause: Clause, doc: Document) -> str:
    """The text embedded for ``clause``: title (+ section path outside statutes) and text."""
    head = _head(clause, doc, path=clause.kind != "article")
    if clause.part and clause.part > 1 and not clause.text.startswith(clause.label):
        head.append(clause.label)  # a later part of a long article still names its article
    return " ".join(head) + "\n" + clause.text


def keyword_passage(clause: Clause, doc: Document) -> str:
    """The text BM25 indexes for ``clause``: title, subtitle, full path, heading and text."""
    return " ".join(_head(clause, doc, path=True)) + "\n" + clause.text


def content_hash(text: str) -> str:
    """Stable hash of a passage: same text, same hash, on every machine."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
