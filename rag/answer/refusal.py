"""When to refuse: a calibrated confidence that the top clause answers the question.

A logistic model over three signals: the top hit's dense similarity, the share of the
question's idf mass the top clause (with its title) contains, and whether the question
is written without Chinese (cross-lingual similarities run lower). It is fitted per model
by ``benchmarks/calibrate_refusal.py``; with an uncalibrated model coverage alone decides.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, fields
from functools import lru_cache
from importlib import resources

from rag.core.script import has_chinese
from rag.search import Hit, Index, Query
from rag.search.lexical import coverage

COVERAGE_HITS = 3  # coverage is the best of the top hits: the reranked first need not hold
CALIBRATION_FILE = "calibration.json"  # package data of rag.answer


@dataclass(frozen=True)
class Calibration:
    """Logistic confidence over (the nearest clause's similarity, the top hit's lexical
    coverage, latin).

    ``threshold`` splits answered from refused.
    """

    model_identity: str
    bias: float
    dense_weight: float
    coverage_weight: float
    latin_weight: float
    threshold: float

    def confidence(self, dense: float, coverage: float, latin: float) -> float:
        z = (self.bias + self.dense_weight * dense + self.coverage_weight * coverage
             + self.latin_weight * latin)
        return 1.0 / (1.0 + math.exp(-z))


# Used when no calibration matches the index's model: coverage alone decides.
FALLBACK = Calibration("any", -3.0, 0.0, 6.0, 0.0, 0.5)


def calibration_path() -> str:
    """Where the shipped calibration lives (package data)."""
    return str(resources.files("rag.answer").joinpath(CALIBRATION_FILE))


@lru_cache(maxsize=8)
def load_calibration(model_identity: str) -> Calibration:
    """The shipped calibration when it was fitted for this model, else the fallback.

    The file holds one calibration, or a list of them (one per bundled model).

    Read once per model and process.
    """
    try:
        with open(calibration_path(), encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, json.JSONDecodeError):
        return FALLBACK
    found = [d for d in (data if isinstance(data, list) else [data])
             if isinstance(d, dict) and d.get("model_identity") == model_identity]
    if not found:
        return FALLBACK
    data = found[0]
    try:
        return Calibration(**{f.name: data[f.name] for f in fields(Calibration)})
    except (KeyError, TypeError):
        return FALLBACK


def closest(query: Query, index: Index) -> float:
    """How close the nearest clause the filters admit is to the question, in the model's
    own space (its raw cosine: neither the adapter nor the reranker moves it, so refusal
    stays calibrated whatever ranks the hits). ``query.vector`` must be embedded."""
    if query.vector is None:
        raise ValueError("closest() needs the question embedded (query.vector)")
    found = index.backend.search_dense(query.vector, 1, filters=query.filters)
    return float(found.scores[0]) if len(found.scores) else 0.0


def evidence(
    question: str, hits: list[Hit], *, index: Index, weights: dict[str, float], unknown: float,
    nearest: float,
) -> tuple[float, float, float]:
    """The signals refusal is calibrated on: ``nearest`` (:func:`closest`), the best lexical
    coverage among the top hits, and whether the question is written without Chinese."""
    latin = 0.0 if has_chinese(question) else 1.0
    if not hits:
        return 0.0, 0.0, latin
    best = max(coverage(weights, unknown, index.document_of(h.clause).title + " " + h.clause.text)
               for h in hits[:COVERAGE_HITS])
    return nearest, best, latin
