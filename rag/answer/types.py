"""Answers as plain data: what the CLI prints, the chat renders and the memo exports
(their one JSON shape is :mod:`rag.answer.records`).

Every string a user sees in a citation's ``text`` is the verbatim slice
``document.text[start:end]``; highlights are offsets into that quote, never new text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from rag.links.model import Evidence as LinkEvidence  # the verbatim words that made a link


@dataclass(frozen=True)
class Highlight:
    """A marked range inside a citation's quote: ``quote[start:end]``.

    ``kind`` is ``sentence`` (the sentence that best answers the question) or ``term``
    (a query term found in the quote); in a :class:`VersionSide`, ``deleted`` (words
    the newer version dropped) or ``inserted`` (words it added).
    """

    start: int
    end: int
    kind: str


@dataclass(frozen=True)
class InnerReference:
    """前款 / 本条第二款 / 前项 in a quote, resolved to the part of the same article it names.

    ``start``/``end`` locate the phrase in the quote; ``text`` is the named 款 or 项,
    verbatim, at ``target_start``/``target_end`` in the document.
    """

    phrase: str
    start: int
    end: int
    label: str  # 第一款, 第二款第（三）项
    text: str
    target_start: int
    target_end: int


@dataclass(frozen=True)
class VersionSide:
    """One version of an article in a :class:`Comparison`.

    ``text`` is the whole article, verbatim: ``document.text[start:end]``; ``marks`` are
    offsets into it. When this version has no counterpart of the article, ``clause_id``,
    ``label`` and ``citation`` are None and ``text`` is empty.
    """

    doc_id: str
    version: str | None  # the version date, e.g. 2018-10-26
    status: str | None  # in_force / superseded … (rag.answer.status labels it)
    clause_id: str | None
    label: str | None  # 第二十八条
    citation: str | None
    text: str
    start: int
    end: int
    marks: tuple[Highlight, ...] = ()  # deleted (older side) or inserted (newer side)


@dataclass(frozen=True)
class Comparison:
    """A cited article beside the same article in another version of its document.

    Articles are aligned by text (:mod:`rag.changes.align`), so a renumbered article
    finds its counterpart: ``relation`` is matched, renumbered, changed, added (only in
    the newer version) or removed (only in the older one).
    """

    relation: str
    older: VersionSide
    newer: VersionSide
    similarity: float  # 0..1; 1.0 for the same words


@dataclass(frozen=True)
class LinkedClause:
    """A clause linked to a cited one: a penalty that enforces it (``kind`` explicit,
    implicit, criminal or civil; ``confidence`` 0..1, 1.0 for a reference by number;
    ``evidence`` the words that made the link), or a clause that cites it
    (``kind`` cites)."""

    clause_id: str
    citation: str
    kind: str
    confidence: float = 1.0
    evidence: tuple[LinkEvidence, ...] = ()
    label: str = ""  # 第一百八十七条
    document: str = ""  # the title of its document


@dataclass(frozen=True)
class Citation:
    """One quoted clause with everything needed to cite it."""

    rank: int
    clause_id: str
    doc_id: str
    document: str  # title
    label: str  # 第一百九十一条, （七）, 一是, Article 5
    citation: str  # formal citation string
    path: tuple[str, ...]
    text: str  # verbatim quote
    start: int  # offsets of the quote in the document text
    end: int
    score: float
    scores: dict[str, float]  # per channel: dense, dense_plain, bm25, memory, fused, lookup
    ranks: dict[str, int]  # per channel rank (1-based); absent when the channel missed it
    highlights: tuple[Highlight, ...] = ()
    kind: str = ""  # document kind: law, regulation, judicial_interpretation, policy, news
    date: str | None = None
    version: str | None = None
    status: str | None = None  # in_force / repealed / superseded / not_yet_in_force
    version_note: str | None = None  # e.g. "superseded by the 2023 version"
    issuer: str | None = None
    url: str | None = None
    source: str = ""  # source file, relative to the indexed source root (never absolute)
    low_confidence: bool = False
    via: str = "search"  # search | lookup | cross_reference | penalty
    related: tuple[str, ...] = ()  # clause ids this clause refers to (依照本法第五十三条)
    folded: tuple[str, ...] = ()  # clause ids of near-duplicates folded under this one
    inner: tuple[InnerReference, ...] = ()  # 前款, 本条第二款 … resolved within the article
    pages: tuple[int, int] | None = None  # first and last page of the quote (PDF sources)
    ocr: bool = False  # the quote (or part of it) was read by OCR from a scanned page
    ocr_confidence: float | None = None  # the lowest OCR confidence of those pages (0..1)
    # the same article in the document's other versions, nearest first, change marked
    versions: tuple[Comparison, ...] = ()
    # sha256 of the document's text: the exact revision ``start``/``end`` point into
    document_sha256: str = ""
    # the penalties that enforce this clause (administrative, then criminal, then civil)
    penalties: tuple[LinkedClause, ...] = ()
    referenced_by: tuple[LinkedClause, ...] = ()  # the clauses that cite this one
    # a consequence was asked and no penalty links to this clause: says so plainly
    penalty_note: str | None = None
    enforces: str | None = None  # a penalty cited for a duty (via penalty, or found by search
    # and grouped after that duty in a consequence answer): the clause id of the duty

    def quotes(self, ref: InnerReference) -> bool:
        """Whether the 款 or 项 ``ref`` names lies inside this quote."""
        return self.start <= ref.target_start and ref.target_end <= self.end


@dataclass(frozen=True)
class Answer:
    """The result of one question.

    ``answered`` is False when no clause in the corpus answers the question well enough;
    ``citations`` then hold the nearest candidates, each marked ``low_confidence``.
    """

    question: str
    answered: bool
    confidence: float
    message: str
    citations: tuple[Citation, ...]
    related: tuple[Citation, ...] = ()  # clauses named by cross-references in the quotes
    filters: Mapping[str, object] = field(default_factory=dict)
    index: Mapping[str, object] = field(default_factory=dict)  # fingerprint, model, created
