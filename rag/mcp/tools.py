"""The MCP tools and resources as plain calls over a :class:`~rag.api.service.Service`.

Each takes the live index once (so one call sees one index generation) and calls the
library the REST API calls; bad input raises :class:`ToolError` with what to do.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
from pydantic import Field

from rag.answer import MAX_TOP, Answer, answer
from rag.answer.compare import compare_named
from rag.answer.records import (
    ISO_DATE,
    AnswerRecord,
    CitationRecord,
    ComparisonRecord,
    FiltersRecord,
    Kind,
)
from rag.api.live import IndexNotReady
from rag.api.models import ClauseDetail, DocumentDetail, DocumentList
from rag.api.service import Service
from rag.api.views import clause_detail, document_detail, list_documents
from rag.core.clauses import Clause
from rag.core.filters import Filters
from rag.index import StoreError
from rag.mcp.records import ArticleComparison, SearchResult
from rag.search import Index, find_named, resolve
from rag.search.hybrid import MAX_QUESTION_CHARS

MAX_NAME_CHARS = 200  # a clause id, a citation string, an article, a title query

Question = Annotated[str, Field(min_length=1, max_length=MAX_QUESTION_CHARS,
                                description="the question, Chinese or English")]
Top = Annotated[int, Field(ge=1, le=MAX_TOP, description="how many clauses to return")]
Date = Annotated[str | None, Field(pattern=ISO_DATE, description="YYYY-MM-DD")]
Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME_CHARS)]


class Tools:
    """The tools and resources one server offers over ``service``'s live index."""

    def __init__(self, service: Service) -> None:
        self.service = service

    def _index(self, failure: type[Exception] = ToolError) -> Index:
        try:
            return self.service.live.index
        except IndexNotReady as error:
            raise failure(str(error)) from None

    def _filters(self, record: FiltersRecord | None, index: Index) -> Filters:
        try:
            return index.check(Filters(**(record or FiltersRecord()).model_dump()))
        except ValueError as error:
            raise ToolError(f"invalid filters: {error}") from None

    def _answer(self, question: str, top: int, filters: FiltersRecord | None) -> Answer:
        index = self._index()
        checked = self._filters(filters, index)
        try:
            with self.service.slots:
                return answer(question, index=index, encoder=self.service.encoder, k=top,
                              filters=checked)
        except ValueError as error:
            raise ToolError(f"invalid question: {error}") from None
        except StoreError as error:
            raise ToolError(f"the index could not be read: {error}") from None

    # ------------------------------------------------------------ tools

    def ask(self, question: Question, top: Top = 5, filters: FiltersRecord | None = None,
            debug: Annotated[bool, Field(description="fill the debug block: each citation's "
                                         "per-channel scores and ranks")] = False,
            ) -> AnswerRecord:
        return AnswerRecord.of(self._answer(question, top, filters), debug=debug)

    def search_clauses(self, question: Question, top: Top = 5,
                       filters: FiltersRecord | None = None) -> SearchResult:
        found = self._answer(question, top, filters)
        return SearchResult.of(found, [CitationRecord.model_validate(c) for c in found.citations])

    def get_clause(self, clause: Annotated[Name, Field(
                       description="a clause id (证券法-2019-12-28#art191) or a citation "
                       "naming one (《证券法》第一百九十一条, Article 191 of the Securities Law)")],
                   as_of: Annotated[Date, Field(description="versions in force on this date "
                                                "(YYYY-MM-DD); default today")] = None,
                   ) -> ClauseDetail:
        index = self._index()
        day = _day(as_of)
        clause_id = clause.strip()
        if clause_id not in index.row_of:
            found = named_clause(index, clause_id, day)
            if found is None:
                raise ToolError(
                    f"no clause {clause_id!r} in the index: give a clause id as search_clauses "
                    "returns it (证券法-2019-12-28#art191) or a document and article "
                    "(《证券法》第一百九十一条)")
            clause_id = found.id
        detail = clause_detail(clause_id, index, owned=self.service.owned, as_of=as_of)
        assert detail is not None  # the id is in the index
        return detail

    def compare_versions(
        self,
        article: Annotated[Name, Field(description="a law and article, e.g. 公司法第四十九条")],
        date_from: Annotated[Date, Field(description="compare with the version in force on "
                                         "this date (default: the nearest other version)")
                             ] = None,
        date_to: Annotated[Date, Field(description="the version in force on this date "
                                       "(default: today)")] = None,
        numbering: Annotated[Literal["to", "from"], Field(
            description="whose article number `article` gives: the date_to version's "
            "(default) or the date_from version's")] = "to",
    ) -> ArticleComparison:
        index = self._index()
        for day in (date_from, date_to):
            _day(day)  # a date no calendar has (2024-02-30) is refused, saying so
        try:
            compared = compare_named(index, article, date_from=date_from, date_to=date_to,
                                     numbering=numbering)
        except ValueError as error:
            raise ToolError(str(error)) from None
        title = index.documents[compared.newer.doc_id].title
        record = ComparisonRecord.model_validate(compared)
        return ArticleComparison(article=article, document=title, **dict(record))

    def list_documents(
        self,
        query: Annotated[str, Field(max_length=MAX_NAME_CHARS, description="words in the "
                                    "title, id or file name (empty: every document)")] = "",
        kinds: Annotated[list[Kind], Field(  # type: ignore[valid-type]
            description="only these kinds (empty: all)")] | None = None,
        date_from: Annotated[Date, Field(description="version date on or after")] = None,
        date_to: Annotated[Date, Field(description="version date on or before")] = None,
        as_of: Annotated[Date, Field(description="status as on this date")] = None,
        offset: Annotated[int, Field(ge=0)] = 0,
        limit: Annotated[int, Field(ge=1, le=1000)] = 100,
    ) -> DocumentList:
        index = self._index()
        filters = self._filters(FiltersRecord(kinds=kinds or [], date_from=date_from,
                                              date_to=date_to, as_of=as_of), index)
        return list_documents(index, filters, owned=self.service.owned, query=query,
                              offset=offset, limit=limit)

    # ------------------------------------------------------------ resources

    def clause_resource(self, clause_id: str) -> ClauseDetail:
        index = self._index(ResourceError)
        detail = clause_detail(clause_id, index, owned=self.service.owned)
        if detail is None:
            raise ResourceNotFoundError(f"no clause {clause_id!r} in the index (ids look like "
                           "证券法-2019-12-28#art191; search_clauses finds them)")
        return detail

    def document_resource(self, doc_id: str) -> DocumentDetail:
        index = self._index(ResourceError)
        doc = index.documents.get(doc_id)
        if doc is None:
            raise ResourceNotFoundError(f"no document {doc_id!r} in the index; "
                                        "list_documents lists them")
        return document_detail(doc, index, owned=self.service.owned)


def _day(value: str | None) -> dt.date | None:
    """An ISO date (already shaped YYYY-MM-DD), or ToolError for one no calendar has."""
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ToolError(f"{value!r} is not a date: use YYYY-MM-DD, e.g. 2024-07-01") from None


def named_clause(index: Index, text: str, day: dt.date | None = None) -> Clause | None:
    """The clause ``text`` names (《证券法》第一百九十一条): in the version in force on
    ``day`` (default today) when several versions hold it, else the newest."""
    found = resolve(find_named(text, index.documents.values()), index.by_label)
    if not found:
        return None
    table = index.versions(day)
    preferred = [c for c in found if (info := table.get(c.doc_id)) and info.preferred]
    if preferred:
        return preferred[0]
    return max(found, key=lambda c: (index.documents[c.doc_id].version or "", -c.start))
