"""The read endpoints: ask, batch (JSON lines, streamed), clauses, documents, health, version.

Each request takes the live index once, so it is answered from one generation even when
a re-index swaps in the next meanwhile. Answers are computed by :func:`rag.answer.answer`
and :func:`rag.answer.answer_many`, the calls the CLI and the chat make.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import Response, StreamingResponse

from rag.answer import Answer, answer, answer_many
from rag.answer.records import DATE_SCHEMA, ISO_DATE, AnswerRecord, FiltersRecord, Kind
from rag.api.errors import ApiError, responses
from rag.api.live import IndexNotReady
from rag.api.models import (
    AskRequest,
    BatchQuestion,
    BatchRequest,
    ClauseDetail,
    DocumentDetail,
    DocumentList,
    Health,
    ReindexStatus,
    VersionInfo,
)
from rag.api.service import Service
from rag.api.views import (
    clause_detail,
    document_detail,
    list_documents,
    status_record,
    version_info,
)
from rag.core.filters import Filters
from rag.export.records import json_line
from rag.export.register import register_bytes, register_rows
from rag.index import StoreError
from rag.search import Index

Date = Annotated[str | None, Query(pattern=ISO_DATE, description="YYYY-MM-DD",
                                   json_schema_extra=DATE_SCHEMA)]


REGISTER_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "jsonl": "application/x-ndjson",
}


class JSONLinesResponse(StreamingResponse):
    media_type = "application/x-ndjson"


def current(service: Service) -> Index:
    """The index answering now, or 503 saying why there is none."""
    try:
        return service.live.index
    except IndexNotReady as error:
        raise ApiError(503, "index not ready", f"{error}; GET /api/v1/health says when it is",
                       headers={"Retry-After": "10"}) from None


def checked(filters: FiltersRecord | Filters, index: Index) -> Filters:
    """Filters validated against the index (400 naming the valid choices)."""
    try:
        if isinstance(filters, FiltersRecord):
            filters = Filters(**filters.model_dump())
        return index.check(filters)
    except ValueError as error:
        raise ApiError(400, "invalid filters", str(error)) from None


def unreadable(error: StoreError) -> ApiError:
    return ApiError(503, "index unavailable", str(error))


def read_routes(service: Service) -> APIRouter:
    router = APIRouter()

    @router.post("/ask", response_model=AnswerRecord, responses=responses(400, 503),
                 summary="Answer one question with the verbatim clauses that govern it")
    def ask(body: AskRequest) -> AnswerRecord:
        index = current(service)
        filters = checked(body.filters, index)
        try:
            with service.slots:
                result = answer(body.question, index=index, encoder=service.encoder,
                                k=body.top, filters=filters)
        except ValueError as error:
            raise ApiError(400, "invalid question", str(error)) from None
        except StoreError as error:
            raise unreadable(error) from None
        return AnswerRecord.of(result, debug=body.debug)

    @router.post("/batch", response_class=JSONLinesResponse, responses={
        200: {"model": AnswerRecord, "description": "one AnswerRecord per line, in order, "
              "each sent as soon as it is answered (application/x-ndjson)"},
        **responses(400, 503)},
        summary="Answer many questions; JSON lines, streamed")
    def batch(body: BatchRequest) -> JSONLinesResponse:
        index = current(service)
        filters = checked(body.filters, index)
        items = [(q.id if q.id is not None else str(n), q.question)
                 if isinstance(q, BatchQuestion) else (str(n), q)
                 for n, q in enumerate(body.questions, 1)]
        return JSONLinesResponse(_lines(service, index, items, top=body.top, filters=filters,
                                         debug=body.debug))

    @router.get("/clauses/{clause_id:path}", response_model=ClauseDetail,
                responses=responses(400, 404, 503),
                summary="A clause, its document, its versions and what it refers to")
    def clause(clause_id: str, as_of: Date = None) -> ClauseDetail:
        index = current(service)
        if as_of:  # a date the calendar lacks is a 400 naming it, as on /ask and /documents
            try:
                checked(Filters(as_of=as_of), index)
            except ValueError as error:
                raise ApiError(400, "invalid filters", str(error)) from None
        found = clause_detail(clause_id, index, owned=service.owned, as_of=as_of)
        if found is None:
            raise ApiError(404, "unknown clause", f"no clause {clause_id!r} in the index "
                           "(ids look like 证券法-2019-12-28#art191, with # sent as %23)")
        return found

    @router.get("/documents", response_model=DocumentList, responses=responses(400, 503),
                summary="The documents in the index, filtered")
    def documents(
        *,
        q: Annotated[str, Query(max_length=200, description="words in the title, id or "
                                "file name")] = "",
        doc_id: Annotated[list[str], Query(default_factory=list)],
        kind: Annotated[list[Kind], Query(default_factory=list)],  # type: ignore[valid-type]
        date_from: Date = None, date_to: Date = None, as_of: Date = None,
        library: Annotated[bool | None, Query(description="only uploaded (true) or only "
                                              "corpus (false) documents")] = None,
        offset: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> DocumentList:
        index = current(service)
        try:
            filters = Filters(doc_ids=tuple(doc_id), kinds=tuple(kind),
                              date_from=date_from, date_to=date_to, as_of=as_of)
        except ValueError as error:
            raise ApiError(400, "invalid filters", str(error)) from None
        return list_documents(index, filters, owned=service.owned, query=q, library=library,
                              offset=offset, limit=limit)

    @router.get("/documents/{doc_id:path}", response_model=DocumentDetail,
                responses=responses(404, 503),
                summary="A document's text with its headings and clauses")
    def document(doc_id: str) -> DocumentDetail:
        index = current(service)
        doc = index.documents.get(doc_id)
        if doc is None:
            raise ApiError(404, "unknown document", f"no document {doc_id!r} in the index; "
                           "GET /api/v1/documents lists them")
        return document_detail(doc, index, owned=service.owned)

    @router.get("/duties/{doc_id:path}", response_class=Response,
                responses={**responses(400, 404, 503), 200: {
                    "description": "the register file",
                    "content": {media: {"schema": {"type": "string", "format": "binary"}}
                                for media in REGISTER_TYPES.values()}}},
                summary="A document's register of duties (one row per duty sentence, "
                "verbatim with offsets, modality, actors and penalty links)")
    def duties(doc_id: str, format: Annotated[
            Literal["xlsx", "csv", "docx", "jsonl"],
            Query(description="the file format")] = "xlsx") -> Response:
        index = current(service)
        if doc_id not in index.documents:
            raise ApiError(404, "unknown document", f"no document {doc_id!r} in the index; "
                           "GET /api/v1/documents lists them")
        data = register_bytes(register_rows(index, doc_ids=[doc_id]), f".{format}")
        name = quote(f"{doc_id}-duties.{format}")
        return Response(data, media_type=REGISTER_TYPES[format], headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{name}"})

    @router.get("/health", response_model=Health, responses=responses(503),
                summary="200 when questions can be answered, else 503")
    def health() -> Health:
        index = current(service)
        return Health(status="ok", documents=len(index.documents), clauses=len(index.clauses),
                      fingerprint=index.manifest.get("corpus_fingerprint"),
                      reindex=status_record(service.live.status()))

    @router.get("/version", response_model=VersionInfo, responses=responses(503),
                summary="Program, index, model and ranking identities")
    def version() -> VersionInfo:
        return version_info(current(service), writes=service.writes)

    @router.get("/reindex", response_model=ReindexStatus,
                summary="Where re-indexing stands (answers use the previous generation "
                "until the new one is swapped in)")
    def reindex_status() -> ReindexStatus:
        return status_record(service.live.status())

    return router


def _lines(service: Service, index: Index, items: list[tuple[str, str]], *, top: int,
           filters: Filters, debug: bool = False) -> Iterator[bytes]:
    """One JSON line per question, in order; a failed question is a row with ``error``."""
    with service.slots:
        outcomes: Iterator[Answer | ValueError] = answer_many(
            (question for _, question in items), index=index, encoder=service.encoder,
            k=top, filters=filters)  # each line streams as it is answered
        broken: str | None = None
        for line, (id_, question) in enumerate(items, 1):
            result: Answer | None = None
            error = broken
            if error is None:
                try:
                    outcome = next(outcomes)
                except StoreError as failure:
                    error = broken = f"the index could not be read: {failure}"
                else:
                    if isinstance(outcome, ValueError):
                        error = str(outcome) or type(outcome).__name__
                    else:
                        result = outcome
            record = AnswerRecord.row(id=id_, line=line, question=question, result=result,
                                      error=error, debug=debug)
            yield (json_line(record.model_dump(mode="json")) + "\n").encode("utf-8")
