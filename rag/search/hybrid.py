"""Hybrid retrieval: dense and BM25 candidates fused, collapsed to one hit per unit.

A unit is an article (all its ``.partN`` chunks), a numbered clause or a paragraph. Each
hit keeps every channel's rank and raw score, so users and tests can see why it ranked.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence

from rag.core.clauses import Clause
from rag.core.filters import Filters
from rag.core.versions import VersionInfo
from rag.encoders import Encoder
from rag.search.catalog import Index
from rag.search.fusion import Fused, Fusion, Ranked, fuse
from rag.search.memory import memory_channel
from rag.search.named import ARTICLE_REF
from rag.search.query import MAX_QUESTION_CHARS, Hit, Query, prepare
from rag.search.rerank import rerank
from rag.search.signals import definitions, referenced

__all__ = ["CHANNELS", "MAX_QUESTION_CHARS", "Hit", "Query", "calibrated", "channel_results",
           "collapse", "prepare", "rank", "retrieve"]

CHANNELS = ("dense", "bm25", "memory")  # memory: only when the index has one attached


def calibrated(fusion: Fusion | None, index: Index) -> Fusion:
    """``fusion`` (the default when None) with the memory settings it leaves unset taken
    from the index model's trained parts (similarities live on each encoder's own scale),
    and the reranker on or off as they say when it leaves that unset."""
    learned = index.learned
    if learned is None:
        return (fusion or Fusion()).calibrated(None)
    return (fusion or Fusion()).calibrated(
        learned.memory, rerank=learned.reranker_model is not None and learned.reranker_default)


def channel_results(
    query: Query,
    *,
    index: Index,
    encoder: Encoder | None = None,
    depth: int,
    channels: Sequence[str] = CHANNELS,
    fusion: Fusion | None = None,
) -> dict[str, Ranked]:
    """Each channel's top ``depth`` (scores, rows), best first.

    The memory channel is searched when the index has a memory (confirmed questions)
    with a weight in ``fusion``; it embeds the question as asked, without the adapter.
    When the adapter maps the question for ``dense``, the question as asked is searched
    too, as ``dense_plain`` (part of the dense channel: asking for ``dense`` runs both).
    """
    fusion = calibrated(fusion, index)
    if query.cross_lingual:
        fusion = fusion.cross_lingual()  # (the trained adapter is for Chinese questions)
    unknown = [c for c in channels if c not in CHANNELS]
    if unknown:
        raise ValueError(f"unknown channel {', '.join(unknown)}; choose from {CHANNELS}")
    ranked: dict[str, Ranked] = {}
    filters = query.filters
    memory = index.memory if fusion.memory_settings().weight > 0 else None
    vector = query.vector
    if vector is None and ("dense" in channels or (memory and "memory" in channels)):
        vector = index.query_encoder(encoder).encode_queries([query.text])[0]
    if memory and "memory" in channels and vector is not None:
        ranked["memory"] = memory_channel(
            memory, vector, query.question, row_of=index.row_of, fusion=fusion,
            admits=lambda row: query.admits(index.clauses[row]))
    if "dense" in channels and vector is not None:
        learned = index.learned
        if learned is not None and fusion.use_adapter and learned.adapter is not None:
            if fusion.plain_dense_weight > 0:  # the question as asked, beside the mapped one
                found = index.backend.search_dense(vector, depth, filters=filters)
                ranked["dense_plain"] = (found.scores, found.rows)
            vector = learned.adapt(vector)  # the question as the trained map sees it
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
    encoder: Encoder | None = None,
    k: int = 10,
    filters: Filters | None = None,
    fusion: Fusion | None = None,
    channels: Sequence[str] = CHANNELS,
) -> list[Hit]:
    """The ``k`` best units for ``question``, best first, one hit per unit.

    ``question`` may be a :class:`Query` already prepared (then ``filters`` is ignored).
    The question is embedded with the index's encoder (``encoder``, when given, must be
    that model).
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
    query = question if isinstance(question, Query) else prepare(question, index=index,
                                                                  filters=filters)
    fusion = calibrated(fusion, index)  # once: the channels and the fusion share it
    if not query.question or not index.clauses:
        return []
    ranked = channel_results(query, index=index, encoder=encoder,
                             depth=max(fusion.depth, 3 * k), channels=channels, fusion=fusion)
    return rank(query, ranked, index=index, k=k, fusion=fusion)


