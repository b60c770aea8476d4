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
from typing import NamedTuple

import numpy as np

from rag.core.documents import AUTHORITY
from rag.core.script import has_chinese
from rag.core.titles import compact, title_aliases
from rag.learned import Learned
from rag.learned.artifacts import LearnedError
from rag.search.catalog import Index
from rag.search.lexical import coverage, query_terms
from rag.search.liability import (
    admin_sanction,
    asks_crime,
    asks_fine,
    criminal_law,
    criminal_sanction,
    implied_families,
    implied_law,
    liability_match,
    mentions_penalty,
)
from rag.search.query import Hit, Query

FEATURES = (
    "dense", "dense_gap", "dense_rank", "bm25", "bm25_share", "bm25_rank", "fused",
    "fused_share", "position", "definition", "reference", "authority", "kind_law",
    "kind_interpretation", "kind_regulation", "preferred", "repealed", "title_named",
    "title_overlap", "article_number", "article_share", "length", "parts", "doc_units",
    "doc_best", "coverage", "latin", "liability_path", "asks_penalty", "question_length",
    "implied_law", "criminal_law", "criminal_sanction", "admin_sanction", "asks_crime",
    "asks_fine", "liability_match", "enforces_top",
)
TOP = 10  # "ranks high": the pool's first units whose enforcing clauses enforces_top marks
_ARTICLE_ID = re.compile(r"#art(\d+)")
_LIABILITY = ("法律责任", "罚则", "责任")


def _bigrams(text: str) -> set[str]:
    return {text[i:i + 2] for i in range(len(text) - 1)}


def _article_number(clause_id: str) -> int:
    match = _ARTICLE_ID.search(clause_id)
    return int(match.group(1)) if match else 0


def enforces_top(hits: Sequence[Hit], *, index: Index, sanctions: Sequence[bool]
                 ) -> list[float]:
    """Per hit: 1/(1 + p) when it is a sanction clause (``sanctions``) that refers to a
    clause of the unit at position ``p < TOP`` in ``hits`` other than itself — the penalty
    of a duty that ranks high (违反本法第五十三条的规定…处以…罚款 for 第五十三条), the
    explicit penalty links of :mod:`rag.links` as the index's cross-references resolve
    them — else 0."""
    top: dict[str, int] = {}
    for position, hit in enumerate(hits[:TOP]):
        top.setdefault(hit.clause.unit_id, position)
    out = []
    for hit, sanction in zip(hits, sanctions, strict=True):
        best: int | None = None
        if sanction:
            own = hit.clause.unit_id
            for part in hit.parts or (hit.clause,):
                for row in index.references.rows(part):
                    unit = index.clauses[row].unit_id
                    if unit != own and unit in top:
                        best = min(top[unit], best if best is not None else TOP)
        out.append(0.0 if best is None else 1.0 / (1 + best))
    return out


class _Document(NamedTuple):
    """What the features read of a candidate's document, once per document and question."""

    kind: tuple[float, float, float, float]  # authority, law, interpretation, regulation
    title: tuple[float, float, float]  # repealed, named in the question, bigram overlap
    criminal: bool
    implied: float
    last: int


def _document(index: Index, doc_id: str, *, asked: str, asked_grams: set[str],
              families: tuple[str, ...]) -> _Document:
    doc = index.documents[doc_id]
    grams = _bigrams(compact(doc.title))
    return _Document(
        (AUTHORITY.get(doc.kind, 0), doc.kind == "law", doc.kind == "judicial_interpretation",
         doc.kind == "regulation"),
        (doc.status == "repealed", any(name in asked for name in title_aliases(doc.title)),
         len(grams & asked_grams) / len(grams) if grams else 0.0),
        criminal_law(doc.title), implied_law(families, doc.title),
        index.last_article(doc_id))


