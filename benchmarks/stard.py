"""STARD questions and where they live, shared by the evaluation and the training scripts.

Scoring is article-level (:mod:`rag.evaluate.metrics`, which ``rag eval`` uses too): a
retrieved clause is relevant when its law title and article label match a gold entry.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from rag.core.titles import title_key
from rag.evaluate.metrics import (
    COLUMNS,
    KS,
    Key,
    article_key,
    mean,
    ranked_articles,
    score,
    table,
)

__all__ = ["COLUMNS", "DEV", "KS", "REPO", "SHARED", "TRAIN", "Key", "article_key",
           "folds_of", "gold_keys", "load_questions", "mean", "ranked_articles",
           "same_questions", "score", "table"]

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
TRAIN = SHARED / "bench" / "stard" / "train.jsonl"
DEV = SHARED / "bench" / "stard" / "dev.jsonl"


def folds_of(n: int, k: int, seed: int = 0) -> np.ndarray:
    """The fold (0..k-1) of each of ``n`` questions: a seeded shuffle, sizes within one."""
    if not 2 <= k <= n:
        raise ValueError(f"{k} folds of {n} questions: need 2 <= folds <= questions")
    return np.random.default_rng(seed).permutation(n) % k


def same_questions(a: Path, b: Path) -> bool:
    """Whether two question files are one file, or share a question (by id, else text)."""
    if a.resolve() == b.resolve():
        return True

    def keys(path: Path) -> set[str]:
        return {str(q.get("id", q["question"])) for q in load_questions(path)}

    return bool(keys(a) & keys(b))


def load_questions(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def gold_keys(question: dict[str, Any]) -> set[Key]:
    return {(title_key(g["law"]), g["article"]) for g in question["gold"]}
