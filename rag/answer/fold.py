"""Folding restatements (a news post quoting a policy clause) under the authoritative source."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from rag.core.documents import AUTHORITY
from rag.search import Hit, Index

OVERLAP = 0.6  # share of the shorter text's character bigrams the two texts share


def _bigrams(text: str) -> set[str]:
    text = re.sub(r"\W+", "", text)
    return {text[i : i + 2] for i in range(len(text) - 1)}


def fold_duplicates(index: Index, hits: Sequence[Hit]) -> tuple[list[Hit], dict[str, list[str]]]:
    """The hits with restatements folded under their source, and what was folded.

    Returns (kept hits, best first; {kept unit id: [folded clause ids]}). The source takes
    the best score of what was folded under it.
    """
    folded: dict[str, list[str]] = {}
    grams = [_bigrams(h.clause.text) for h in hits]
    drop: set[int] = set()
    for i, hit in enumerate(hits):
        if i in drop:
            continue
        for j in range(i + 1, len(hits)):
            if j in drop or not grams[i] or not grams[j]:
                continue
            overlap = len(grams[i] & grams[j]) / min(len(grams[i]), len(grams[j]))
            if overlap < OVERLAP:
                continue
            a = AUTHORITY.get(index.document_of(hit.clause).kind, 0)
            b = AUTHORITY.get(index.document_of(hits[j].clause).kind, 0)
            if a == b:
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
    out = []
    for hit in kept:
        lost = folded.get(hit.clause.unit_id)
        if lost:
            hit = replace(hit, score=max(hit.score, *(scores[c] for c in lost)))
        out.append(hit)
    out.sort(key=lambda h: -h.score)
    return out, folded
