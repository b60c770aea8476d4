"""STARD questions and their scoring, shared by the evaluation and the training scripts.

A retrieved clause is relevant when its law title (中华人民共和国 and spaces dropped) and
article label match a gold entry; any version of the law counts. Scores are per question:
Recall@k is the share of its gold articles among the top k articles (parts of one
article collapsed first), MRR@10 is 1/rank of the first relevant article within ten.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.core.titles import title_key

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
TRAIN = SHARED / "bench" / "stard" / "train.jsonl"
DEV = SHARED / "bench" / "stard" / "dev.jsonl"
KS = (1, 5, 10, 100)
COLUMNS = ("R@1", "R@5", "R@10", "R@100", "MRR@10")
Key = tuple[str, str]


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


def article_key(index: Any, clause: Any) -> Key:
    return title_key(index.documents[clause.doc_id].title), clause.label


def ranked_articles(index: Any, hits: Iterable[Any]) -> list[Key]:
    seen: dict[Key, None] = {}
    for hit in hits:
        seen.setdefault(article_key(index, hit.clause), None)
    return list(seen)


def score(ranked: Sequence[Key], gold: set[Key]) -> dict[str, float]:
    row = {f"R@{k}": len(gold & set(ranked[:k])) / len(gold) for k in KS}
    row["MRR@10"] = next((1 / r for r, key in enumerate(ranked[:10], 1) if key in gold), 0.0)
    return row


def mean(rows: Sequence[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.fmean(r[key] for r in rows) for key in rows[0]}


def table(rows: dict[str, dict[str, float]], *, title: str) -> str:
    out = [title, f"{'':<34}" + "".join(f"{k:>9}" for k in COLUMNS)]
    for name, row in rows.items():
        out.append(f"{name:<34}" + "".join(f"{row[k]:>9.3f}" for k in COLUMNS))
    return "\n".join(out)
