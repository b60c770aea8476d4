"""The API's own models: requests, errors, the library, health.

Answers are :class:`rag.answer.records.AnswerRecord`, the one answer schema: ``POST
/api/v1/ask`` returns one, ``POST /api/v1/batch`` streams one per line, exactly as ``rag ask
--json`` and ``rag batch`` write them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from rag.answer import MAX_TOP
from rag.answer.records import (
    STATUS_CODES,
    AnswerRecord,
    Audit,
    CitationRecord,
    ComparisonRecord,
    FiltersRecord,
    HighlightRecord,
    LinkedRecord,
    MarkRecord,
    StatusLabel,
    VersionSideRecord,
    label_field,
)
from rag.search.hybrid import MAX_QUESTION_CHARS

__all__ = [  # the answer records, re-exported for the API's callers
    "AnswerRecord", "Audit", "CitationRecord", "ComparisonRecord", "FiltersRecord",
    "HighlightRecord", "MarkRecord", "VersionSideRecord",
]
MAX_BATCH = 1000
Question = Annotated[str, StringConstraints(max_length=MAX_QUESTION_CHARS)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------- requests


class AskRequest(_Model):
    """``POST /api/v1/ask``."""

    # not blank (a blank question is refused by rag.answer with what to do)
    question: Question = Field(description="Chinese or English", json_schema_extra={
                                   "pattern": r"\S"},
                               examples=["内幕交易会被罚多少钱？"])
    top: int = Field(5, ge=1, le=MAX_TOP, description="citations to return")
    filters: FiltersRecord = Field(default_factory=lambda: FiltersRecord())
    debug: bool = Field(False, description="fill the answer's debug block (scores, ranks)")


class BatchQuestion(_Model):
    id: str | None = Field(default=None, max_length=200,
                           description="echoed back; default: its position")
    question: Question


class BatchRequest(_Model):
    """``POST /api/v1/batch``: many questions, answered as JSON lines in order."""

    questions: list[BatchQuestion | Question] = Field(min_length=1, max_length=MAX_BATCH)
    top: int = Field(5, ge=1, le=MAX_TOP)
    filters: FiltersRecord = Field(default_factory=lambda: FiltersRecord())
    debug: bool = Field(False, description="fill each answer's debug block")


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
    status: str | None = Field(description=f"{STATUS_CODES} (today, or on as_of)")
    status_label: StatusLabel = label_field()
    issuer: str | None
    url: str | None
    valid_from: str | None
    source: str = Field(description="the file it was read from, relative to the source "
                        "root it was indexed from")
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
    status_label: StatusLabel = label_field()
    preferred: bool = Field(description="the version in force (today, or on as_of)")
    clause_id: str | None = Field(description="the same-label clause there, if any")


class ClauseDetail(_Model):
    clause: ClauseRecord
    document: DocumentRecord
    versions: list[VersionRecord] = Field(description="every version of the document, "
                                          "oldest first, this one included")
    references: list[ClauseRecord] = Field(description="clauses this one refers to")
    referenced_by: list[LinkedRecord] = Field(default_factory=list,
                                              description="clauses that cite this one")
    penalties: list[LinkedRecord] = Field(
        default_factory=list, description="what enforces this clause (explicit, implicit, "
        "criminal, civil), with confidence and evidence")
    penalty_note: str | None = Field(
        default=None, description="set when the clause is a duty and no penalty provision "
        "links to it: 'No penalty provision links to this clause in the indexed documents.'")


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
    reranker: str | None = Field(description="sha256 of the trained reranker that re-orders "
                                 "the fused candidates of questions with Chinese; null "
                                 "when none does")
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
