"""A question prepared once for search, and the hits search returns."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from rag.core.clauses import Clause
from rag.core.filters import Filters
from rag.core.versions import VersionInfo
from rag.search.catalog import Index
from rag.search.glossary import expand, written_in_chinese

MAX_QUESTION_CHARS = 2000


@dataclass(frozen=True)
class Query:
    """A question prepared once for every stage that needs it.

    ``asked`` is the question as asked (trimmed); ``question`` is what is searched
    (capped at :data:`MAX_QUESTION_CHARS`); ``text`` is that with the Chinese equivalents
    of its English legal terms appended (:mod:`rag.search.glossary`), so both channels
    can match a Chinese corpus; ``cross_lingual`` whether the question is written
    without Chinese (then fusion weights BM25 up: ``Fusion.cross_lingual``); ``allowed``
    are the documents the filters admit (None: all); ``versions`` the version table on
    the as-of date; ``vector`` the question's embedding when it was computed ahead, in
    a batch.
    """

    asked: str
    question: str
    text: str
    cross_lingual: bool
    filters: Filters
    allowed: frozenset[str] | None
    as_of: dt.date | None
    versions: Mapping[str, VersionInfo]
    vector: np.ndarray | None = field(default=None, compare=False)  # embedded ahead (batches)

    def admits(self, clause: Clause) -> bool:
        return self.allowed is None or clause.doc_id in self.allowed


def prepare(question: str, *, index: Index, filters: Filters | None = None) -> Query:
    """Check ``filters`` against the index and prepare ``question`` for searching."""
    filters = index.check(filters or Filters())
    asked = question.strip()[:MAX_QUESTION_CHARS]
    as_of = dt.date.fromisoformat(filters.as_of) if filters.as_of else None
    return Query(
        asked=question.strip(),
        question=asked,
        text=expand(asked),
        cross_lingual=not written_in_chinese(asked),
        filters=filters,
        allowed=index.allowed_documents(filters),
        as_of=as_of,
        versions=index.versions(as_of),
    )


@dataclass(frozen=True)
class Hit:
    """One retrieved unit (an article, a numbered clause, a paragraph).

    ``clause`` is its best-matching chunk; ``parts`` all its chunks that were retrieved.
    """

    clause: Clause
    score: float
    scores: Mapping[str, float] = field(default_factory=dict)
    ranks: Mapping[str, int] = field(default_factory=dict)
    parts: tuple[Clause, ...] = ()
    version: VersionInfo | None = None
    via: str = "search"
