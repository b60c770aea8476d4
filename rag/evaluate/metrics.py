"""Article-level retrieval metrics: Recall@k and MRR@10 over laws' articles.

A retrieved clause is relevant when its law title (中华人民共和国 and spaces dropped) and
article label match a gold entry; any version of the law counts. Scores are per question:
Recall@k is the share of its gold articles among the top k articles (parts of one
article collapsed first), MRR@10 is 1/rank of the first relevant article within ten.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from typing import Any

from rag.core.titles import title_key

KS = (1, 5, 10, 100)
COLUMNS = ("R@1", "R@5", "R@10", "R@100", "MRR@10")
Key = tuple[str, str]  # (law title key, article label)


def article_key(index: Any, clause: Any) -> Key:
    """The article a clause belongs to, as gold entries name it."""
    return title_key(index.documents[clause.doc_id].title), clause.label


def ranked_articles(index: Any, hits: Iterable[Any]) -> list[Key]:
    """The articles of ``hits`` (objects with ``.clause``), in order, each once."""
    seen: dict[Key, None] = {}
    for hit in hits:
        seen.setdefault(article_key(index, hit.clause), None)
    return list(seen)


def score(ranked: Sequence[Key], gold: set[Key]) -> dict[str, float]:
    """One question's Recall@k for each k in :data:`KS`, and MRR@10."""
    row = {f"R@{k}": len(gold & set(ranked[:k])) / len(gold) for k in KS}
    row["MRR@10"] = next((1 / r for r, key in enumerate(ranked[:10], 1) if key in gold), 0.0)
    return row


def first_rank(ranked: Sequence[Key], gold: set[Key]) -> int | None:
    """1-based rank of the first gold article, None when it was not retrieved."""
    return next((r for r, key in enumerate(ranked, 1) if key in gold), None)


def mean(rows: Sequence[dict[str, float]]) -> dict[str, float]:
    """Column means of per-question rows (zeros for no rows)."""
    if not rows:
        return dict.fromkeys(COLUMNS, 0.0)
    return {key: statistics.fmean(r[key] for r in rows) for key in rows[0]}


def table(rows: dict[str, dict[str, float]], *, title: str) -> str:
    """A fixed-width text table of named metric rows."""
    out = [title, f"{'':<34}" + "".join(f"{k:>9}" for k in COLUMNS)]
    for name, row in rows.items():
        out.append(f"{name:<34}" + "".join(f"{row[k]:>9.3f}" for k in COLUMNS))
    return "\n".join(out)
