"""The index-backend seam: what building and searching need from storage, whatever holds it.

Two engines implement it: the embedded folder of plain files (FAISS + bm25s, the default,
:mod:`rag.index.embedded`) and a Milvus collection. Nothing above this seam reaches into an
engine's arrays or files: search asks for the best rows of a channel under some filters,
builds ask which passages are stored and hand over one :class:`Change`.

Rows are positions in :attr:`Records.clauses` of the snapshot the backend has open, so a
search result always names a clause the caller already holds.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from rag.core.clauses import Clause
from rag.core.documents import Document
from rag.core.filters import Filters
from rag.index.derived import Derived


class StoreError(RuntimeError):
    """An index that cannot be used or written; the message says how to fix it."""


@dataclass(frozen=True)
class Candidates:
    """One channel's best rows, best first: ``scores[i]`` belongs to ``rows[i]``."""

    scores: np.ndarray  # float32
    rows: np.ndarray  # int64 positions in Records.clauses

    @classmethod
    def empty(cls) -> Candidates:
        return cls(np.zeros(0, np.float32), np.zeros(0, np.int64))

    def __len__(self) -> int:
        return len(self.rows)


@dataclass(frozen=True)
class Records:
    """What an index holds besides vectors and postings, clauses in row order."""

    documents: tuple[Document, ...]
    clauses: tuple[Clause, ...]


@dataclass(frozen=True)
class ClauseRow:
    """A clause as a build hands it to a backend.

    ``passage_hash`` names the embedded passage (same text, same vector, whatever the
    clause); ``record_hash`` changes whenever anything stored about the clause changes;
    ``keywords`` is the passage the keyword channel indexes.
    """

    clause: Clause
    passage_hash: str
    record_hash: str
    keywords: str


@dataclass(frozen=True)
class Change:
    """One build's edit of an index, applied and published as a whole.

    ``documents`` and ``clauses`` are the whole corpus in its order (engines that keep rows
    in order use it); ``upserts`` names the clauses whose passage or record is new,
    ``deletes`` those no longer in the corpus; ``vectors`` holds a vector for the passage of
    every upserted clause. ``replace`` starts from an empty index (another model or other
    settings). ``manifest`` is published last.
    """

    documents: tuple[Document, ...]
    clauses: tuple[ClauseRow, ...]
    upserts: frozenset[str]
    deletes: tuple[str, ...]
    vectors: Mapping[str, np.ndarray]
    manifest: dict[str, Any]
    replace: bool = False
    derived: tuple[Derived, ...] = ()  # tables to store beside the records, if the engine can


@runtime_checkable
class IndexBackend(Protocol):
    """Storage for one index: records, dense vectors and keyword postings."""

    location: str  # where it lives, as the user named it (a folder, a milvus:// URI)
    keeps_derived: bool  # stores the derived tables of a Change (rag.index.derived)

    def manifest(self) -> dict[str, Any] | None:
        """The published manifest (model, settings, fingerprint), None when empty."""
        ...

    def records(self) -> Records:
        """Every document and clause of the published index."""
        ...

    def stored(self) -> dict[str, tuple[str, str]]:
        """clause id → (passage hash, record hash) of what is published."""
        ...

    def vectors_for(self, hashes: Collection[str]) -> dict[str, np.ndarray]:
        """The stored vectors of those passages that are stored."""
        ...

    def damaged(self) -> dict[str, str]:
        """Parts of the published index that fail their check (name → why); a build
        rewrites them instead of reusing them. Empty when whole (or nothing published)."""
        ...

    def build_lock(self) -> AbstractContextManager[None]:
        """Held while a build writes; a second build is refused with a clear error."""
        ...

    def apply(self, change: Change) -> None:
        """Upsert and delete by content hash and publish ``change.manifest``."""
        ...

    def derived_file(self, name: str) -> Path | None:
        """The derived table ``name`` of the loaded generation, None when it has none (an
        index built before such tables, or an engine that keeps none)."""
        ...

    def search_dense(
        self, vector: np.ndarray, k: int, *, filters: Filters | None = None
    ) -> Candidates:
        """The ``k`` rows nearest to ``vector`` by inner product (cosine)."""
        ...

    def search_keyword(
        self, text: str, k: int, *, filters: Filters | None = None
    ) -> Candidates:
        """The ``k`` rows with the highest positive BM25 score for ``text``."""
        ...

    def keyword_idf(self, terms: Iterable[str]) -> dict[str, float]:
        """BM25 idf of each term the corpus contains (unknown terms are left out)."""
        ...
