"""One :class:`LinkTable` per opened index, built on first use and dropped with the index."""

from __future__ import annotations

import threading
import weakref

from rag.links.table import LinkTable
from rag.search import Index

_TABLES: dict[int, LinkTable] = {}  # id(index) → its table, removed when the index goes
_LOCK = threading.Lock()


def links_for(index: Index) -> LinkTable:
    """The links of ``index``'s generation (computed once per opened index: a new
    generation is a new :class:`Index`, so its links are recomputed)."""
    key = id(index)
    with _LOCK:
        table = _TABLES.get(key)
        if table is None:
            table = LinkTable(index.documents.values(), index.clauses,
                              references=index.references)
            _TABLES[key] = table
            weakref.finalize(index, _TABLES.pop, key, None)
        return table
