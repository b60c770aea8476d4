"""The API's request and response models, in one place — the batch JSON-lines schema too.

``rag batch`` writes :class:`BatchRecord` lines and ``POST /api/v1/batch`` streams the same
model; ``POST /api/v1/ask`` returns an :class:`AnswerRecord` (the same fields less the
batch bookkeeping). Every quote is ``document.text[start:end]`` of the document revision
whose sha256 the citation carries, and ``audit`` names the index generation it came from.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic.json_schema import JsonDict

from rag.answer import MAX_TOP, Answer, Citation
from rag.answer.types import Comparison
from rag.core.documents import KINDS
from rag.search.hybrid import MAX_QUESTION_CHARS

Kind = Literal[KINDS]  # type: ignore[valid-type]
ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"
DATE_SCHEMA: JsonDict = {"format": "date"}  # checked by rag.core.filters.Filters (400 when invalid)
MAX_BATCH = 1000
Question = Annotated[str, StringConstraints(max_length=MAX_QUESTION_CHARS)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------- answers


class HighlightRecord(_Model):
    """A marked range of the quote: ``text[start:end]``."""

    start: int
    end: int
    kind: Literal["sentence", "term"]


class MarkRecord(_Model):
    """A change marked in one version's text: ``text[start:end]``."""

    start: int
    end: int
    kind: Literal["deleted", "inserted"]


class VersionSideRecord(_Model):
    """One version of an article beside another (empty when it has no counterpart)."""

    doc_id: str
    version: str | None
    status: str | None
    clause_id: str | None
    label: str | None
    citation: str | None
    text: str = Field(description="the whole article, verbatim: document text [start:end]")
    start: int
    end: int
    marks: list[MarkRecord] = Field(description="offsets into text")


class ComparisonRecord(_Model):
    """The cited article beside the same article in another version of its law."""

    relation: Literal["matched", "renumbered", "changed", "added", "removed"]
    similarity: float
    older: VersionSideRecord
    newer: VersionSideRecord

    @classmethod
    def of(cls, comparison: Comparison) -> ComparisonRecord:
        return cls.model_validate(comparison.to_dict())


class CitationRecord(_Model):
    """One quoted clause, with everything needed to cite it and find it again."""

    rank: int = Field(description="1-based; 0 for clauses offered as cross-references")
    clause_id: str = Field(description="stable id, e.g. 证券法-2019-12-28#art191")
    doc_id: str
    document: str = Field(description="the document's title")
    label: str = Field(description="第一百九十一条, （七）, 一是, Article 5")
    citation: str = Field(description="the formal citation string")
    text: str = Field(description="the verbatim quote: document text [start:end]")
    start: int = Field(description="offset of the quote in the document text")
    end: int
    score: float
    source: str = Field(description="the source file")
    url: str | None
    date: str | None
    kind: str
    status: str | None = Field(description="现行有效 / 已废止 / 已被修订 / 尚未施行")
    version: str | None
    version_note: str | None
    path: list[str] = Field(description="章/节 or section headings above the clause")
    low_confidence: bool
    via: Literal["search", "lookup", "cross_reference", "version"]
    highlights: list[HighlightRecord] = Field(description="offsets into text")
    pages: list[int] | None = Field(description="[first, last] page of a paged source")
    ocr: bool
    ocr_confidence: float | None
    related: list[str] = Field(description="ids of the clauses this one refers to")
    document_sha256: str = Field(
        description="sha256 of the document text the offsets point into (its revision)")
    versions: list[ComparisonRecord] = Field(
        description="the same article in the law's other versions, changes marked")

    @classmethod
    def of(cls, citation: Citation) -> CitationRecord:
        return cls(
            rank=citation.rank, clause_id=citation.clause_id, doc_id=citation.doc_id,
            document=citation.document, label=citation.label, citation=citation.citation,
            text=citation.text, start=citation.start, end=citation.end, score=citation.score,
            source=citation.source, url=citation.url, date=citation.date, kind=citation.kind,
            status=citation.status, version=citation.version,
            version_note=citation.version_note, path=list(citation.path),
            low_confidence=citation.low_confidence, via=citation.via,  # type: ignore[arg-type]
            highlights=[HighlightRecord(start=h.start, end=h.end, kind=h.kind)  # type: ignore[arg-type]
                        for h in citation.highlights],
            pages=list(citation.pages) if citation.pages else None, ocr=citation.ocr,
            ocr_confidence=citation.ocr_confidence, related=list(citation.related),
            document_sha256=citation.document_sha256,
            versions=[ComparisonRecord.of(c) for c in citation.versions],
        )


