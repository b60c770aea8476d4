"""BM25 on Milvus with the project's own tokenizer: clause terms as sparse vectors.

Why client-side tokens and not Milvus's server-side BM25 function: the keyword channel
then tokenizes exactly as the embedded index does (:mod:`rag.index.tokenize`: jieba
search mode, stop words, Latin words and numbers), scores exactly as bm25s' "lucene"
variant with one corpus-wide idf (Milvus computes BM25 statistics per segment), keeps the
document frequencies ``keyword_idf`` needs for refusal and highlights, and works on any
Milvus with sparse vectors (2.4+), not only on servers with the BM25 function (2.5+).
``benchmarks/milvus_bm25.py`` measures both against the embedded BM25 (README).

A clause's sparse vector holds, per term id, the term-frequency part of BM25

    tf / (tf + k1 · (1 − b + b · length / avgdl))

and a question's holds, per term id, count × idf with idf = ln(1 + (N − df + 0.5) /
(df + 0.5)), so their inner product is bm25s' score. ``avgdl`` is the corpus's average
keyword length when the weights were written; a build rewrites every clause's weights once
the live average has moved more than :data:`AVGDL_DRIFT` from it (until then an update
only writes the clauses it changes). ``N`` and ``df`` are always the live corpus's.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass

AVGDL_DRIFT = 0.02


@dataclass(frozen=True)
class KeywordStats:
    """Corpus statistics of the keyword channel, stored with the index."""

    documents: int = 0  # N: clauses, those without any term included (length 1, as bm25s)
    total_length: int = 0
    avgdl: float = 0.0  # the average the stored weights were computed with
    next_tid: int = 0
    k1: float = 1.2
    b: float = 0.75

    @classmethod
    def from_json(cls, data: object) -> KeywordStats:
        if not isinstance(data, dict):
            return cls()
        return cls(**{k: data[k] for k in asdict(cls()) if k in data})

    def to_json(self) -> dict[str, object]:
        return asdict(self)

    @property
    def live_avgdl(self) -> float:
        return self.total_length / self.documents if self.documents else 0.0

    def drifted(self) -> bool:
        """Whether the stored weights' average length is too far from the live one."""
        if self.documents == 0:
            return False
        return self.avgdl <= 0 or abs(self.live_avgdl / self.avgdl - 1.0) > AVGDL_DRIFT


def length(tokens: Sequence[str]) -> int:
    """A clause's keyword length as bm25s counts it (an empty clause counts 1)."""
    return max(1, len(tokens))


def idf(df: int, documents: int) -> float:
    return math.log(1 + (documents - df + 0.5) / (df + 0.5))


def clause_weights(tokens: Sequence[str], tids: Mapping[str, int], *, avgdl: float,
                   k1: float, b: float) -> dict[int, float]:
    """term id → BM25 term-frequency part, for a clause's tokens."""
    norm = k1 * (1 - b + b * length(tokens) / avgdl)
    return {tids[t]: tf / (tf + norm) for t, tf in Counter(tokens).items()}


def query_weights(tokens: Iterable[str], known: Mapping[str, tuple[int, int]],
                  documents: int) -> dict[int, float]:
    """term id → count × idf, for a question's tokens the corpus holds."""
    counts = Counter(t for t in tokens if t in known)
    return {known[t][0]: n * idf(known[t][1], documents) for t, n in counts.items()}


def df_changes(old: Iterable[Iterable[int]], new: Iterable[Iterable[str]],
               ) -> tuple[Counter[int], Counter[str]]:
    """Document-frequency changes: −1 per old term id of each rewritten or deleted clause,
    +1 per term of each rewritten clause's new passage."""
    removed: Counter[int] = Counter()
    for terms in old:
        removed.update(set(terms))
    added: Counter[str] = Counter()
    for tokens in new:
        added.update(set(tokens))
    return removed, added
