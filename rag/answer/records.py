"""THE answer record: the one JSON shape of an answer, whoever asks.

``rag ask --json``, every ``rag batch`` JSON line, ``POST /api/v1/ask`` and every line of
``POST /api/v1/batch`` emit :class:`AnswerRecord` with the same keys. It is built from the
frozen answer dataclasses (:mod:`rag.answer.types`) by attribute, never copied by hand:
``AnswerRecord.of(answer)``. Batch bookkeeping (``id``, ``line``, ``error``) is null for a
single question; ``debug`` (per-channel scores and ranks, folded duplicates, resolved
前款 references) is null unless asked for. The README's "Answer record" tables list these
fields (a test compares them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic.json_schema import JsonDict

from rag.answer.types import Answer
from rag.core.documents import KINDS
from rag.core.versions import status_label

Kind = Literal[KINDS]  # type: ignore[valid-type]
ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"
DATE_SCHEMA: JsonDict = {"format": "date"}  # checked by rag.core.filters.Filters (400 when invalid)
Status = Annotated[str, StringConstraints(pattern=r"^[a-z_]+$")]
STATUS_CODES = "in_force / repealed / superseded / not_yet_in_force"  # status's description


def _label_of_status(_: object, info: ValidationInfo) -> str | None:
    status = info.data.get("status")
    return status_label(status if isinstance(status, str) else None)


# Always the label of the record's ``status`` (declared right after it); never taken as given.
StatusLabel = Annotated[str | None, AfterValidator(_label_of_status)]


def label_field() -> Any:
    """``status_label``: 现行有效 / 已废止 / 已被修订 / 尚未施行, rendered from ``status``."""
    return Field(default=None, validate_default=True,
                 description="status as shown: 现行有效 / 已废止 / 已被修订 / 尚未施行")


class Record(BaseModel):
    """Strict about unknown fields; built from the answer dataclasses by attribute."""

    model_config = ConfigDict(extra="forbid", from_attributes=True)


class HighlightRecord(Record):
    """A marked range of the quote: ``text[start:end]``."""

    start: int
    end: int
    kind: Literal["sentence", "term"]


class MarkRecord(Record):
    """A change marked in one version's text: ``text[start:end]``."""

    start: int
    end: int
    kind: Literal["deleted", "inserted"]


class VersionSideRecord(Record):
    """One version of an article beside another (empty when it has no counterpart)."""

    doc_id: str
    version: str | None
    status: Status | None = Field(description=STATUS_CODES)
    status_label: StatusLabel = label_field()
    clause_id: str | None
    label: str | None
    citation: str | None
    text: str = Field(description="the whole article, verbatim: document text [start:end]")
    start: int
    end: int
    marks: list[MarkRecord] = Field(description="offsets into text")


class ComparisonRecord(Record):
    """The cited article beside the same article in another version of its law."""

    relation: Literal["matched", "renumbered", "changed", "added", "removed"]
    similarity: float
    older: VersionSideRecord
    newer: VersionSideRecord


class EvidenceRecord(Record):
    """Words that made a link, verbatim: ``documents[doc_id].text[start:end]``."""

    doc_id: str
    start: int
    end: int
    text: str


class LinkedRecord(Record):
    """A clause linked to a cited one: a penalty that enforces it, or a clause citing it."""

    clause_id: str
    citation: str
    label: str
    document: str = Field(description="the title of its document")
    kind: Literal["explicit", "implicit", "criminal", "civil", "cites"] = Field(
        description="explicit (cites the article), implicit (names its conduct and actor), "
        "criminal (刑法, same conduct), civil (liability for damages), cites")
    confidence: float = Field(description="0..1; 1.0 for a reference by article number")
    evidence: list[EvidenceRecord] = Field(description="the words that made the link")


class CitationRecord(Record):
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
    source: str = Field(description="the source file, relative to the source root it was "
                        "indexed from (never a server path)")
    url: str | None
    date: str | None
    kind: str
    status: Status | None = Field(description=STATUS_CODES)
    status_label: StatusLabel = label_field()
    version: str | None
    version_note: str | None
    issuer: str | None = Field(description="who issued a policy or news item")
    path: list[str] = Field(description="章/节 or section headings above the clause")
    low_confidence: bool
    via: Literal["search", "lookup", "memory", "cross_reference", "version", "penalty"]
    highlights: list[HighlightRecord] = Field(description="offsets into text")
    pages: list[int] | None = Field(description="[first, last] page of a paged source")
    ocr: bool
    ocr_confidence: float | None
    related: list[str] = Field(description="ids of the clauses this one refers to")
    document_sha256: str = Field(
        description="sha256 of the document text the offsets point into (its revision)")
    versions: list[ComparisonRecord] = Field(
        description="the same article in the law's other versions, changes marked")
    penalties: list[LinkedRecord] = Field(
        default_factory=list, description="what enforces this clause: administrative "
        "(explicit, implicit), then criminal, then civil")
    referenced_by: list[LinkedRecord] = Field(default_factory=list,
                                              description="the clauses that cite this one")
    penalty_note: str | None = Field(
        default=None, description="set when a consequence was asked and no penalty links here")
    enforces: str | None = Field(default=None,
                                 description="a penalty quoted for a duty (via penalty, or "
                                 "found by search and quoted after that duty in a "
                                 "consequence answer): the id of the duty it enforces")


