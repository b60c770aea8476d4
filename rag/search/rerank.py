"""The learned reranker's view of a candidate: features from every signal, then a re-order.

The fused candidates of a question (:func:`rag.search.hybrid.rank`, ``Learned.pool`` of
them) are described by the same features at training time
(``benchmarks/train_retrieval.py``) and at query time, and re-ordered by the trained
LambdaMART model. Missing signals (a unit one channel did not find) are NaN, which the
trees handle natively.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from rag.core.documents import AUTHORITY
from rag.core.script import has_chinese
from rag.core.titles import compact, title_aliases
from rag.learned import Learned
from rag.search.catalog import Index
from rag.search.lexical import coverage, query_terms
from rag.search.query import Hit, Query

FEATURES = (
    "dense", "dense_gap", "dense_rank", "bm25", "bm25_share", "bm25_rank", "fused",
    "fused_share", "position", "definition", "reference", "authority", "kind_law",
    "kind_interpretation", "kind_regulation", "preferred", "repealed", "title_named",
    "title_overlap", "article_number", "article_share", "length", "parts", "doc_units",
    "doc_best", "coverage", "latin", "liability_path", "asks_penalty", "question_length",
)
_ARTICLE_ID = re.compile(r"#art(\d+)")
_PENALTY = re.compile(
    r"罚|处罚|判刑|坐牢|刑事|拘留|赔偿|责任|吊销|没收|penalt|fine|punish|liab|prison|sentence",
    re.IGNORECASE)
_LIABILITY = ("法律责任", "罚则", "责任")


def _bigrams(text: str) -> set[str]:
    return {text[i:i + 2] for i in range(len(text) - 1)}


def _article_number(clause_id: str) -> int:
    match = _ARTICLE_ID.search(clause_id)
    return int(match.group(1)) if match else 0


def features(query: Query, hits: Sequence[Hit], *, index: Index) -> np.ndarray:
    """One row of :data:`FEATURES` per hit, in order."""
    nan = math.nan
    weights, unknown = query_terms(query, index)
    asked = compact(query.question)
    asked_grams = _bigrams(asked)
    latin = 0.0 if has_chinese(query.question) else 1.0
    penalty = 1.0 if _PENALTY.search(query.question) else 0.0
    length = math.log1p(len(query.question))
    dense_top = max((h.scores["dense"] for h in hits if "dense" in h.scores), default=nan)
    bm25_top = max((h.scores["bm25"] for h in hits if "bm25" in h.scores), default=nan)
    fused_top = max((h.scores.get("fused", h.score) for h in hits), default=0.0) or 1.0
    per_doc: dict[str, list[float]] = {}
    for hit in hits:
        per_doc.setdefault(hit.clause.doc_id, []).append(hit.scores.get("fused", hit.score))
    rows = np.full((len(hits), len(FEATURES)), nan, np.float64)
    for i, hit in enumerate(hits):
        clause = hit.clause
        doc = index.documents[clause.doc_id]
        scores, ranks = hit.scores, hit.ranks
        fused = scores.get("fused", hit.score)
        title = compact(doc.title)
        number = _article_number(clause.id)
        last = index.last_article(clause.doc_id)
        row = rows[i]
        if "dense" in scores:
            row[0] = scores["dense"]
            row[1] = scores["dense"] - dense_top
            row[2] = math.log1p(ranks["dense"])
        if "bm25" in scores:
            row[3] = scores["bm25"]
            row[4] = scores["bm25"] / bm25_top if bm25_top > 0 else 0.0
            row[5] = math.log1p(ranks["bm25"])
        row[6] = fused
        row[7] = fused / fused_top
        row[8] = math.log1p(i)
        row[9] = scores.get("definition", 0.0)
        row[10] = scores.get("reference", 0.0)
        row[11] = AUTHORITY.get(doc.kind, 0)
        row[12] = doc.kind == "law"
        row[13] = doc.kind == "judicial_interpretation"
        row[14] = doc.kind == "regulation"
        row[15] = 1.0 if hit.version is None or hit.version.preferred else 0.0
        row[16] = doc.status == "repealed"
        row[17] = any(name in asked for name in title_aliases(doc.title))
        grams = _bigrams(title)
        row[18] = len(grams & asked_grams) / len(grams) if grams else 0.0
        row[19] = number
        row[20] = number / last if number and last else nan
        row[21] = math.log1p(len(clause.text))
        row[22] = len(hit.parts)
        row[23] = len(per_doc[clause.doc_id])
        row[24] = max(per_doc[clause.doc_id]) / fused_top
        row[25] = coverage(weights, unknown, doc.title + " " + clause.text)
        row[26] = latin
        row[27] = any(word in part for part in clause.path for word in _LIABILITY)
        row[28] = penalty
        row[29] = length
    return rows


def rerank(query: Query, hits: list[Hit], *, index: Index, learned: Learned, k: int) -> list[Hit]:
    """The top ``k`` of ``hits`` in the reranker's order; each hit's score becomes its
    reranker score (the fused one stays in ``scores["fused"]``)."""
    if not hits or learned.reranker is None:
        return hits[:k]
    scores = learned.score(features(query, hits, index=index))
    order = sorted(range(len(hits)), key=lambda i: (-scores[i], i))[:k]
    return [replace(hits[i], score=float(scores[i]),
                    scores={**hits[i].scores, "rerank": float(scores[i])}) for i in order]
