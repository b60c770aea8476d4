"""Fusing channels: each channel's scores scaled to 0–1, weighted and summed per row.

The default, ``method="score"``, sums min-max scaled scores; weighted reciprocal-rank
fusion, ``sum_c w_c / (k + rank_c)``, is kept as ``method="rrf"``. On STARD dev the score
sum beat the best RRF by 0.04 Recall@10, because RRF throws away how far ahead a clear
winner is. Weights and penalties were chosen on labelled data by cross-validated search
(``benchmarks/stard_eval.py --tune``), not guessed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np

FUSION_METHODS = ("score", "rrf")
# A channel's result: (scores, rows), best first.
Ranked = tuple[np.ndarray, np.ndarray]
# row → fused score, and row → (per-channel scores, per-channel 1-based ranks)
Fused = tuple[dict[int, float], dict[int, tuple[dict[str, float], dict[str, int]]]]

# The question memory's settings for a model whose trained parts record none: chosen for
# multilingual-e5-small (its cosine scale) by 5-fold CV on STARD train.jsonl over the full
# national corpus, each fold searched with a query adapter trained on the other folds,
# over the stack with dense_plain (benchmarks/memory_eval.py; figures in the README).
MEMORY_DEFAULTS: Mapping[str, float] = MappingProxyType({
    "memory_weight": 2.0, "memory_floor": 0.85, "memory_null": 0.88,
    "memory_temperature": 0.02,
})


class MemorySettings(NamedTuple):
    """The question memory's settings, resolved (:meth:`Fusion.memory_settings`)."""

    weight: float
    floor: float
    null: float
    temperature: float


def check_memory(settings: MemorySettings) -> None:
    """Refuse memory settings no vote can use."""
    if settings.weight < 0:
        raise ValueError(f"memory_weight must be at least 0, not {settings.weight}")
    if not 0.0 <= settings.floor < 1.0:
        raise ValueError(f"memory_floor must be in [0, 1), not {settings.floor}")
    if settings.temperature <= 0:
        raise ValueError(f"memory_temperature must be positive, not {settings.temperature}")


