"""Derived channels: definition clauses for "什么是" questions, and clauses top hits cite."""

from __future__ import annotations

import heapq
import re
from collections.abc import Sequence

import numpy as np

from rag.core.numbering import article_pattern
from rag.search.catalog import Index
from rag.search.fusion import Fusion, Ranked

# The three ways statutes define a term: 本法所称非法集资，是指… / 第五十一条 证券交易内幕信息
# 的知情人包括：… / …尚未公开的信息，为内幕信息。
_DEFINES = (
    re.compile(r"所称(?:的)?[“\"]?([^，。；：“”\"]{2,24}?)[”\"]?[，,]?(?:是指|包括|指)"),
    re.compile("^" + article_pattern() + r"\s*([^，。；：\s]{2,24}?)包括[:：]"),
    re.compile(r"[，,]为([^，。；：“”\s]{2,12})。"),
)

_ASKS_DEFINITION = re.compile(
    r"什么是|是什么|是指什么|何为|何谓|属于|算是|定义|含义|概念|范围|哪些人|包括哪些"
    r"|\bwhat (?:is|are|counts as|does .* mean)\b|\bdefin|\bmeaning\b|\bwho counts\b",
    re.IGNORECASE,
)


def defined_terms(text: str) -> list[str]:
    """Terms a clause defines (本法所称X，是指… → X)."""
    terms = []
    for pattern in _DEFINES:
        for match in pattern.finditer(text):
            term = match.group(match.re.groups)  # the last group is the term
            terms.append(term)
            if "的" in term:  # 证券交易内幕信息的知情人 → also its head noun 知情人
                terms.append(term.rsplit("的", 1)[1])
    return [t for t in terms if len(t) >= 2]


def definitions(question: str, index: Index, candidates: Sequence[int]) -> Ranked:
    """Candidate rows that define a term the question asks to have defined, in order.

    A statute's definition clause (本条例所称非法集资，是指…) is the governing answer to
    "什么是非法集资 / what counts as illegal fund-raising", yet rarely ranks first on
    similarity alone: it is ranked here as a channel of its own.
    """
    if not _ASKS_DEFINITION.search(question):
        return np.zeros(0, np.float32), np.zeros(0, np.int64)
    rows = [
        row for row in candidates
        if any(term in question for term in defined_terms(index.clauses[row].text))
    ]
    return np.ones(len(rows), np.float32), np.asarray(rows, np.int64)


def referenced(
    index: Index, fused: dict[int, float], fusion: Fusion, allowed: frozenset[str] | None
) -> Ranked:
    """Clauses named by the top fused hits (刑法第一百八十二条 in a judicial interpretation).

    A clause is worth what the hits citing it are worth: each citing hit adds its fused
    score as a share of the best hit's, so an article cited only by a weak hit (a 监管人员
    殴打… clause citing 故意伤害 for "中概股怎么监管") stays weak too. ``allowed`` are the
    documents the filters admit (None: all).
    """
    top = heapq.nsmallest(fusion.reference_depth, fused, key=lambda row: (-fused[row], row))
    best = fused[top[0]] if top else 0.0
    if best <= 0:
        return np.zeros(0, np.float32), np.zeros(0, np.int64)
    votes: dict[int, float] = {}
    for row in top:
        for target in index.references.rows(index.clauses[row]):
            if allowed is None or index.clauses[target].doc_id in allowed:
                votes[target] = votes.get(target, 0.0) + fused[row] / best
    rows = sorted(votes, key=lambda row: (-votes[row], row))
    return np.asarray([votes[r] for r in rows], np.float32), np.asarray(rows, np.int64)
