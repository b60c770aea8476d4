"""A cited article beside the same article in its document's other versions, change marked.

Articles are paired by text (:mod:`rag.changes.align`), so 《公司法》（2023年修订）第四十九条
finds 2018 第二十八条; the words the newer version deleted and inserted are marked as
offsets into each version's verbatim text (:mod:`rag.changes.diff`). Only articles of
documents that have another version in the index get comparisons.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from rag.answer.types import Comparison, Highlight, VersionSide
from rag.changes.align import Pair
from rag.changes.diff import diff_articles
from rag.changes.units import Article
from rag.core.citations import citation_string
from rag.core.clauses import Clause
from rag.core.documents import Document
from rag.core.versions import VersionInfo
from rag.search import Index

MAX_VERSIONS = 3  # other versions compared per citation, nearest in time first


def comparisons(
    index: Index, clause: Clause, *, versions: Mapping[str, VersionInfo]
) -> tuple[Comparison, ...]:
    """``clause``'s article beside its counterpart in each other version (up to
    :data:`MAX_VERSIONS`); empty when its document has no other version."""
    links = index.links
    if not links.has_versions(clause.doc_id) or links.article(clause) is None:
        return ()
    out = []
    for other in links.others(clause.doc_id)[:MAX_VERSIONS]:
        pair = links.pair(clause, other.doc_id)
        if pair is not None:
            out.append(comparison(index, pair, versions=versions,
                                  docs=(clause.doc_id, other.doc_id)))
    return tuple(out)


def comparison(
    index: Index, pair: Pair, *, versions: Mapping[str, VersionInfo], docs: tuple[str, str]
) -> Comparison:
    """One aligned pair as a :class:`Comparison` of the two versions ``docs`` (any order)."""
    old_doc, new_doc = sorted((index.documents[d] for d in docs),
                              key=lambda d: (d.version or d.date or "", d.doc_id))
    deleted: list[tuple[int, int]] = []
    inserted: list[tuple[int, int]] = []
    if pair.old is not None and pair.new is not None and pair.relation == "changed":
        diff = diff_articles(pair.old, pair.new)
        deleted, inserted = diff.deleted(), diff.inserted()
    return Comparison(
        relation=pair.relation,
        older=side(index, old_doc, pair.old, versions=versions,
                   marks=tuple(Highlight(s, e, "deleted") for s, e in deleted)),
        newer=side(index, new_doc, pair.new, versions=versions,
                   marks=tuple(Highlight(s, e, "inserted") for s, e in inserted)),
        similarity=pair.similarity,
    )


def side(
    index: Index, doc: Document, article: Article | None, *,
    versions: Mapping[str, VersionInfo], marks: tuple[Highlight, ...] = (),
) -> VersionSide:
    """One version's side: the whole article, verbatim, and its citation."""
    info = versions.get(doc.doc_id)
    status = info.status if info and info.status else doc.status
    if article is None:
        return VersionSide(doc.doc_id, doc.version, status, None, None, None, "", 0, 0)
    first = index.clauses[index.row_of[article.clause_id]]
    return VersionSide(
        doc_id=doc.doc_id, version=doc.version, status=status, clause_id=article.clause_id,
        label=article.label, citation=citation_string(replace(first, part=None), doc),
        text=article.text, start=article.start, end=article.end, marks=marks,
    )
