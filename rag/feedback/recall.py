"""Question memory from the store: confirmed questions embedded once, kept current.

:func:`load_memory` embeds the accepted "governs" questions (vectors cached in the
store per model, so a restart embeds only new ones); :class:`LiveMemory` keeps a
server's indexes supplied with the memory of what is accepted now, also when another
replica accepted it; :func:`orphans` lists confirmed clauses an index no longer holds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import func, select

from rag.encoders import Encoder
from rag.feedback.schema import feedback_table
from rag.feedback.store import MAX_QUESTION_CHARS, Feedback, FeedbackStore, question_sha
from rag.search.glossary import expand
from rag.search.memory import Memory

if TYPE_CHECKING:
    from rag.search import Index

EMBED_BATCH = 32


def memory_text(question: str) -> str:
    """What is embedded for a confirmed question: exactly what search embeds for it."""
    return expand(question.strip()[:MAX_QUESTION_CHARS])


def memory_from(records: Sequence[Feedback], *, store: FeedbackStore | None,
                encoder: Encoder, model: str) -> Memory:
    """A memory of ``records`` (question, clause id); vectors from the store's cache when
    it has them, the rest embedded now (and cached)."""
    texts = [memory_text(r.question) for r in records]
    shas = [question_sha(t) for t in texts]
    cached = store.vectors(model, shas) if store is not None else {}
    missing = list(dict.fromkeys(s for s in shas if s not in cached))
    text_of = dict(zip(shas, texts, strict=True))
    fresh: dict[str, np.ndarray] = {}
    for start in range(0, len(missing), EMBED_BATCH):
        batch = missing[start:start + EMBED_BATCH]
        found = encoder.encode_queries([text_of[s] for s in batch])
        fresh.update(zip(batch, np.asarray(found, np.float32), strict=True))
    if store is not None and fresh:
        store.keep_vectors(model, fresh)
    vectors = {**cached, **fresh}
    dimension = encoder.dimension
    matrix = (np.stack([vectors[s] for s in shas]) if shas
              else np.zeros((0, dimension), np.float32))
    return Memory.from_pairs([(r.question, r.clause_id) for r in records], matrix,
                             model=model)


def load_memory(store: FeedbackStore, *, encoder: Encoder, model: str) -> Memory:
    """The memory of every accepted "governs" record in ``store``."""
    return memory_from(store.confirmed(), store=store, encoder=encoder, model=model)


def placed(memory: Memory, index: Index) -> Memory:
    """``memory`` with its vectors where ``index`` keeps its clauses: on a Milvus server,
    a collection beside them (:mod:`rag.index.milvus.memory`); in process otherwise."""
    from rag.index.milvus import MilvusBackend

    matrix = getattr(memory.vectors, "matrix", None)
    if not isinstance(index.backend, MilvusBackend) or matrix is None or not len(memory):
        return memory
    from rag.index.milvus.memory import MilvusMemoryVectors

    return replace(memory, vectors=MilvusMemoryVectors(index.backend.tables, matrix))


def orphans(store: FeedbackStore, index: Index) -> list[Feedback]:
    """Accepted "governs" records whose clause the index does not hold (a rebuilt corpus
    dropped or renumbered it): reported, never silently dropped."""
    return [r for r in store.confirmed() if r.clause_id not in index.row_of]


def fingerprint(store: FeedbackStore) -> tuple[object, ...]:
    """Something that changes whenever the set of confirmed records does (any replica)."""
    query = (select(func.count(), func.sum(feedback_table.c.id),
                    func.max(feedback_table.c.decided_at))
             .where(feedback_table.c.status == "accepted",
                    feedback_table.c.verdict == "governs"))
    with store.engine.connect() as connection:
        row = connection.execute(query).one()
    return tuple(row)


class LiveMemory:
    """The current memory of a store, refreshed when the confirmed records change."""

    def __init__(self, store: FeedbackStore, *, encoder: Encoder, every: float = 2.0) -> None:
        self.store = store
        self.encoder = encoder
        self.every = every  # seconds between checks for other replicas' decisions
        self._lock = threading.Lock()
        self._seen: tuple[object, ...] | None = None
        self._checked = 0.0
        self._memory = Memory.from_pairs([], np.zeros((0, encoder.dimension), np.float32))
        self._placed: dict[str, tuple[Memory | None, Memory | None]] = {}

    def current(self, model: str) -> Memory:
        """The memory now (vectors of ``model``): rebuilt when this process wrote, or
        when ``every`` seconds passed and the confirmed records changed."""
        due = time.monotonic() - self._checked >= self.every
        if not (self.store.changed.is_set() or due or self._seen is None
                or self._memory.model != model):
            return self._memory
        with self._lock:
            self.store.changed.clear()
            self._checked = time.monotonic()
            seen = fingerprint(self.store)
            if seen != self._seen or self._memory.model != model:
                self._memory = load_memory(self.store, encoder=self.encoder, model=model)
                self._seen = seen
            return self._memory

    def attach(self, index: Index) -> Index:
        """``index`` with the current memory (the same object, updated), its vectors
        where the index keeps its clauses (written there once per change)."""
        memory = self.current(index.model_identity)
        where = str(index.backend.location)
        source, done = self._placed.get(where, (None, None))
        if source is not memory or done is None:
            done = placed(memory, index)
            self._placed[where] = (memory, done)
        index.memory = done
        return index


def attach_memory(index: Index, *, encoder: Encoder | None = None, url: str | None = None,
                  only_if_exists: bool = True) -> Memory | None:
    """Give ``index`` the memory of the feedback store at ``url`` (default: the data
    home's; questions embedded by the index's encoder) and return it; with
    ``only_if_exists``, a SQLite store that was never written is left alone (nothing is
    confirmed yet) and None returned."""
    from pathlib import Path

    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from rag.feedback.store import default_url

    url = url or default_url()
    try:
        parsed = make_url(url)
    except ArgumentError:
        parsed = None  # (the store says what is wrong with it)
    if (only_if_exists and parsed is not None and parsed.get_backend_name() == "sqlite"
            and parsed.database and not Path(parsed.database).expanduser().exists()):
        return None
    with FeedbackStore(url) as store:
        index.memory = placed(load_memory(store, encoder=index.query_encoder(encoder),
                                          model=index.model_identity), index)
    return index.memory
