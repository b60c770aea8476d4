"""Index records as API models: documents, clauses with their versions and references.

Pure functions over an opened :class:`~rag.search.Index`; the routes and the library page
both use them. Every clause text is ``document.text[start:end]``.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict

from rag.answer.penalties import penalties_of, penalty_note, referenced_by
from rag.api.live import BuildStatus
from rag.api.models import (
    ClauseDetail,
    ClauseRecord,
    DocumentDetail,
    DocumentList,
    DocumentRecord,
    HeadingRecord,
    IndexIdentity,
    LinkedRecord,
    ReindexStatus,
    SpanRecord,
    VersionInfo,
    VersionRecord,
)
from rag.core.citations import citation_string, shown_source, source_roots
from rag.core.clauses import Clause
from rag.core.documents import Document
from rag.core.filters import Filters
from rag.core.pages import pages_of
from rag.core.version import __version__
from rag.index.manifest import model_section
from rag.search import Index, calibrated

Owned = Callable[[Document], bool]


def _day(as_of: str | None) -> dt.date | None:
    return dt.date.fromisoformat(as_of) if as_of else None


def clause_counts(index: Index) -> Counter[str]:
    return Counter(c.doc_id for c in index.clauses)


def document_record(doc: Document, index: Index, *, clauses: int, owned: Owned,
                    as_of: str | None = None) -> DocumentRecord:
    version = index.versions(_day(as_of)).get(doc.doc_id)
    status = version.status if version and version.status else doc.status
    return DocumentRecord(
        doc_id=doc.doc_id, title=doc.title, subtitle=doc.subtitle, kind=doc.kind,
        date=doc.date, version=doc.version, status=status,
        issuer=doc.issuer, url=doc.url, valid_from=doc.valid_from,
        source=shown_source(doc.source_path, source_roots(index.manifest)),
        clauses=clauses, pages=len(doc.pages), library=owned(doc),
        sha256=index.text_hash(doc.doc_id))


def list_documents(index: Index, filters: Filters, *, owned: Owned, query: str = "",
                   library: bool | None = None, offset: int = 0,
                   limit: int = 100) -> DocumentList:
    """Documents that ``filters`` admit whose title, id or source contains ``query``
    (case-insensitive), statutes first then by title and version."""
    counts = clause_counts(index)
    needle = query.strip().casefold()
    found = [
        d for d in index.documents.values()
        if filters.admits(d)
        and (not needle or any(needle in (v or "").casefold()
                               for v in (d.title, d.doc_id, d.source_path, d.subtitle)))
        and (library is None or owned(d) == library)
    ]
    found.sort(key=lambda d: (d.kind != "law", d.title, d.version or d.date or "", d.doc_id))
    return DocumentList(total=len(found), documents=[
        document_record(d, index, clauses=counts[d.doc_id], owned=owned, as_of=filters.as_of)
        for d in found[offset:offset + limit]])


def clause_record(clause: Clause, index: Index) -> ClauseRecord:
    doc = index.document_of(clause)
    pages = pages_of(doc, clause.start, clause.end)
    return ClauseRecord(
        clause_id=clause.id, doc_id=clause.doc_id, label=clause.label,
        citation=citation_string(clause, doc), kind=clause.kind, path=list(clause.path),
        heading=clause.heading, part=clause.part, text=doc.text[clause.start:clause.end],
        start=clause.start, end=clause.end, pages=list(pages) if pages else None,
        spans=[SpanRecord(key=s.key, label=s.label, start=s.start, end=s.end)
               for s in clause.spans])


def document_detail(doc: Document, index: Index, *, owned: Owned) -> DocumentDetail:
    clauses = [c for c in index.clauses if c.doc_id == doc.doc_id]
    return DocumentDetail(
        document=document_record(doc, index, clauses=len(clauses), owned=owned),
        text=doc.text,
        headings=[HeadingRecord(level=h.level, start=h.start, end=h.end, text=h.text)
                  for h in doc.headings],
        clauses=[clause_record(c, index) for c in clauses])


def clause_detail(clause_id: str, index: Index, *, owned: Owned,
                  as_of: str | None = None) -> ClauseDetail | None:
    """A clause, its document, every version of that document (with the same-label
    clause in each) and the clauses it refers to; None for an unknown id."""
    row = index.row_of.get(clause_id)
    if row is None:
        return None
    clause = index.clauses[row]
    doc = index.document_of(clause)
    table = index.versions(_day(as_of))
    key = index.version_key(doc.doc_id)
    family = sorted((d for d in index.documents.values() if index.version_key(d.doc_id) == key),
                    key=lambda d: (d.version or d.date or "", d.doc_id))
    versions = []
    for other in family:
        info = table.get(other.doc_id)
        status = info.status if info and info.status else other.status
        same = index.by_label.get((other.doc_id, clause.label), [])
        versions.append(VersionRecord(
            doc_id=other.doc_id, title=other.title, version=other.version, date=other.date,
            status=status, preferred=bool(info and info.preferred),
            clause_id=same[0].unit_id if same else None))
    counts = clause_counts(index)
    return ClauseDetail(
        clause=clause_record(clause, index),
        document=document_record(doc, index, clauses=counts[doc.doc_id], owned=owned,
                                 as_of=as_of),
        versions=versions,
        references=[clause_record(index.clauses[r], index) for r in index.references.rows(clause)],
        referenced_by=[LinkedRecord.model_validate(r) for r in referenced_by(index, clause)],
        penalties=[LinkedRecord.model_validate(p) for p in penalties_of(index, clause)],
        penalty_note=penalty_note(index, clause.id))


def status_record(status: BuildStatus) -> ReindexStatus:
    state = status.state if status.state in ("ready", "building", "failed") else "not_ready"
    return ReindexStatus(state=state, stage=status.stage, done=status.done,  # type: ignore[arg-type]
                         total=status.total, message=status.message, started=status.started,
                         finished=status.finished, pending=status.pending)


def version_info(index: Index, *, writes: bool) -> VersionInfo:
    manifest = index.manifest
    model = model_section(manifest)
    fusion = calibrated(None, index)
    dimension = model.get("dimension")
    return VersionInfo(
        package_version=__version__, api="v1",
        index=IndexIdentity(
            fingerprint=manifest.get("corpus_fingerprint"), created=manifest.get("created"),
            model=model.get("name"), model_identity=index.model_identity,
            dimension=dimension if isinstance(dimension, int) else None,
            documents=len(index.documents), clauses=len(index.clauses),
            search=manifest.get("search"), tokenizer=manifest.get("tokenizer"),
            built_by=manifest.get("package_version")),
        reranker=index.learned.reranker_sha if fusion.use_reranker and index.learned else None,
        fusion={k: list(v) if isinstance(v, tuple) else v for k, v in asdict(fusion).items()},
        writes=writes)
