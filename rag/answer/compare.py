"""A cited article beside the same article in its document's other versions, change marked.

Articles are paired by text (:mod:`rag.changes.align`), so 《公司法》（2023年修订）第四十九条
finds 2018 第二十八条; the words the newer version deleted and inserted are marked as
offsets into each version's verbatim text (:mod:`rag.changes.diff`). Only articles of
documents that have another version in the index get comparisons. :func:`compare_named`
is the comparison of an article a text names (``rag diff``, the MCP ``compare_versions``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import replace

from rag.answer.facts import Facts
from rag.answer.types import Comparison, Highlight, VersionSide
from rag.changes.align import Pair
from rag.changes.units import Article
from rag.core.citations import citation_string
from rag.core.clauses import Clause
from rag.core.documents import Document
from rag.core.versions import VersionInfo
from rag.search import Index, find_named

MAX_VERSIONS = 3  # other versions compared per citation, nearest in time first


def comparisons(
    index: Index, clause: Clause, *, versions: Mapping[str, VersionInfo],
    facts: Facts | None = None,
) -> tuple[Comparison, ...]:
    """``clause``'s article beside its counterpart in each other version (up to
    :data:`MAX_VERSIONS`); empty when its document has no other version. ``facts``:
    ``index``'s :class:`Facts` when a batch shares them (the word diffs are kept there)."""
    links = index.links
    if not links.has_versions(clause.doc_id) or links.article(clause) is None:
        return ()
    out = []
    for other in links.others(clause.doc_id)[:MAX_VERSIONS]:
        pair = links.pair(clause, other.doc_id)
        if pair is not None:
            out.append(comparison(index, pair, versions=versions,
                                  docs=(clause.doc_id, other.doc_id), facts=facts))
    return tuple(out)


def comparison(
    index: Index, pair: Pair, *, versions: Mapping[str, VersionInfo], docs: tuple[str, str],
    facts: Facts | None = None,
) -> Comparison:
    """One aligned pair as a :class:`Comparison` of the two versions ``docs`` (any order)."""
    old_doc, new_doc = sorted((index.documents[d] for d in docs),
                              key=lambda d: (d.version or d.date or "", d.doc_id))
    deleted: tuple[tuple[int, int], ...] = ()
    inserted: tuple[tuple[int, int], ...] = ()
    if pair.old is not None and pair.new is not None and pair.relation == "changed":
        deleted, inserted = (facts or Facts(index)).diff(pair.old, pair.new)
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


class NoArticleNamed(ValueError):
    """The text names no article of a document in the index."""


class NotComparable(ValueError):
    """The named article has no other version to compare with; the message says why."""


def _in_force(index: Index, group: tuple[Document, ...], day: str | None) -> Document:
    table = index.versions(dt.date.fromisoformat(day) if day else None)
    preferred = [d for d in group if table[d.doc_id].preferred]
    if preferred:
        return preferred[-1]
    if day is not None:
        raise NotComparable(f"no version of 《{group[0].title}》 in the index was in force on "
                            f"{day}; it holds {', '.join(d.version or '?' for d in group)}")
    return group[-1]


def compare_named(index: Index, text: str, *, date_from: str | None = None,
                  date_to: str | None = None, numbering: str = "to") -> Comparison:
    """The article ``text`` names (公司法第四十九条) beside the same article in another
    version: the one in force on ``date_from`` (default the nearest other version) and
    the one in force on ``date_to`` (default today). ``numbering`` says whose article
    number ``text`` gives: the ``to`` version's or the ``from`` version's."""
    refs = find_named(text, index.documents.values())
    if not refs:
        shown = text if len(text) <= 60 else text[:60] + "…"
        raise NoArticleNamed(f"{shown!r} names no article of a document in the index; e.g. "
                             "公司法第四十九条")
    ref = refs[0]
    links = index.links
    versioned = [d for d in ref.doc_ids if links.has_versions(d)]
    if not versioned:
        doc = index.documents[ref.doc_ids[0]]
        raise NotComparable(f"《{doc.title}》 has one version in the index "
                            f"({doc.version or doc.date or 'undated'}): nothing to compare")
    group = links.versions(versioned[0])
    to = _in_force(index, group, date_to)
    other = _in_force(index, group, date_from) if date_from is not None else \
        links.others(to.doc_id)[0]
    if other.doc_id == to.doc_id:
        raise NotComparable(f"the same version of 《{to.title}》 ({to.version}) was in force "
                            "on both dates: nothing to compare")
    named_in = other if numbering == "from" else to
    clauses = index.by_label.get((named_in.doc_id, ref.label))
    if not clauses:
        labels = [a.label for a in links.articles(named_in.doc_id)
                  if a.label.startswith("第")] or ["?"]
        raise NotComparable(f"《{named_in.title}》 ({named_in.version}) has no {ref.label}; "
                            f"its articles run from {labels[0]} to {labels[-1]}")
    pair = links.pair(clauses[0], other.doc_id if named_in is to else to.doc_id)
    if pair is None:  # cannot happen for two versions of one group
        raise NotComparable(f"{ref.label}: no alignment between the versions")
    return comparison(index, pair, versions=index.versions(), docs=(to.doc_id, other.doc_id))
