"""The versions of each document an index holds, and their article alignments, on demand.

Documents are versions of one another when the caller's ``key`` says so
(:func:`rag.core.versions.version_key`: same title and subtitle). An alignment is
computed the first time a pair of versions is asked about and kept: the Company Law pair
takes ~60 ms once, then look-ups are dictionary reads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence

from rag.changes.align import Alignment, Pair, align
from rag.changes.units import Article, articles, by_clause
from rag.core.clauses import Clause
from rag.core.documents import Document
from rag.core.versions import version_order


class VersionLinks:
    """Other versions of a document, and which article of one is which of another."""

    def __init__(self, documents: Mapping[str, Document], clauses: Sequence[Clause], *,
                 key: Callable[[str], str]) -> None:
        self._documents = documents
        groups: dict[str, list[Document]] = {}
        for doc in documents.values():
            groups.setdefault(key(doc.doc_id), []).append(doc)
        self._group: dict[str, tuple[Document, ...]] = {}
        for docs in groups.values():
            if len(docs) > 1:
                ordered = tuple(sorted(docs, key=version_order))
                for doc in ordered:
                    self._group[doc.doc_id] = ordered
        wanted = set(self._group)
        self._clauses: dict[str, list[Clause]] = {d: [] for d in wanted}
        for clause in clauses:
            if clause.doc_id in wanted:
                self._clauses[clause.doc_id].append(clause)
        self._articles: dict[str, list[Article]] = {}
        self._article_of: dict[str, dict[str, Article]] = {}
        self._alignments: dict[tuple[str, str], Alignment] = {}
        self._others: dict[str, tuple[Document, ...]] = {}
        self._lock = threading.Lock()

    def has_versions(self, doc_id: str) -> bool:
        return doc_id in self._group

    def versions(self, doc_id: str) -> tuple[Document, ...]:
        """Every version of ``doc_id``'s document, oldest first (just itself when alone)."""
        return self._group.get(doc_id) or (self._documents[doc_id],)

    def others(self, doc_id: str) -> list[Document]:
        """The other versions, nearest in time first (newer before older on a tie; worked
        out once per document: ranking asks for every superseded candidate)."""
        found = self._others.get(doc_id)
        if found is None:
            group = self.versions(doc_id)
            at = next(n for n, d in enumerate(group) if d.doc_id == doc_id)
            found = self._others[doc_id] = tuple(sorted(
                (d for d in group if d.doc_id != doc_id),
                key=lambda d: (abs(group.index(d) - at), group.index(d) < at)))
        return list(found)

    def articles(self, doc_id: str) -> list[Article]:
        """The articles of a versioned document (computed once)."""
        with self._lock:
            if doc_id not in self._articles:
                units = articles(self._documents[doc_id], self._clauses.get(doc_id, []))
                self._articles[doc_id] = units
                self._article_of[doc_id] = by_clause(units)
            return self._articles[doc_id]

    def article(self, clause: Clause) -> Article | None:
        """The article ``clause`` is (part of), when its document has other versions."""
        if clause.doc_id not in self._group:
            return None
        self.articles(clause.doc_id)
        return self._article_of[clause.doc_id].get(clause.id)

    def alignment(self, one: str, other: str) -> Alignment:
        """The alignment of two versions (in either order), older as ``old``."""
        old, new = sorted((self._documents[one], self._documents[other]), key=version_order)
        pair = (old.doc_id, new.doc_id)
        found = self._alignments.get(pair)
        if found is None:
            found = align(self.articles(old.doc_id), self.articles(new.doc_id),
                          old_doc=old.doc_id, new_doc=new.doc_id)
            with self._lock:
                self._alignments[pair] = found
        return found

    def pair(self, clause: Clause, other: str) -> Pair | None:
        """The pair ``clause``'s article is in against version ``other`` of its document;
        None when ``other`` is not another version of it."""
        if other == clause.doc_id or other not in self._group or \
                self._group.get(clause.doc_id) is not self._group[other]:
            return None
        alignment = self.alignment(clause.doc_id, other)
        if alignment.old_doc == clause.doc_id:
            return alignment.of_old(clause.id)
        return alignment.of_new(clause.id)

    def counterpart(self, clause: Clause, other: str) -> Article | None:
        """The article of version ``other`` aligned with ``clause``'s article, if any."""
        pair = self.pair(clause, other)
        if pair is None:
            return None
        return pair.new if pair.old is not None and pair.old.doc_id == clause.doc_id \
            else pair.old