@dataclass(frozen=True)
class Fusion:
    """How the channels are combined.

    Defaults chosen on STARD by cross-validated coordinate search
    (``benchmarks/stard_eval.py --tune``; figures in the README).
    """

    method: str = "score"  # "score": weighted sum of min-max scaled scores; "rrf"
    dense_weight: float = 1.0
    bm25_weight: float = 0.7
    rrf_k: float = 20.0  # only for method="rrf"
    depth: int = 200  # candidates taken from each channel
    superseded_penalty: float = 0.5  # multiplies the fused score of non-preferred versions
    definition_weight: float = 0.5  # weight of the "defines a term the question asks about"
    reference_weight: float = 0.5  # weight of "named by a top hit" (the article a JI interprets)
    reference_depth: int = 10  # top fused hits whose references are followed
    # BM25's weight is multiplied by this for a question written without Chinese: its
    # keyword channel then searches the glossary's statutory terms, while its dense channel
    # matches across languages, which the model does weakly. 2.0 sits on the plateau
    # (1.7–2.4) of English hit@5 on benchmarks/data/english_questions.jsonl (not held out).
    cross_lingual_bm25_factor: float = 2.0
    # subtracted from the fused score per document kind: a statute outranks an
    # interpretation or a regulation that says the same thing
    kind_penalty: tuple[tuple[str, float], ...] = (
        ("judicial_interpretation", 0.3), ("regulation", 0.6),
    )
    # the trained parts (rag.learned), used when the index's model has them, for questions
    # with Chinese: they were trained on STARD's Chinese questions, and on the English set
    # they lowered hit@5 (0.957 plain, 0.900 with them), so English is searched without.
    use_adapter: bool = True  # map the question vector before the dense search
    # with the adapter on, the question as asked (not mapped) is searched too, as channel
    # "dense_plain" of this weight: the two vectors miss different gold, and 0.5 (of 0,
    # 0.25, 0.5, 0.75, 1.0) was best by 5-fold CV on STARD train.jsonl over the full
    # corpus, each fold mapped by an adapter trained on the others (R@10 .667 → .681,
    # R@100 .872 → .879, MRR@10 .557 → .584; benchmarks/memory_eval.py --plain-dense)
    plain_dense_weight: float = 0.5
    # re-order the fused candidates with the learned reranker. None (the default): as the
    # model's trained parts say (manifest "reranker": {"default": true}, set where the
    # reranker helped STARD dev and lost none of benchmarks/reranker_safety.py's compliance
    # questions: the fine-tuned default's; the base model's stays off, README "A model
    # tuned to statutes")
    use_reranker: bool | None = None
    # the fused top this many units stay the first this many when the reranker re-orders:
    # it orders them and everything after, never pushes them out. Trained on lay criminal
    # and civil questions, it otherwise demoted governing clauses the search was sure of
    # (刑法第一百八十二条 for 操纵股价构成犯罪吗); three is the answer's promise (the
    # governing clause among the first three), and it costs nothing on train-CV (R@10 +
    # MRR@10 + R@100/2: 1.7381 against 1.7382 unkept; benchmarks/train_retrieval.py)
    reranker_keeps: int = 3
    # question memory (rag.search.memory): confirmed questions at least memory_floor
    # similar vote for their clauses, each weighing exp((similarity - memory_null) /
    # memory_temperature) against "none of them" weighing 1; the channel's weight in the
    # fusion is memory_weight (0 turns memory off). None (the default) takes the model's own
    # setting, recorded with its trained parts (:meth:`calibrated`), else MEMORY_DEFAULTS:
    # similarities live on each encoder's own scale.
    memory_weight: float | None = None
    memory_floor: float | None = None
    memory_null: float | None = None
    memory_temperature: float | None = None
    memory_depth: int = 50  # nearest confirmed questions consulted

    def __post_init__(self) -> None:
        if self.method not in FUSION_METHODS:
            raise ValueError(f"fusion method must be one of {FUSION_METHODS}, not {self.method!r}")
        if self.depth < 1:
            raise ValueError(f"fusion depth must be at least 1, not {self.depth}")
        check_memory(self.memory_settings())
        if self.reranker_keeps < 0:
            raise ValueError(f"reranker_keeps must be at least 0, not {self.reranker_keeps}")
        if self.cross_lingual_bm25_factor <= 0:
            raise ValueError("cross_lingual_bm25_factor must be positive, not "
                             f"{self.cross_lingual_bm25_factor}")

    def cross_lingual(self) -> Fusion:
        """The fusion for a question written without Chinese: BM25 weighted up, and none
        of the trained parts (fitted on Chinese questions only)."""
        return replace(self, bm25_weight=self.bm25_weight * self.cross_lingual_bm25_factor,
                       use_adapter=False, use_reranker=False)

    def calibrated(self, own: Mapping[str, float] | None, *, rerank: bool = False) -> Fusion:
        """This fusion with each memory setting it leaves unset taken from ``own`` (the
        model's calibration, :attr:`rag.learned.Learned.memory`), when that names it, and
        ``use_reranker``, when unset, as ``rerank`` (the model's own choice)."""
        unset: dict[str, Any] = {name: float(value) for name, value in (own or {}).items()
                                 if name in MEMORY_DEFAULTS and getattr(self, name) is None}
        if self.use_reranker is None:
            unset["use_reranker"] = rerank
        return replace(self, **unset) if unset else self

    def memory_settings(self) -> MemorySettings:
        """The memory's weight, floor, null and temperature; unset ones at MEMORY_DEFAULTS
        (:meth:`calibrated` first, for the model's own)."""
        def own(name: str) -> float:
            value = getattr(self, name)
            return MEMORY_DEFAULTS[name] if value is None else float(value)

        return MemorySettings(own("memory_weight"), own("memory_floor"), own("memory_null"),
                              own("memory_temperature"))

    def weight(self, channel: str) -> float:
        if channel == "memory":
            return self.memory_settings().weight
        return {"dense": self.dense_weight, "dense_plain": self.plain_dense_weight,
                "bm25": self.bm25_weight,
                "definition": self.definition_weight,
                "reference": self.reference_weight}[channel]


def scaled(channel: str, scores: np.ndarray) -> np.ndarray:
    """A channel's scores on a 0–1 scale: min-max over its candidates for the searched
    channels (cosines and BM25 live on unrelated scales), share of the best for the
    derived ones: definition flags as they are, reference votes (already shares of the
    best hit's score) and memory votes (shares of the neighbours' weight) capped at 1."""
    if scores.size == 0:
        return scores.astype(np.float64)
    values = scores.astype(np.float64)
    if channel in ("definition", "reference", "memory"):
        return np.clip(values, 0.0, 1.0)
    top = float(values.max())
    low = float(values.min())
    if top - low < 1e-12:
        return np.ones_like(values)
    return (values - low) / (top - low)


def fuse(ranked: dict[str, Ranked], fusion: Fusion, *, onto: Fused | None = None) -> Fused:
    """Weighted fusion of the channels: row → fused score, and row → per-channel details.

    ``onto`` adds the channels to an earlier fusion (in place) instead of starting afresh.
    """
    fused, per_row = onto if onto is not None else ({}, {})
    for channel, (scores, rows) in ranked.items():
        weight = fusion.weight(channel)
        if fusion.method == "score":
            gains = (weight * scaled(channel, scores)).tolist()
        else:
            gains = [weight / (fusion.rrf_k + r) for r in range(1, len(rows) + 1)]
        for rank, (score, row, gain) in enumerate(
            zip(scores.tolist(), rows.tolist(), gains, strict=True), 1
        ):
            fused[row] = fused.get(row, 0.0) + gain
            channel_scores, channel_ranks = per_row.setdefault(row, ({}, {}))
            channel_scores[channel] = float(score)
            channel_ranks[channel] = rank
    return fused, per_row