def rank(
    query: Query, ranked: dict[str, Ranked], *, index: Index, k: int, fusion: Fusion
) -> list[Hit]:
    """Fuse the channels' rankings into the top ``k`` units.

    With both dense and BM25 present (the hybrid), two derived signals join the fusion:
    definition clauses for definition questions, and the clauses the top hits refer to;
    then the trained reranker, when the index's model has one, re-orders the best
    ``learned.pool`` units.
    """
    ranked = dict(ranked)
    hybrid = "dense" in ranked and "bm25" in ranked
    fusion = calibrated(fusion, index)
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
    pinned = confirmed_units(query, ranked, index)
    learned = index.learned
    # a question that names an article (违反《证券法》第四十条…) is a look-up: its answer is
    # that clause and what links to it. The reranker was trained on STARD's lay questions,
    # none of which names one, so it leaves such a question in the fused order.
    if (hybrid and fusion.use_reranker and learned is not None
            and learned.reranker_model is not None and not ARTICLE_REF.search(query.question)):
        pool = collapse(index, fused, k=max(k, learned.pool), fusion=fusion,
                        versions=query.versions, pinned=pinned)
        hits = rerank(query, pool, index=index, learned=learned, k=len(pool),
                      keep=fusion.reranker_keeps)
        # a clause confirmed for this very question comes first, wherever the reranker put it
        return sorted(hits, key=lambda hit: hit.via != "memory")[:k]  # (a stable sort)
    return collapse(index, fused, k=k, fusion=fusion, versions=query.versions, pinned=pinned)


def confirmed_units(query: Query, ranked: Mapping[str, Ranked], index: Index) -> frozenset[str]:
    """Units a reader confirmed for this very question, when the memory channel ran."""
    if index.memory is None or "memory" not in ranked:
        return frozenset()
    rows = set(ranked["memory"][1].tolist())
    return frozenset(index.clauses[index.row_of[c]].unit_id
                     for c in index.memory.exact(query.question)
                     if c in index.row_of and index.row_of[c] in rows)


def collapse(
    index: Index,
    fused: Fused,
    *,
    k: int,
    fusion: Fusion,
    versions: Mapping[str, VersionInfo],
    pinned: frozenset[str] = frozenset(),
) -> list[Hit]:
    """Merge parts of one unit, fold other versions of the same article, keep the top k.

    Units are scored first from plain numbers; ``Hit`` records are only built for the
    few that make the list (a query has a few hundred candidates and keeps ten). A
    superseded version's article is folded into the article it became when that one is
    a candidate too (it is shown beside it, in the citation's comparison), so an old
    version never outranks the one in force. ``pinned`` units (confirmed for this very
    question) come first, ``via="memory"``.
    """
    scores, per_row = fused
    penalties = dict(fusion.kind_penalty)
    rows_of: dict[str, list[int]] = {}
    for row in scores:
        rows_of.setdefault(index.clauses[row].unit_id, []).append(row)
    unit_score: dict[str, float] = {}
    unit_best: dict[str, int] = {}
    superseded: list[str] = []  # units from a version not preferred
    for unit, rows in rows_of.items():
        best = rows[0] if len(rows) == 1 else max(rows, key=lambda r: (scores[r], -r))
        doc_id = index.clauses[best].doc_id
        score = scores[best]  # >= 0 here, so the version factor always demotes
        version = versions.get(doc_id)
        if version is not None and not version.preferred:
            score *= fusion.superseded_penalty
            superseded.append(unit)
        unit_score[unit] = score - penalties.get(index.documents[doc_id].kind, 0.0)
        unit_best[unit] = best
    # an older version's article folds into the preferred version's article it aligns
    # with (by text, so a renumbered article still finds it), when that one is here too
    for unit in superseded:  # (preferred_twin is None for every other unit)
        twin = preferred_twin(index, index.clauses[unit_best[unit]], versions)
        if twin is not None and twin != unit and twin in unit_score and unit not in pinned:
            unit_score[twin] = max(unit_score[twin], unit_score.pop(unit))
    ranked_units = heapq.nsmallest(  # sorted(...)[:k], without sorting every candidate
        k, ((unit not in pinned, -score, index.clauses[unit_best[unit]].id, unit_best[unit],
             unit) for unit, score in unit_score.items()))
    return [_unit_hit(index, rows_of[unit], best, -negative, per_row,
                      versions.get(index.clauses[best].doc_id),
                      via="search" if later else "memory")
            for later, negative, _, best, unit in ranked_units]


def preferred_twin(
    index: Index, clause: Clause, versions: Mapping[str, VersionInfo]
) -> str | None:
    """The unit id of the article aligned with ``clause``'s in the preferred version of
    its document, when ``clause`` is in a version that is not preferred."""
    version = versions.get(clause.doc_id)
    if version is None or version.preferred or not index.links.has_versions(clause.doc_id):
        return None
    for other in index.links.others(clause.doc_id):
        info = versions.get(other.doc_id)
        if info is not None and info.preferred:
            twin = index.links.counterpart(clause, other.doc_id)
            return twin.unit_id if twin is not None else None
    return None


def _unit_hit(
    index: Index,
    rows: list[int],
    best: int,
    score: float,
    per_row: dict[int, tuple[dict[str, float], dict[str, int]]],
    version: VersionInfo | None,
    *,
    via: str = "search",
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
    return Hit(index.clauses[best], score, scores, ranks, parts, version, via=via)