class Audit(Record):
    """Which index generation, model and program produced an answer."""

    fingerprint: str | None = Field(default=None, description="the index's corpus fingerprint")
    model: str | None = None
    model_identity: str | None = Field(default=None,
                                       description="name, weights hash and dimension")
    adapter: str | None = Field(default=None, description="sha256 of the trained query adapter")
    reranker: str | None = Field(default=None, description="sha256 of the trained reranker")
    created: str | None = Field(default=None, description="when the index generation was built")
    clauses: int | None = None
    built_by: str | None = Field(default=None, description="rag version that built the index")
    package_version: str | None = Field(default=None, description="rag version that answered")


class FiltersRecord(Record):
    """Which documents may answer. Empty fields do not filter."""

    doc_ids: list[str] = Field(default_factory=list, description="keep these documents")
    kinds: list[Kind] = Field(default_factory=list, description="keep these kinds")
    date_from: str | None = Field(default=None, pattern=ISO_DATE, json_schema_extra=DATE_SCHEMA,
                                  description="version date ≥")
    date_to: str | None = Field(default=None, pattern=ISO_DATE, json_schema_extra=DATE_SCHEMA,
                                description="version date ≤")
    as_of: str | None = Field(default=None, pattern=ISO_DATE, json_schema_extra=DATE_SCHEMA,
                              description="answer with the versions in force on this date")


class InnerRecord(Record):
    """前款 / 本条第二款 in a quote (``quote[start:end]``), resolved to the 款 or 项 it names
    (``document text[target_start:target_end]``)."""

    phrase: str
    start: int
    end: int
    label: str
    text: str
    target_start: int
    target_end: int


class CitationDebug(Record):
    """How one citation was found: each channel's score and rank."""

    clause_id: str
    scores: dict[str, float] = Field(
        description="per channel: dense, dense_plain (the question as asked, beside the "
        "adapted one), bm25, memory, fused, lookup")
    ranks: dict[str, int] = Field(description="per channel, 1-based; absent when missed")
    folded: list[str] = Field(description="near-duplicates folded under this clause")
    inner: list[InnerRecord] = Field(description="前款 … resolved within the article")


class DebugRecord(Record):
    """Why the answer ranks as it does, citation by citation (same order)."""

    citations: list[CitationDebug]
    related: list[CitationDebug]


class AnswerRecord(Record):
    """One question's answer: the verbatim quotes that govern it, or a refusal."""

    id: str | None = Field(default=None, description="batch: the input's id, else its "
                           "line/row number; null for a single question")
    line: int | None = Field(default=None, description="batch: the line (txt/jsonl), row "
                             "(csv) or position it came from; null for a single question")
    question: str
    answered: bool = Field(description="false when no clause answers well enough")
    confidence: float = Field(description="calibrated, 0..1; 1.0 for exact look-ups")
    message: str | None = Field(description="the verdict shown to users; null for a "
                                "failed batch row")
    citations: list[CitationRecord] = Field(
        description="ranked; when refused, the nearest candidates (low_confidence)")
    related: list[CitationRecord] = Field(
        default_factory=list, description="clauses the quotes refer to (cross-references)")
    filters: FiltersRecord = Field(default_factory=lambda: FiltersRecord())
    audit: Audit | None = Field(default=None, validation_alias=AliasChoices("audit", "index"),
                                description="the index generation; null for a failed batch row")
    error: str | None = Field(default=None, description="batch: why this row failed (the "
                              "batch carries on); null when it was answered")
    debug: DebugRecord | None = Field(default=None, description="scores and ranks per "
                                      "channel; null unless asked for (--debug, debug: true)")

    @field_validator("audit", mode="before")
    @classmethod
    def _no_index(cls, value: object) -> object:
        return None if isinstance(value, Mapping) and not value else value

    @classmethod
    def of(cls, answer: Answer, *, debug: bool = False, id: str | None = None,
           line: int | None = None) -> AnswerRecord:
        """The record of ``answer`` (with its debug block when asked for)."""
        record = cls.model_validate(answer)
        return record.model_copy(update={
            "id": id, "line": line,
            "debug": DebugRecord.model_validate(answer) if debug else None})

    @classmethod
    def row(cls, *, id: str, line: int, question: str, result: Answer | None,
            error: str | None, debug: bool = False) -> AnswerRecord:
        """One batch row: the answer's record, or (``result`` None) the question that
        could not be run and why, with no citations."""
        if result is None:
            return cls(id=id, line=line, question=question, answered=False, confidence=0.0,
                       message=None, citations=[], error=error or "unknown error")
        return cls.of(result, debug=debug, id=id, line=line)


def answer_record(answer: Answer, *, debug: bool = False, id: str | None = None,
                  line: int | None = None) -> dict[str, object]:
    """``AnswerRecord.of(answer)`` as JSON-ready data (what every front end writes)."""
    return AnswerRecord.of(answer, debug=debug, id=id, line=line).model_dump(mode="json")
