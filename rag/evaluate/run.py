"""``rag eval``: a team's labelled questions scored the way answering ranks them.

Each question is ranked as :func:`rag.answer.answer` ranks it (named clauses, then the
fused search with question memory when attached, restatements folded), and each channel
on its own; scores are article-level (:mod:`rag.evaluate.metrics`), so any version of a
gold law's article counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from rag.answer.change_questions import prepare_question
from rag.answer.compose import find
from rag.core.filters import Filters
from rag.encoders import Encoder
from rag.evaluate.metrics import Key, article_key, first_rank, mean, score
from rag.feedback.labelled import Labelled
from rag.search import Fusion, Index, channel_results

DEPTH = 100  # articles ranked per question (R@100)
CHANNELS = ("dense", "bm25", "memory")


@dataclass(frozen=True)
class Outcome:
    """One labelled question: where its first gold article ranked, overall and in each
    channel (None: not in the top :data:`DEPTH`), and its scores."""

    line: int
    question: str
    gold: tuple[Key, ...]
    rank: int | None
    channel_ranks: dict[str, int | None]
    scores: dict[str, float]
    top: tuple[Key, ...]  # the first three articles returned


@dataclass
class Evaluation:
    outcomes: list[Outcome] = field(default_factory=list)
    channel_scores: dict[str, list[dict[str, float]]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    memory_pairs: int = 0

    def overall(self) -> dict[str, float]:
        return mean([o.scores for o in self.outcomes])

    def per_channel(self) -> dict[str, dict[str, float]]:
        return {c: mean(rows) for c, rows in self.channel_scores.items() if rows}

    def misses(self, k: int = 10) -> list[Outcome]:
        """Questions whose first gold article is not in the top ``k``, worst first."""
        missed = [o for o in self.outcomes if o.rank is None or o.rank > k]
        return sorted(missed, key=lambda o: (o.rank is not None, -(o.rank or 0), o.line))


def _articles(index: Index, rows: list[int]) -> list[Key]:
    seen: dict[Key, None] = {}
    for row in rows:
        seen.setdefault(article_key(index, index.clauses[row]), None)
        if len(seen) >= DEPTH:
            break
    return list(seen)


def evaluate(items: list[Labelled], *, index: Index, encoder: Encoder,
             filters: Filters | None = None, fusion: Fusion | None = None) -> Evaluation:
    """Score ``items`` (questions with gold articles) on ``index``."""
    fusion = fusion or Fusion()
    result = Evaluation(memory_pairs=len(index.memory) if index.memory is not None else 0)
    channels = [c for c in CHANNELS if c != "memory" or result.memory_pairs]
    result.channel_scores = {c: [] for c in channels}
    for item in items:
        if not item.articles:
            result.problems.append(f"line {item.line}: no gold article in this index")
            continue
        gold = set(item.articles)
        query, _ = prepare_question(item.question, index=index, filters=filters)
        query = replace(query, vector=encoder.encode_queries([query.text])[0])
        found = find(query, index=index, encoder=encoder, k=DEPTH // 3 + 1, fusion=fusion)
        ranked = [c.id for c in found.named] + [h.clause.id for h in found.hits]
        order = _articles(index, [index.row_of[c] for c in ranked])
        ranks: dict[str, int | None] = {}
        runs = channel_results(query, index=index, encoder=encoder, depth=fusion.depth,
                               channels=channels, fusion=fusion)
        for channel in channels:
            rows = runs[channel][1].tolist() if channel in runs else []
            articles = _articles(index, rows)
            ranks[channel] = first_rank(articles, gold)
            result.channel_scores[channel].append(score(articles, gold))
        result.outcomes.append(Outcome(item.line, item.question, tuple(sorted(gold)),
                                       first_rank(order, gold), ranks, score(order, gold),
                                       tuple(order[:3])))
    return result
