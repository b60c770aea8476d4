"""What changed between two index generations: documents and articles added, changed, removed.

A regulatory change feed. Documents are matched by id; a document whose text changed is
aligned with its earlier text article by article (:mod:`rag.changes.align`), so each
changed article comes with its diff and both citations. A new document that is a new
version of a law the earlier generation held (same title: 公司法 2023 beside 公司法 2018)
is reported as a new version, aligned with the one it follows. Changes of status, dates
or title are listed too. Every text a report shows is a slice of one generation's text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from rag.changes.align import align
from rag.changes.diff import Diff, diff_articles
from rag.changes.generations import current, generation_records, index_folder, pick
from rag.changes.units import Article, articles
from rag.core.citations import citation_string
from rag.core.clauses import Clause
from rag.core.documents import Document
from rag.core.versions import version_key, version_order
from rag.index import Records

DOCUMENT_CHANGES = ("added", "new_version", "changed", "removed")
METADATA = ("title", "subtitle", "kind", "status", "version", "valid_from", "date", "url",
            "issuer")


@dataclass(frozen=True)
class ArticleChange:
    """One article added, removed, renumbered or changed; ``diff`` for a changed one."""

    relation: str  # changed | renumbered | added | removed
    old: Article | None
    new: Article | None
    old_citation: str | None
    new_citation: str | None
    diff: Diff | None = None


@dataclass(frozen=True)
class DocumentChange:
    """A document added, removed, changed, or a new version of an earlier one.

    ``old`` is the document in the earlier generation (for ``new_version``: the version
    it follows); ``new`` the one in the later generation.
    """

    change: str  # one of DOCUMENT_CHANGES
    old: Document | None
    new: Document | None
    clauses: int  # clauses of the document (the added or removed one)
    metadata: tuple[tuple[str, str | None, str | None], ...] = ()  # (field, before, after)
    articles: tuple[ArticleChange, ...] = ()

    @property
    def document(self) -> Document:
        """The document as it is now (as it was, when removed)."""
        found = self.new or self.old
        if found is None:
            raise ValueError("a document change without a document")
        return found


@dataclass(frozen=True)
class ChangeReport:
    """Everything that changed from generation ``since`` to generation ``until``."""

    since: str
    since_published: str
    until: str
    until_published: str
    documents: tuple[DocumentChange, ...]

    def counts(self) -> dict[str, int]:
        """Documents by change, and articles by relation (over changed documents and new
        versions), plus the clauses of added and removed documents."""
        counts: Counter[str] = Counter()
        for change in self.documents:
            counts[f"documents_{change.change}"] += 1
            for article in change.articles:
                counts[f"articles_{article.relation}"] += 1
            if change.change in ("added", "removed"):
                counts[f"clauses_in_{change.change}_documents"] += change.clauses
        keys = [f"documents_{c}" for c in DOCUMENT_CHANGES] + [
            f"articles_{r}" for r in ("changed", "added", "removed", "renumbered")] + [
            "clauses_in_added_documents", "clauses_in_removed_documents"]
        return {key: counts.get(key, 0) for key in keys}

    def changed_clauses(self) -> int:
        """Articles changed, added or removed, with the clauses of whole documents added
        or removed: how many quotable texts differ."""
        c = self.counts()
        return (c["articles_changed"] + c["articles_added"] + c["articles_removed"]
                + c["clauses_in_added_documents"] + c["clauses_in_removed_documents"])

    def summary(self) -> str:
        """One line: what changed since the earlier generation."""
        c = self.counts()
        if not self.documents:
            return f"0 clauses changed since {self.since}"
        parts = [_plural(c[f"documents_{k}"], "document") + " " + k.replace("_", " ")
                 for k in DOCUMENT_CHANGES if c[f"documents_{k}"]]
        return (f"{_plural(self.changed_clauses(), 'clause')} changed since {self.since} "
                f"({', '.join(parts)}; articles: {c['articles_changed']} changed, "
                f"{c['articles_added']} added, {c['articles_removed']} removed)")


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def compare_records(old: Records, new: Records, *, since: str = "", since_published: str = "",
                    until: str = "", until_published: str = "") -> ChangeReport:
    """The change report from the records of one generation to another's."""
    old_docs = {d.doc_id: d for d in old.documents}
    new_docs = {d.doc_id: d for d in new.documents}
    old_clauses = _by_document(old.clauses)
    new_clauses = _by_document(new.clauses)
    changes: list[DocumentChange] = []
    for doc_id, doc in new_docs.items():
        before = old_docs.get(doc_id)
        if before is None:
            previous = _previous_version(doc, old_docs.values())
            if previous is None:
                changes.append(DocumentChange("added", None, doc, len(new_clauses[doc_id])))
            else:
                changes.append(DocumentChange(
                    "new_version", previous, doc, len(new_clauses[doc_id]),
                    articles=_articles(previous, old_clauses[previous.doc_id], doc,
                                       new_clauses[doc_id], listed=("changed", "added",
                                                                    "removed"))))
            continue
        metadata = tuple((name, getattr(before, name), getattr(doc, name)) for name in METADATA
                         if getattr(before, name) != getattr(doc, name))
        same_clauses = [(c.id, c.start, c.end, c.label) for c in old_clauses[doc_id]] == [
            (c.id, c.start, c.end, c.label) for c in new_clauses[doc_id]]
        listed = () if before.text == doc.text and same_clauses else _articles(
            before, old_clauses[doc_id], doc, new_clauses[doc_id],
            listed=("changed", "added", "removed", "renumbered"))
        if metadata or listed:
            changes.append(DocumentChange("changed", before, doc, len(new_clauses[doc_id]),
                                          metadata=metadata, articles=tuple(listed)))
    for doc_id, doc in old_docs.items():
        if doc_id not in new_docs:
            changes.append(DocumentChange("removed", doc, None, len(old_clauses[doc_id])))
    order = {c: n for n, c in enumerate(DOCUMENT_CHANGES)}
    changes.sort(key=lambda c: (order[c.change], c.document.title, c.document.doc_id))
    return ChangeReport(since, since_published, until, until_published, tuple(changes))


