"""One clause as a citation: the verbatim quote, its marks, where it comes from, what it
refers to and what refers to it."""

from __future__ import annotations

from collections.abc import Mapping

from rag.answer.compare import comparisons
from rag.answer.highlight import highlight
from rag.answer.penalties import penalties_of, referenced_by
from rag.answer.types import Citation, InnerReference
from rag.core.citations import citation_string, shown_source, source_roots
from rag.core.clauses import Clause
from rag.core.pages import ocr_confidence, pages_of
from rag.core.versions import VersionInfo
from rag.search import Index
from rag.search.inner import inner_mentions


def cross_references(clause: Clause, index: Index) -> list[Clause]:
    """Clauses named inside ``clause`` (依照本法第五十三条, 刑法第一百八十二条…)."""
    return [index.clauses[row] for row in index.references.rows(clause)]


def inner_references(clause: Clause, index: Index) -> tuple[InnerReference, ...]:
    """前款 / 前两款 / 本条第X款 / 前项 in ``clause``, each resolved to the 款 or 项 it names.

    The spans of every part of a split article are used, so 前款 at the start of a
    later part still finds the 款 quoted in the part before.
    """
    parts = [clause]
    if clause.kind == "article":
        parts = index.by_label.get((clause.doc_id, clause.label), parts)
    spans = sorted({s.key: s for p in parts for s in p.spans}.values(), key=lambda s: s.start)
    text = index.document_of(clause).text
    return tuple(
        InnerReference(
            phrase=m.phrase, start=m.start - clause.start, end=m.end - clause.start,
            label=t.label, text=text[t.start:t.end], target_start=t.start, target_end=t.end,
        )
        for m in inner_mentions(spans, clause.text, clause.start)
        for t in m.targets
    )


def cite(
    index: Index,
    clause: Clause,
    *,
    rank: int,
    score: float,
    scores: Mapping[str, float],
    ranks: Mapping[str, int],
    weights: Mapping[str, float],
    version: VersionInfo | None,
    low_confidence: bool,
    via: str,
    span_label: str | None = None,
    folded: tuple[str, ...] = (),
    compare: Mapping[str, VersionInfo] | None = None,
) -> Citation:
    """One clause as a citation: the verbatim quote, its marks, where it comes from;
    with ``compare`` (the version table), the article beside its other versions."""
    doc = index.document_of(clause)
    status = version.status if version and version.status else doc.status
    pages = pages_of(doc, clause.start, clause.end)
    ocr = ocr_confidence(doc, pages)
    return Citation(
        rank=rank,
        clause_id=clause.id,
        doc_id=doc.doc_id,
        document=doc.title,
        label=clause.label,
        citation=citation_string(clause, doc, span_label=span_label),
        path=clause.path,
        text=clause.text,
        start=clause.start,
        end=clause.end,
        score=round(score, 6),
        scores={k: round(v, 6) for k, v in scores.items()},
        ranks=dict(ranks),
        highlights=highlight(clause.text, weights),
        kind=doc.kind,
        date=doc.date,
        version=doc.version,
        status=status,
        version_note=version.note if version else None,
        issuer=doc.issuer,
        url=doc.url,
        source=shown_source(doc.source_path, source_roots(index.manifest)),
        low_confidence=low_confidence,
        via=via,
        related=tuple(c.id for c in cross_references(clause, index)),
        folded=folded,
        inner=inner_references(clause, index),
        pages=pages,
        ocr=ocr is not None,
        ocr_confidence=ocr,
        versions=comparisons(index, clause, versions=compare) if compare is not None else (),
        document_sha256=index.text_hash(doc.doc_id),
        penalties=penalties_of(index, clause),
        referenced_by=referenced_by(index, clause),
    )
