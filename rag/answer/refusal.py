"""When to refuse: a calibrated confidence that the top clause answers the question.

A logistic model over three signals: the top hit's dense similarity, the share of the
question's idf mass the top clause (with its title) contains, and whether the question
is written without Chinese (cross-lingual similarities run lower). It is fitted per model
by ``benchmarks/calibrate_refusal.py``; with an uncalibrated model coverage alone decides.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, fields
from functools import lru_cache
from importlib import resources

from rag.answer.highlight import term_weights
from rag.search import Hit, Index, Query
from rag.search.glossary import translated_words

CALIBRATION_FILE = "calibration.json"  # package data of rag.answer
_CJK = re.compile(r"[\u3400-\u9fff]")
# English words that carry no legal meaning; not counted as "unknown to the corpus".
STOPWORDS_EN = frozenset(
    "penalty law laws rule rules legal counts count who whose must can may need say says "
    "under there their them they get gets got give given does have has had".split()
)
UNKNOWN_TERM_WEIGHT = 8.0


@dataclass(frozen=True)
class Calibration:
    """Logistic confidence over (dense score of the top hit, lexical coverage, latin).

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

    Read once per model and process.
    """
    try:
        with open(calibration_path(), encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, json.JSONDecodeError):
        return FALLBACK
    if not isinstance(data, dict) or data.get("model_identity") != model_identity:
        return FALLBACK
    try:
        return Calibration(**{f.name: data[f.name] for f in fields(Calibration)})
    except (KeyError, TypeError):
        return FALLBACK


def coverage(question_weights: dict[str, float], unknown: float, passage: str) -> float:
    """Share of the question's idf mass that the passage contains."""
    total = sum(question_weights.values()) + unknown
    if total <= 0:
        return 0.0
    lower = passage.lower()
    return sum(w for t, w in question_weights.items() if t in lower) / total


def query_terms(query: Query, index: Index) -> tuple[dict[str, float], float]:
    """The question's terms known to the corpus with their idf, and the idf mass of the
    terms it does not know (words like 天气 or 菜谱 that no clause contains).

    An English word the glossary translated is known through its Chinese terms; every
    other English word counts as unknown, so "when does the bank open on Sunday" is
    mostly unknown however legal 银行 sounds."""
    tokens = index.tokenizer(query.text)
    weights = term_weights(tokens, index.backend.keyword_idf(tokens))
    translated = translated_words(query.question)
    unknown = UNKNOWN_TERM_WEIGHT * sum(
        1 for t in tokens
        if (len(t) >= 2 or t.isdigit()) and t not in weights and t not in STOPWORDS_EN
        and t not in translated
    )
    return weights, unknown


def evidence(
    question: str, hits: list[Hit], *, index: Index, weights: dict[str, float], unknown: float
) -> tuple[float, float, float]:
    """The signals refusal is calibrated on, for the top hit of ``hits``."""
    latin = 0.0 if _CJK.search(question) else 1.0
    if not hits:
        return 0.0, 0.0, latin
    top = hits[0]
    passage = index.document_of(top.clause).title + " " + top.clause.text
    return top.scores.get("dense", 0.0), coverage(weights, unknown, passage), latin
