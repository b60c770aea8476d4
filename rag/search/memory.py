"""Question memory: confirmed (question, clause) pairs as a retrieval channel.

A new question is compared (cosine, on the encoder's query side) with every confirmed
question; those at least ``Fusion.memory_floor`` similar vote for their clauses like a
nearest-neighbour classifier: each weighs ``exp((similarity - null) / temperature)``
and "none of them" weighs 1, so a clause's vote is the share of that weight naming it.
A confirmed question as similar as ``memory_null`` is as likely to share the answer as
not; a lone close paraphrase takes nearly the whole vote, while many neighbours at the
same distance naming different clauses split it. The earlier vote (the best voter's
similarity rescaled from the floor to the nearest confirmed question) gave the nearest
voter a full vote however crowded: on STARD train (5-fold CV, each fold searched with an
adapter trained on the other folds) it had to be weighted down to 0.25, which cost the
paraphrase set 0.05 hit@5; this vote ties it on train at weight 1 and keeps the
paraphrases (benchmarks/memory_eval.py; figures in the README). The
same question asked again (after trimming, case and end punctuation) pins its clauses
first: a reader already said they govern it.

Memory names clauses by their stable id, so one memory serves every generation of an
index; a confirmed clause the index no longer holds simply does not vote (the feedback
store reports it: :func:`rag.feedback.recall.orphans`). Where the vectors live is behind
:class:`MemoryVectors`: in process (:class:`MatrixVectors`, loaded from the feedback
database) for a folder index, a collection beside the clauses for an index on Milvus
(``rag.index.milvus.memory``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from rag.search.fusion import Fusion, Ranked

_TRIM = re.compile(r"[\s\u3000?？!！。.,，;；:：、\"'“”‘’《》()（）]+")


def normalized(question: str) -> str:
    """The question as memory matches it exactly: no spaces or punctuation, lower case."""
    return _TRIM.sub("", question).lower()


class MemoryVectors(Protocol):
    """Nearest confirmed questions: (similarities, entry numbers), best first."""

    def nearest(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]: ...


@dataclass(frozen=True)
class MatrixVectors:
    """Confirmed questions' vectors in one in-process matrix (exact cosine search)."""

    matrix: np.ndarray  # (entries, dimension), rows unit length

    def nearest(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        if not len(self.matrix):
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        query = np.asarray(vector, np.float32).ravel()
        norm = float(np.linalg.norm(query))
        sims = self.matrix @ (query / norm if norm else query)
        k = min(k, len(sims))
        top = np.argpartition(-sims, k - 1)[:k]
        top = top[np.lexsort((top, -sims[top]))]
        return sims[top].astype(np.float32), top.astype(np.int64)


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """``vectors`` as float32 rows of unit length (zero rows kept as they are)."""
    matrix = np.asarray(vectors, np.float32)
    if matrix.ndim != 2:
        matrix = matrix.reshape(len(matrix), -1)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms > 0, norms, 1.0)


@dataclass(frozen=True)
class Memory:
    """Confirmed pairs: ``questions[i]`` is governed by ``clause_ids[i]``."""

    questions: tuple[str, ...]
    clause_ids: tuple[str, ...]
    vectors: MemoryVectors
    model: str = ""  # the encoder identity the vectors come from
    _exact: dict[str, tuple[str, ...]] = field(default_factory=dict, init=False, repr=False,
                                               compare=False)

    def __post_init__(self) -> None:
        if len(self.questions) != len(self.clause_ids):
            raise ValueError("memory needs one clause id per question")
        table: dict[str, list[str]] = {}
        for question, clause_id in zip(self.questions, self.clause_ids, strict=True):
            found = table.setdefault(normalized(question), [])
            if clause_id not in found:
                found.append(clause_id)
        self._exact.update({key: tuple(ids) for key, ids in table.items()})

    @classmethod
    def from_pairs(cls, pairs: Sequence[tuple[str, str]], vectors: np.ndarray, *,
                   model: str = "") -> Memory:
        """A memory of ``(question, clause_id)`` pairs, ``vectors[i]`` embedding pair i's
        question (query side)."""
        if len(pairs) != len(vectors):
            raise ValueError(f"{len(pairs)} pairs but {len(vectors)} vectors")
        return cls(tuple(q for q, _ in pairs), tuple(c for _, c in pairs),
                   MatrixVectors(unit_rows(vectors) if len(pairs) else
                                 np.zeros((0, 1), np.float32)), model=model)

    def __len__(self) -> int:
        return len(self.questions)

    def exact(self, question: str) -> tuple[str, ...]:
        """Clause ids confirmed for this very question (normalised), in confirmation order."""
        return self._exact.get(normalized(question), ())

    def votes(self, vector: np.ndarray, *, floor: float, null: float, temperature: float,
              depth: int = 50) -> list[tuple[str, float, int]]:
        """(clause id, vote, strongest voter's entry) of the clauses the ``depth`` nearest
        confirmed questions at least ``floor`` similar vote for, best first; a vote is the
        share of ``exp((similarity - null) / temperature)`` naming the clause, "none of
        them" weighing 1."""
        if not len(self):
            return []
        if temperature <= 0:
            raise ValueError(f"memory temperature must be positive, not {temperature}")
        sims, entries = self.vectors.nearest(vector, depth)
        mass: dict[str, float] = {}
        strongest: dict[str, tuple[float, int]] = {}
        total = 1.0  # "none of the confirmed questions shares this one's answer"
        for sim, entry in zip(sims.tolist(), entries.tolist(), strict=True):
            if sim < floor:
                break
            weight = math.exp(min(50.0, (sim - null) / temperature))
            total += weight
            clause_id = self.clause_ids[entry]
            mass[clause_id] = mass.get(clause_id, 0.0) + weight
            if clause_id not in strongest or sim > strongest[clause_id][0]:
                strongest[clause_id] = (sim, entry)
        ranked = sorted(mass.items(), key=lambda item: (-item[1], item[0]))
        return [(clause_id, value / total, strongest[clause_id][1])
                for clause_id, value in ranked]


def memory_channel(memory: Memory, vector: np.ndarray, question: str, *,
                   row_of: dict[str, int], admits: Callable[[int], bool],
                   fusion: Fusion) -> Ranked:
    """The memory channel's (scores, rows), best first: clauses confirmed for this very
    question score 1, the others their vote (:meth:`Memory.votes` with ``fusion``'s
    memory settings). Clauses the index does not hold, or the filters exclude, do not
    vote."""
    scores: dict[int, float] = {}
    for clause_id in memory.exact(question):
        row = row_of.get(clause_id)
        if row is not None:
            scores[row] = 1.0
    settings = fusion.memory_settings()
    for clause_id, value, _ in memory.votes(
            vector, floor=settings.floor, null=settings.null,
            temperature=settings.temperature, depth=fusion.memory_depth):
        row = row_of.get(clause_id)
        if row is not None and row not in scores:
            scores[row] = value
    rows = [r for r in sorted(scores, key=lambda r: (-scores[r], r)) if admits(r)]
    return (np.asarray([scores[r] for r in rows], np.float32), np.asarray(rows, np.int64))
