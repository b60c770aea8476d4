"""The MCP tools' own output records; the rest are the answer records and the API's."""

from __future__ import annotations

from pydantic import Field

from rag.answer import Answer
from rag.answer.records import (
    STATUS_CODES,
    CitationRecord,
    ComparisonRecord,
    Record,
    Status,
    StatusLabel,
    label_field,
)


def resource_uri(scheme: str, identifier: str) -> str:
    """``clause://<id>`` or ``document://<id>``, with ``%`` and ``#`` percent-encoded."""
    return f"{scheme}://" + identifier.replace("%", "%25").replace("#", "%23")


class ClauseHit(Record):
    """One clause found for a question: enough to cite it, and to fetch it whole."""

    rank: int = Field(description="1-based")
    clause_id: str = Field(description="stable id, e.g. 证券法-2019-12-28#art191; "
                           "get_clause gives the whole clause")
    uri: str = Field(description="the clause as a resource: clause://<clause_id>, its # "
                     "written %23")
    doc_id: str
    citation: str = Field(description="the formal citation string; cite it as given")
    quote: str = Field(description="verbatim: the document text [start:end]; quote it as given")
    start: int
    end: int
    score: float
    status: Status | None = Field(description=STATUS_CODES)
    status_label: StatusLabel = label_field()
    low_confidence: bool = Field(description="true when this is only a near candidate")

    @classmethod
    def of(cls, citation: CitationRecord) -> ClauseHit:
        return cls(rank=citation.rank, clause_id=citation.clause_id,
                   uri=resource_uri("clause", citation.clause_id), doc_id=citation.doc_id,
                   citation=citation.citation, quote=citation.text, start=citation.start,
                   end=citation.end, score=citation.score, status=citation.status,
                   low_confidence=citation.low_confidence)


class SearchResult(Record):
    """The clauses that govern a question, lightest form (``ask`` gives the full record)."""

    question: str
    answered: bool = Field(description="false when no clause answers well enough; the hits "
                           "are then only the nearest candidates")
    message: str | None = Field(description="the verdict shown to users")
    hits: list[ClauseHit]

    @classmethod
    def of(cls, answer: Answer, citations: list[CitationRecord]) -> SearchResult:
        return cls(question=answer.question, answered=answer.answered, message=answer.message,
                   hits=[ClauseHit.of(c) for c in citations])


class ArticleComparison(ComparisonRecord):
    """An article beside the same article in another version of its law (as ``rag diff``)."""

    article: str = Field(description="the article as named in the request")
    document: str = Field(description="the law's title")
