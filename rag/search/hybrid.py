"""Hybrid retrieval: dense and BM25 candidates fused, collapsed to one hit per unit.

A unit is an article (all its ``.partN`` chunks), a numbered clause or a paragraph. Each
hit keeps every channel's rank and raw score, so users and tests can see why it ranked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from rag.core.clauses import Clause
from rag.core.filters import Filters
from rag.encoders import Encoder
from rag.search.catalog import Index
from rag.search.fusion import Fused, Fusion, Ranked, fuse
from rag.search.glossary import expand, written_in_chinese
from rag.search.signals import definitions, referenced
from rag.search.versions import VersionInfo

CHANNELS = ("dense", "bm25")
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


def channel_results(
    query: Query,
    *,
    index: Index,
    encoder: Encoder,
    depth: int,
    channels: Sequence[str] = CHANNELS,
) -> dict[str, Ranked]:
    """Each channel's top ``depth`` (scores, rows), best first."""
    unknown = [c for c in channels if c not in CHANNELS]
    if unknown:
        raise ValueError(f"unknown channel {', '.join(unknown)}; choose from {CHANNELS}")
    ranked: dict[str, Ranked] = {}
    filters = query.filters
    if "dense" in channels:
        vector = query.vector
        if vector is None:
            vector = encoder.encode_queries([query.text])[0]
        found = index.backend.search_dense(vector, depth, filters=filters)
        ranked["dense"] = (found.scores, found.rows)
    if "bm25" in channels:
        found = index.backend.search_keyword(query.text, depth, filters=filters)
        ranked["bm25"] = (found.scores, found.rows)
    return ranked


def retrieve(
    question: str | Query,
    *,
    index: Index,
    encoder: Encoder,
    k: int = 10,
    filters: Filters | None = None,
    fusion: Fusion | None = None,
    channels: Sequence[str] = CHANNELS,
) -> list[Hit]:
    """The ``k`` best units for ``question``, best first, one hit per unit.

    ``question`` may be a :class:`Query` already prepared (then ``filters`` is ignored).
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
    query = question if isinstance(question, Query) else prepare(question, index=index,
                                                                  filters=filters)
    fusion = fusion or Fusion()
    if not query.question or not index.clauses:
        return []
    ranked = channel_results(query, index=index, encoder=encoder,
                             depth=max(fusion.depth, 3 * k), channels=channels)
    return rank(query, ranked, index=index, k=k, fusion=fusion)


def rank(
    query: Query, ranked: dict[str, Ranked], *, index: Index, k: int, fusion: Fusion
) -> list[Hit]:
    """Fuse the channels' rankings into the top ``k`` units.

    With both dense and BM25 present (the hybrid), two derived signals join the fusion:
    definition clauses for definition questions, and the clauses the top hits refer to.
    """
    ranked = dict(ranked)
    hybrid = "dense" in ranked and "bm25" in ranked
    if query.cross_lingual:
        fusion = fusion.cross_lingual()
    if hybrid and fusion.definition_weight:
        best: dict[int, int] = {}
        for _, rows in ranked.values():
            for position, row in enumerate(rows.tolist()):
                best[row] = min(position, best.get(row, position))
        candidates = sorted(best, key=lambda row: (best[row], row))
        ranked["definition"] = definitions(query.text, index, candidates)
    fused = fuse(ranked, fusion)
    if hybrid and fusion.reference_weight:
        references = {"reference": referenced(index, fused[0], fusion, query.allowed)}
        fused = fuse(references, fusion, onto=fused)
    return collapse(index, fused, k=k, fusion=fusion, versions=query.versions)


def collapse(
    index: Index,
    fused: Fused,
    *,
    k: int,
    fusion: Fusion,
    versions: Mapping[str, VersionInfo],
) -> list[Hit]:
    """Merge parts of one unit, fold other versions of the same article, keep the top k.

    Units are scored first from plain numbers; ``Hit`` records are only built for the
    few that make the list (a query has a few hundred candidates and keeps ten).
    """
    scores, per_row = fused
    penalties = dict(fusion.kind_penalty)
    rows_of: dict[str, list[int]] = {}
    for row in scores:
        rows_of.setdefault(index.clauses[row].unit_id, []).append(row)
    ranked_units = []
    for unit, rows in rows_of.items():
        best = max(rows, key=lambda r: (scores[r], -r))
        doc_id = index.clauses[best].doc_id
        score = scores[best]  # >= 0 here, so the version factor always demotes
        version = versions.get(doc_id)
        if version is not None and not version.preferred:
            score *= fusion.superseded_penalty
        score -= penalties.get(index.documents[doc_id].kind, 0.0)
        ranked_units.append((-score, index.clauses[best].id, best, unit))
    ranked_units.sort()
    hits: list[Hit] = []
    seen: set[tuple[str, str]] = set()
    for negative, _, best, unit in ranked_units:
        clause = index.clauses[best]
        version = versions.get(clause.doc_id)
        # drop a non-preferred version's article when the preferred one ranks higher
        key = (index.version_key(clause.doc_id), clause.label)
        if key in seen and version is not None and not version.preferred:
            continue
        seen.add(key)
        hits.append(_unit_hit(index, rows_of[unit], best, -negative, per_row, version))
        if len(hits) == k:
            break
    return hits


def _unit_hit(
    index: Index,
    rows: list[int],
    best: int,
    score: float,
    per_row: dict[int, tuple[dict[str, float], dict[str, int]]],
    version: VersionInfo | None,
) -> Hit:
    """One unit's hit: its best chunk, all its retrieved chunks, each channel's best."""
    scores: dict[str, float] = {}
    ranks: dict[str, int] = {}
    for row in rows:
        channel_scores, channel_ranks = per_row[row]
        for channel, value in channel_scores.items():
            scores[channel] = max(value, scores.get(channel, value))
        for channel, position in channel_ranks.items():
            ranks[channel] = min(position, ranks.get(channel, position))
    scores["fused"] = score
    parts = tuple(index.clauses[r] for r in rows)
    return Hit(index.clauses[best], score, scores, ranks, parts, version)
