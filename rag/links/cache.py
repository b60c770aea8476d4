"""One link table per opened index: the generation's stored links, else built on first use."""

from __future__ import annotations

import threading
import weakref

from rag.index.derived import recorded
from rag.links.stored import LINKS, LINKS_FILE, StoredLinks
from rag.links.table import LinkTable
from rag.search import Index

_TABLES: dict[int, LinkTable | StoredLinks] = {}  # id(index) → its table, until the index goes
_LOCK = threading.Lock()


def links_for(index: Index) -> LinkTable | StoredLinks:
    """The links of ``index``'s generation: read from the ``links.jsonl`` its build wrote
    when it was made by these rules (:mod:`rag.links.stored`), else computed from its
    documents and clauses (an index built before links were stored, a Milvus index, or
    rules changed since; ``rag index`` stores them again). Once per opened index: a new
    generation is a new :class:`Index`."""
    key = id(index)
    with _LOCK:
        table = _TABLES.get(key)
        if table is None:
            table = _stored(index) or LinkTable(index.documents.values(), index.clauses,
                                                references=index.references)
            _TABLES[key] = table
            weakref.finalize(index, _TABLES.pop, key, None)
        return table


def _stored(index: Index) -> StoredLinks | None:
    if recorded(index.manifest).get(LINKS_FILE) != LINKS.identity():
        return None
    path = index.backend.derived_file(LINKS_FILE)
    if path is None:
        return None
    return StoredLinks(path, index.documents, index.clauses, row_of=index.row_of)
