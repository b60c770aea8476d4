"""One clause as a citation: the verbatim quote, its marks, where it comes from, what it
refers to and what refers to it."""

from __future__ import annotations

from collections.abc import Mapping

from rag.answer.compare import comparisons
from rag.answer.facts import Facts
from rag.answer.highlight import highlight
from rag.answer.penalties import penalties_of, referenced_by
from rag.answer.types import Citation
from rag.core.clauses import Clause
from rag.core.versions import VersionInfo
from rag.search import Index


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
    facts: Facts | None = None,
) -> Citation:
    """One clause as a citation: the verbatim quote, its marks, where it comes from;
    with ``compare`` (the version table), the article beside its other versions.
    ``facts`` are ``index``'s :class:`Facts` when a batch shares them."""
    facts = facts or Facts(index)
    doc = index.document_of(clause)
    status = version.status if version and version.status else doc.status
    static = facts.static(clause, span_label=span_label)
    return Citation(
        rank=rank,
        clause_id=clause.id,
        doc_id=doc.doc_id,
        document=doc.title,
        label=clause.label,
        citation=static.citation,
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
        source=static.source,
        low_confidence=low_confidence,
        via=via,
        related=static.related,
        folded=folded,
        inner=static.inner,
        pages=static.pages,
        ocr=static.ocr_confidence is not None,
        ocr_confidence=static.ocr_confidence,
        versions=(comparisons(index, clause, versions=compare, facts=facts)
                  if compare is not None else ()),
        document_sha256=static.document_sha256,
        penalties=penalties_of(index, clause),
        referenced_by=referenced_by(index, clause),
    )