class Audit(_Model):
    """Which index generation, model and program produced an answer."""

    fingerprint: str | None = Field(description="the index's corpus fingerprint")
    model: str | None
    model_identity: str | None = Field(description="name, weights hash and dimension")
    adapter: str | None = Field(description="sha256 of the trained query adapter used")
    reranker: str | None = Field(description="sha256 of the trained reranker used")
    created: str | None = Field(description="when the index generation was built")
    clauses: int | None
    built_by: str | None = Field(description="rag version that built the index")
    package_version: str | None = Field(description="rag version that answered")

    @classmethod
    def of(cls, info: Mapping[str, object]) -> Audit:
        return cls.model_validate({name: info.get(name) for name in cls.model_fields})


class FiltersRecord(_Model):
    """Which documents may answer. Empty fields do not filter."""

    doc_ids: list[str] = Field(default_factory=list, description="keep these documents")
    kinds: list[Kind] = Field(default_factory=list, description="keep these kinds")
    date_from: str | None = Field(default=None, pattern=ISO_DATE, json_schema_extra=DATE_SCHEMA,
                                  description="version date ≥")
    date_to: str | None = Field(default=None, pattern=ISO_DATE, json_schema_extra=DATE_SCHEMA,
                                description="version date ≤")
    as_of: str | None = Field(default=None, pattern=ISO_DATE, json_schema_extra=DATE_SCHEMA,
                              description="answer with the versions in force on this date")


class AnswerRecord(_Model):
    """One question's answer: the verbatim quotes that govern it, or a refusal."""

    question: str
    answered: bool = Field(description="false when no clause answers well enough")
    confidence: float = Field(description="calibrated, 0..1; 1.0 for exact look-ups")
    message: str | None = Field(description="the verdict shown to users")
    citations: list[CitationRecord] = Field(
        description="ranked; when refused, the nearest candidates (low_confidence)")
    related: list[CitationRecord] = Field(
        default_factory=list, description="clauses the quotes refer to (cross-references)")
    filters: FiltersRecord = Field(default_factory=lambda: FiltersRecord())
    audit: Audit | None = Field(default=None, description="null only for a failed batch row")

    @classmethod
    def of(cls, answer: Answer) -> AnswerRecord:
        return cls.model_validate(_answer_fields(answer))


class BatchRecord(AnswerRecord):
    """One line of ``rag batch`` JSON lines and of ``POST /api/v1/batch``."""

    id: str = Field(description="the input's id, else its line/row number")
    line: int = Field(description="line (txt/jsonl), row (csv) or position it came from")
    error: str | None = Field(description="why this row failed; the batch carries on")

    @classmethod
    def row(cls, *, id: str, question: str, line: int, result: Answer | None,
            error: str | None) -> BatchRecord:
        fields: dict[str, object] = {
            "question": question, "answered": False, "confidence": 0.0, "message": None,
            "citations": []} if result is None else _answer_fields(result)
        return cls.model_validate({**fields, "question": question, "id": id, "line": line,
                                   "error": error})


def _answer_fields(answer: Answer) -> dict[str, object]:
    return {
        "question": answer.question, "answered": answer.answered,
        "confidence": answer.confidence, "message": answer.message,
        "citations": [CitationRecord.of(c) for c in answer.citations],
        "related": [CitationRecord.of(c) for c in answer.related],
        "filters": FiltersRecord.model_validate(dict(answer.filters)),
        "audit": Audit.of(answer.index) if answer.index else None,
    }


# ---------------------------------------------------------------- requests


class AskRequest(_Model):
    """``POST /api/v1/ask``."""

    # not blank (a blank question is refused by rag.answer with what to do)
    question: Question = Field(description="Chinese or English", json_schema_extra={
                                   "pattern": r"\S"},
                               examples=["内幕交易会被罚多少钱？"])
    top: int = Field(5, ge=1, le=MAX_TOP, description="citations to return")
    filters: FiltersRecord = Field(default_factory=lambda: FiltersRecord())


class BatchQuestion(_Model):
    id: str | None = Field(default=None, max_length=200,
                           description="echoed back; default: its position")
    question: Question


