"""What answering works out about a clause that no question changes, worked out once.

A batch of questions cites the same few hundred clauses over and over; their source line,
citation string, pages, cross-references, inner references, character bigrams and the
word diffs between an article's versions depend only on the opened index. :class:`Facts`
keeps them for one opened :class:`~rag.search.Index` (its clauses and documents never
change; a new index generation is a new ``Index`` and so new ``Facts``), keyed by clause
id. :func:`rag.answer.answer` makes one per question, :func:`rag.answer.answer_many` one
per batch — the same code computes every value, so the answers are the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.answer.types import InnerReference
from rag.changes.diff import diff_articles
from rag.changes.units import Article
from rag.core.citations import citation_string, shown_source, source_roots
from rag.core.clauses import Clause
from rag.core.pages import ocr_confidence, pages_of
from rag.search import Index
from rag.search.inner import inner_mentions

Offsets = tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Static:
    """The parts of a clause's citation that depend on the clause alone."""

    citation: str
    source: str
    pages: tuple[int, int] | None
    ocr_confidence: float | None
    related: tuple[str, ...]
    inner: tuple[InnerReference, ...]
    document_sha256: str


def bigrams(text: str) -> frozenset[str]:
    """The character bigrams of ``text`` without its non-word characters."""
    text = re.sub(r"\W+", "", text)
    return frozenset(text[i : i + 2] for i in range(len(text) - 1))


def inner_references(clause: Clause, index: Index) -> tuple[InnerReference, ...]:
    """前款 / 前两款 / 本条第X款 / 前项 in ``clause``, each resolved to the 款 or 项 it names.

    The spans of every part of a split article are used, so 前款 at the start of a
    later part still finds the 款 quoted in the part before.
    """
    parts = [clause]
    if clause.kind == "article":
        parts = index.by_label.get((clause.doc_id, clause.label), parts)
    spans = sorted({s.key: s for p in parts for s in p.spans}.values(), key=lambda s: s.start)
    text = index.document_of(clause).text
    return tuple(
        InnerReference(
            phrase=m.phrase, start=m.start - clause.start, end=m.end - clause.start,
            label=t.label, text=text[t.start:t.end], target_start=t.start, target_end=t.end,
        )
        for m in inner_mentions(spans, clause.text, clause.start)
        for t in m.targets
    )


class Facts:
    """Question-independent facts about ``index``'s clauses, each computed on first use."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self._roots = source_roots(index.manifest)
        self._static: dict[tuple[str, str | None], Static] = {}
        self._sources: dict[str, str] = {}
        self._bigrams: dict[str, frozenset[str]] = {}
        self._diffs: dict[tuple[Article, Article], tuple[Offsets, Offsets]] = {}

    def static(self, clause: Clause, *, span_label: str | None = None) -> Static:
        """:class:`Static` of ``clause`` (cited with ``span_label``, when it names a 款)."""
        key = (clause.id, span_label)
        found = self._static.get(key)
        if found is None:
            index = self.index
            doc = index.document_of(clause)
            pages = pages_of(doc, clause.start, clause.end)
            found = self._static[key] = Static(
                citation=citation_string(clause, doc, span_label=span_label),
                source=self.source(doc.doc_id),
                pages=pages,
                ocr_confidence=ocr_confidence(doc, pages),
                related=tuple(index.clauses[row].id for row in index.references.rows(clause)),
                inner=inner_references(clause, index),
                document_sha256=index.text_hash(doc.doc_id),
            )
        return found

    def source(self, doc_id: str) -> str:
        """The document's source as users see it (:func:`rag.core.citations.shown_source`)."""
        found = self._sources.get(doc_id)
        if found is None:
            path = self.index.documents[doc_id].source_path
            found = self._sources[doc_id] = shown_source(path, self._roots)
        return found

    def bigrams(self, clause: Clause) -> frozenset[str]:
        """:func:`bigrams` of the clause's text."""
        found = self._bigrams.get(clause.id)
        if found is None:
            found = self._bigrams[clause.id] = bigrams(clause.text)
        return found

    def diff(self, old: Article, new: Article) -> tuple[Offsets, Offsets]:
        """The (deleted, inserted) word offsets from ``old``'s body to ``new``'s."""
        key = (old, new)
        found = self._diffs.get(key)
        if found is None:
            diff = diff_articles(old, new)
            found = self._diffs[key] = (tuple(diff.deleted()), tuple(diff.inserted()))
        return found