def features(query: Query, hits: Sequence[Hit], *, index: Index) -> np.ndarray:
    """One row of :data:`FEATURES` per hit, in order."""
    nan = math.nan
    weights, unknown = query_terms(query, index)
    asked = compact(query.question)
    asked_grams = _bigrams(asked)
    latin = 0.0 if has_chinese(query.question) else 1.0
    penalty = 1.0 if mentions_penalty(query.question) else 0.0
    length = math.log1p(len(query.question))
    families = implied_families(query.question)
    crime, fine = asks_crime(query.question), asks_fine(query.question)
    texts = [" ".join(part.text for part in hit.parts or (hit.clause,)) for hit in hits]
    administrative = [admin_sanction(text) for text in texts]
    criminal_text = [criminal_sanction(text) for text in texts]
    enforcing = enforces_top(hits, index=index, sanctions=[
        a or c for a, c in zip(administrative, criminal_text, strict=True)])
    dense_top = max((h.scores["dense"] for h in hits if "dense" in h.scores), default=nan)
    bm25_top = max((h.scores["bm25"] for h in hits if "bm25" in h.scores), default=nan)
    fused_top = max((h.scores.get("fused", h.score) for h in hits), default=0.0) or 1.0
    per_doc: dict[str, list[float]] = {}
    for hit in hits:
        per_doc.setdefault(hit.clause.doc_id, []).append(hit.scores.get("fused", hit.score))
    per_document: dict[str, _Document] = {}
    rows = np.full((len(hits), len(FEATURES)), nan, np.float64)
    for i, hit in enumerate(hits):
        clause = hit.clause
        doc = index.documents[clause.doc_id]
        known = per_document.get(clause.doc_id)
        if known is None:
            known = per_document[clause.doc_id] = _document(
                index, clause.doc_id, asked=asked, asked_grams=asked_grams, families=families)
        scores, ranks = hit.scores, hit.ranks
        fused = scores.get("fused", hit.score)
        number = _article_number(clause.id)
        last = known.last
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
        row[11:15] = known.kind
        row[15] = 1.0 if hit.version is None or hit.version.preferred else 0.0
        row[16:19] = known.title
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
        criminal = known.criminal
        row[30] = known.implied
        row[31] = criminal
        row[32] = criminal_text[i]
        row[33] = administrative[i]
        row[34] = crime
        row[35] = fine
        row[36] = liability_match(crime=crime, fine=fine, criminal=criminal or criminal_text[i],
                                  administrative=administrative[i])
        row[37] = enforcing[i]
    return rows


def check_features(learned: Learned) -> None:
    """Refuse a reranker trained on other features than :data:`FEATURES` (its manifest
    lists the ones it was trained with, in order): its trees would read the wrong columns."""
    if tuple(learned.features) != FEATURES:
        missing = [f for f in FEATURES if f not in learned.features]
        extra = [f for f in learned.features if f not in FEATURES]
        raise LearnedError(
            f"the reranker was trained with {len(learned.features)} features, this program "
            f"computes {len(FEATURES)} (missing from it: {missing or 'none'}; unknown here: "
            f"{extra or 'none'}; else their order differs); retrain it with "
            "`python benchmarks/train_retrieval.py` or reinstall rag")


def kept(order: Sequence[int], keep: int) -> list[int]:
    """``order`` (a re-ordering of fused positions 0…n-1) with the fused first ``keep``
    still the first ``keep``: they, then everything after them, each in the re-order's
    order."""
    head = [p for p in order if p < keep]
    return head + [p for p in order if p >= keep]


def rerank(query: Query, hits: list[Hit], *, index: Index, learned: Learned, k: int,
           keep: int = 0) -> list[Hit]:
    """The top ``k`` of ``hits`` in the reranker's order, the first ``keep`` of ``hits``
    kept first (:func:`kept`); each hit's score becomes its reranker score (the fused one
    stays in ``scores["fused"]``), and its ranks say where the fusion and the reranker
    alone put it (``ranks["fused"]``, ``ranks["rerank"]``, from 1)."""
    if not hits or learned.reranker_model is None:
        return hits[:k]
    check_features(learned)
    scores = learned.score(features(query, hits, index=index))
    alone = sorted(range(len(hits)), key=lambda i: (-scores[i], i))
    place = {i: n for n, i in enumerate(alone, 1)}
    return [replace(hits[i], score=float(scores[i]),
                    scores={**hits[i].scores, "rerank": float(scores[i])},
                    ranks={**hits[i].ranks, "fused": i + 1, "rerank": place[i]})
            for i in kept(alone, keep)[:k]]