class BatchRequest(_Model):
    """``POST /api/v1/batch``: many questions, answered as JSON lines in order."""

    questions: list[BatchQuestion | Question] = Field(min_length=1, max_length=MAX_BATCH)
    top: int = Field(5, ge=1, le=MAX_TOP)
    filters: FiltersRecord = Field(default_factory=lambda: FiltersRecord())


# ---------------------------------------------------------------- errors


class ErrorRecord(_Model):
    """Every error: what went wrong, and what to do about it."""

    error: str = Field(description="what went wrong, one line")
    detail: str = Field(description="what to do, one line")


# ---------------------------------------------------------------- the library


class DocumentRecord(_Model):
    """A document as the index holds it (its text is at ``/documents/{doc_id}``)."""

    doc_id: str
    title: str
    subtitle: str | None
    kind: str
    date: str | None
    version: str | None
    status: str | None = Field(description="现行有效 / 已废止 / 已被修订 / 尚未施行 (today, "
                               "or on as_of)")
    issuer: str | None
    url: str | None
    valid_from: str | None
    source: str = Field(description="the file it was read from")
    clauses: int
    pages: int = Field(description="pages of a paged source (PDF), else 0")
    library: bool = Field(description="uploaded through the library (it may remove it)")
    sha256: str = Field(description="sha256 of the document text (its revision)")


class DocumentList(_Model):
    total: int = Field(description="documents that match, before offset and limit")
    documents: list[DocumentRecord]


class SpanRecord(_Model):
    """A 款 or 项 inside a clause; offsets into the document text."""

    key: str
    label: str
    start: int
    end: int


class ClauseRecord(_Model):
    """A clause as indexed: ``text`` is ``document.text[start:end]``."""

    clause_id: str
    doc_id: str
    label: str
    citation: str
    kind: str
    path: list[str]
    heading: str | None
    part: int | None
    text: str
    start: int
    end: int
    pages: list[int] | None
    spans: list[SpanRecord]


class HeadingRecord(_Model):
    level: int
    start: int
    end: int
    text: str


class DocumentDetail(_Model):
    """A document's text with its structure: headings and clauses, by offsets."""

    document: DocumentRecord
    text: str
    headings: list[HeadingRecord]
    clauses: list[ClauseRecord]


class VersionRecord(_Model):
    """Another version of the clause's document, and the clause of the same label in it."""

    doc_id: str
    title: str
    version: str | None
    date: str | None
    status: str | None
    preferred: bool = Field(description="the version in force (today, or on as_of)")
    clause_id: str | None = Field(description="the same-label clause there, if any")


class ClauseDetail(_Model):
    clause: ClauseRecord
    document: DocumentRecord
    versions: list[VersionRecord] = Field(description="every version of the document, "
                                          "oldest first, this one included")
    references: list[ClauseRecord] = Field(description="clauses this one refers to")


# ---------------------------------------------------------------- service


class ReindexStatus(_Model):
    """The library's re-indexing: answers keep coming from the previous generation until
    the new one is swapped in."""

    state: Literal["ready", "building", "failed", "not_ready"]
    stage: str = Field(description="reading, embedding, writing or swapping while building")
    done: int
    total: int
    message: str
    started: str | None
    finished: str | None
    pending: bool = Field(description="another re-index is queued after this one")


class Health(_Model):
    status: Literal["ok"]
    documents: int
    clauses: int
    fingerprint: str | None
    reindex: ReindexStatus


class IndexIdentity(_Model):
    fingerprint: str | None
    created: str | None
    model: str | None
    model_identity: str | None
    dimension: int | None
    documents: int
    clauses: int
    search: str | None = Field(description="exact or hnsw")
    tokenizer: str | None
    built_by: str | None


class VersionInfo(_Model):
    package_version: str
    api: Literal["v1"]
    index: IndexIdentity
    reranker: None = Field(description="no reranker: ranking is the fixed fusion below")
    fusion: dict[str, object] = Field(description="how the dense and keyword channels "
                                      "are combined (weights tuned on STARD)")
    writes: bool = Field(description="whether this server accepts library writes")


class StoredFile(_Model):
    name: str = Field(description="the sanitised file name it was stored under")
    bytes: int
    doc_id: str
    title: str


class RefusedFile(_Model):
    name: str = Field(description="the name as sent")
    reason: str


class UploadResult(_Model):
    stored: list[StoredFile]
    refused: list[RefusedFile]
    reindex: ReindexStatus


class RemoveResult(_Model):
    removed: str = Field(description="the doc_id removed")
    file: str
    reindex: ReindexStatus
