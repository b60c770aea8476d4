"""Folding restatements (a news post quoting a policy clause) under the authoritative source."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from rag.answer.facts import Facts
from rag.core.documents import AUTHORITY
from rag.search import Hit, Index

OVERLAP = 0.6  # share of the shorter text's character bigrams the two texts share


def fold_duplicates(index: Index, hits: Sequence[Hit], *, facts: Facts | None = None,
                    ) -> tuple[list[Hit], dict[str, list[str]]]:
    """The hits with restatements folded under their source, and what was folded.

    Returns (kept hits, best first; {kept unit id: [folded clause ids]}). The source takes
    the best place and score of what was folded under it; otherwise the search's order
    stands (which is not always by score: a clause confirmed for the question comes first,
    and the reranker keeps the fused first three first). Only texts of different authority fold,
    so the bigram overlap is measured for those pairs alone (``facts`` keeps the bigrams
    when a batch shares them).
    """
    facts = facts or Facts(index)
    folded: dict[str, list[str]] = {}
    authority = [AUTHORITY.get(index.document_of(h.clause).kind, 0) for h in hits]
    drop: set[int] = set()
    for i, hit in enumerate(hits):
        if i in drop:
            continue
        for j in range(i + 1, len(hits)):
            a, b = authority[i], authority[j]
            if j in drop or a == b:
                continue
            grams_i, grams_j = facts.bigrams(hit.clause), facts.bigrams(hits[j].clause)
            if not grams_i or not grams_j:
                continue
            overlap = len(grams_i & grams_j) / min(len(grams_i), len(grams_j))
            if overlap < OVERLAP:
                continue
            keep, lose = (i, j) if a > b else (j, i)
            drop.add(lose)
            folded.setdefault(hits[keep].clause.unit_id, []).append(hits[lose].clause.id)
            if lose == i:
                break
    kept = [h for n, h in enumerate(hits) if n not in drop]
    if len(kept) == len(hits):
        return kept, folded
    scores = {h.clause.id: h.score for h in hits}
    places = {h.clause.id: n for n, h in enumerate(hits)}
    out = []
    for hit in kept:
        place = places[hit.clause.id]
        lost = folded.get(hit.clause.unit_id)
        if lost:
            hit = replace(hit, score=max(hit.score, *(scores[c] for c in lost)))
            place = min(place, *(places[c] for c in lost))
        out.append((place, hit))
    out.sort(key=lambda placed: placed[0])
    return [hit for _, hit in out], folded
