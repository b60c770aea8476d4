"""Aligning two versions of one document article by article, by text, not only by number.

Revisions renumber: 公司法 2018 → 2023 moved nearly every article (第二十八条 became
第四十九条). Articles are paired one to one in two steps:

1. **Same words.** Articles whose bodies (the text after 第X条, white space ignored) are
   identical are paired, in document order: ``matched`` when the number is the same,
   ``renumbered`` when it is not.
2. **Alike.** Of the rest, every pair at least :data:`LOW` alike (cosine of tf-idf
   weighted character bigrams, :mod:`rag.changes.similarity`) competes, best first, in a
   greedy one-to-one assignment. Two tie-breakers add to the similarity: the same
   number (:data:`LABEL_BONUS`), and keeping the order the step-1 pairs set
   (:data:`ORDER_BONUS`: the new article falls between the new articles of the old one's
   nearest step-1 neighbours). They only break near-ties: a revision may move whole
   chapters (2023 moved 国有独资公司 from 第二章 to a chapter of its own).

Pairs from step 2 are ``changed``; old articles left over are ``removed``, new
ones ``added``. An article split in two or two merged into one pairs with the part
that carries most of its words; the other part shows as added (or removed). An article
rewritten beyond :data:`LOW` (本法自2006年1月1日起施行 → 本法自2024年7月1日起施行，
plus a new paragraph) shows as removed and added.
Measured on a hand-checked sample of 公司法 2018 → 2023: ``benchmarks/align_eval.py``.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from rag.changes.similarity import similar_pairs
from rag.changes.units import Article, articles
from rag.core.clauses import Clause
from rag.core.documents import Document

RELATIONS = ("matched", "renumbered", "changed", "added", "removed")
# What each relation is called wherever one is shown (chat, memos, change reports).
RELATION_LABELS = {
    "matched": "未修改 unchanged",
    "renumbered": "仅条号变化 renumbered, same words",
    "changed": "有修改 changed",
    "added": "新增 new",
    "removed": "已删除 removed",
}
LOW = 0.3  # least similarity of a pair with different words
ORDER_BONUS = 0.1
LABEL_BONUS = 0.05


@dataclass(frozen=True)
class Pair:
    """An article and its counterpart in the other version (None when it has none)."""

    relation: str  # one of RELATIONS
    old: Article | None
    new: Article | None
    similarity: float  # 1.0 for the same words, 0.0 when one side is missing

    @property
    def renumbered(self) -> bool:
        """Both sides exist and carry different numbers."""
        return self.old is not None and self.new is not None and self.old.label != self.new.label


@dataclass(frozen=True)
class Alignment:
    """Every article of two versions, paired: new-document order, removed articles after
    the pair of their nearest paired predecessor."""

    old_doc: str
    new_doc: str
    pairs: tuple[Pair, ...]
    _by_old: dict[str, Pair] = field(init=False, repr=False, compare=False)
    _by_new: dict[str, Pair] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_old, by_new = {}, {}
        for pair in self.pairs:
            if pair.old is not None:
                for clause_id in pair.old.clause_ids:
                    by_old[clause_id] = pair
            if pair.new is not None:
                for clause_id in pair.new.clause_ids:
                    by_new[clause_id] = pair
        object.__setattr__(self, "_by_old", by_old)
        object.__setattr__(self, "_by_new", by_new)

    def of_old(self, clause_id: str) -> Pair | None:
        """The pair of the old version's article that clause (or part) ``clause_id`` is in."""
        return self._by_old.get(clause_id)

    def of_new(self, clause_id: str) -> Pair | None:
        return self._by_new.get(clause_id)

    def changes(self) -> list[Pair]:
        """Every pair but the unchanged ones (``matched``)."""
        return [p for p in self.pairs if p.relation != "matched"]

    def counts(self) -> dict[str, int]:
        """How many pairs of each relation (all five keys present)."""
        seen = Counter(p.relation for p in self.pairs)
        return {relation: seen.get(relation, 0) for relation in RELATIONS}


def align_documents(
    old: Document, old_clauses: Iterable[Clause], new: Document, new_clauses: Iterable[Clause]
) -> Alignment:
    """Align the articles of two versions of a document (see the module docstring)."""
    return align(articles(old, old_clauses), articles(new, new_clauses),
                 old_doc=old.doc_id, new_doc=new.doc_id)


def align(
    old: Sequence[Article], new: Sequence[Article], *, old_doc: str = "", new_doc: str = ""
) -> Alignment:
    """Pair ``old`` with ``new`` articles (each in document order)."""
    paired: dict[int, tuple[int, float]] = {}  # old index → (new index, similarity)
    taken: set[int] = set()

    # 1. the same words
    waiting: dict[str, list[int]] = {}
    for i, article in enumerate(old):
        if article.key():
            waiting.setdefault(article.key(), []).append(i)
    for j, article in enumerate(new):
        queue = waiting.get(article.key())
        if queue:
            paired[queue.pop(0)] = (j, 1.0)
            taken.add(j)

    # 2. everything else alike enough, best first; number and order break near-ties
    rest_old = [i for i in range(len(old)) if i not in paired]
    rest_new = [j for j in range(len(new)) if j not in taken]
    found = similar_pairs([old[i].body for i in rest_old], [new[j].body for j in rest_new],
                          floor=LOW)
    anchors = sorted(paired)
    candidates = []
    for (a, b), s in found.items():
        i, j = rest_old[a], rest_new[b]
        bonus = (ORDER_BONUS if _between(i, j, anchors, paired, len(new)) else 0.0) + (
            LABEL_BONUS if old[i].label == new[j].label else 0.0)
        candidates.append((-(s + bonus), i, j, s))
    candidates.sort()
    for _, i, j, s in candidates:
        if i not in paired and j not in taken:
            paired[i] = (j, s)
            taken.add(j)
    return Alignment(old_doc, new_doc, _ordered(old, new, paired))


def _between(i: int, j: int, anchors: list[int], paired: dict[int, tuple[int, float]],
             size: int) -> bool:
    """Whether new index ``j`` lies between the new counterparts of the paired old
    articles (``anchors``, sorted) nearest to old index ``i`` on either side."""
    at = bisect.bisect_left(anchors, i)
    low = paired[anchors[at - 1]][0] if at > 0 else -1
    high = paired[anchors[at]][0] if at < len(anchors) else size
    return low < j < high


def _ordered(
    old: Sequence[Article], new: Sequence[Article], paired: dict[int, tuple[int, float]]
) -> tuple[Pair, ...]:
    keyed: list[tuple[tuple[int, int, int], Pair]] = []
    of_new = {j: (i, s) for i, (j, s) in paired.items()}
    for j, article in enumerate(new):
        if j in of_new:
            i, s = of_new[j]
            before = old[i]
            if s >= 1.0 and before.key() == article.key():
                relation = "matched" if before.label == article.label else "renumbered"
            else:
                relation = "changed"
            keyed.append(((j, 0, 0), Pair(relation, before, article, round(s, 4))))
        else:
            keyed.append(((j, 0, 0), Pair("added", None, article, 0.0)))
    last = -1
    for i, article in enumerate(old):
        if i in paired:
            last = paired[i][0]
        else:
            keyed.append(((last, 1, i), Pair("removed", article, None, 0.0)))
    keyed.sort(key=lambda item: item[0])
    return tuple(pair for _, pair in keyed)