def _by_document(clauses: Sequence[Clause]) -> dict[str, list[Clause]]:
    grouped: dict[str, list[Clause]] = {}
    for clause in clauses:
        grouped.setdefault(clause.doc_id, []).append(clause)
    return _Missing(grouped)


class _Missing(dict[str, list[Clause]]):
    """A document with no clauses has an empty list."""

    def __missing__(self, key: str) -> list[Clause]:
        return []


def _previous_version(doc: Document, earlier: Iterable[Document]) -> Document | None:
    """The newest document of the earlier generation that ``doc`` is a new version of."""
    key = version_key(doc)
    older = [d for d in earlier
             if version_key(d) == key and version_order(d) < version_order(doc)]
    return max(older, key=version_order) if older else None


def _articles(old_doc: Document, old_clauses: list[Clause], new_doc: Document,
              new_clauses: list[Clause], *, listed: tuple[str, ...]) -> tuple[ArticleChange, ...]:
    """The articles that changed between two texts of a document, in new-text order."""
    alignment = align(articles(old_doc, old_clauses), articles(new_doc, new_clauses))
    old_by_id, new_by_id = {c.id: c for c in old_clauses}, {c.id: c for c in new_clauses}
    out = []
    for pair in alignment.pairs:
        if pair.relation not in listed:
            continue
        diff = diff_articles(pair.old, pair.new) if (
            pair.relation == "changed" and pair.old is not None and pair.new is not None) \
            else None
        out.append(ArticleChange(
            pair.relation, pair.old, pair.new,
            _cite(pair.old, old_doc, old_by_id), _cite(pair.new, new_doc, new_by_id), diff))
    return tuple(out)


def _cite(article: Article | None, doc: Document, clauses: dict[str, Clause]) -> str | None:
    if article is None:
        return None
    return citation_string(replace(clauses[article.clause_id], part=None), doc)


def changes_since(location: Path | str, *, since: str | None = None) -> ChangeReport:
    """What changed in the index folder at ``location`` since generation ``since`` (a
    name, or a date: the last generation published by then; default the previous one)."""
    index_dir = index_folder(location)
    start, live = pick(index_dir, since), current(index_dir)
    return compare_records(
        generation_records(index_dir, start.name), generation_records(index_dir, live.name),
        since=start.name, since_published=start.published, until=live.name,
        until_published=live.published)
