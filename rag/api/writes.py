"""The write endpoints, registered only when the server has an admin token.

``POST /documents`` (multipart files), ``DELETE /documents/{doc_id}`` and ``POST
/reindex`` each need ``Authorization: Bearer TOKEN``; the token is checked before the
request body is read. Each answers 202 with the re-index it started: answers keep coming
from the previous generation until the new one is swapped in.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from rag.api.errors import ApiError, admin_token_required, responses
from rag.api.library import NotInLibrary
from rag.api.models import RefusedFile, ReindexStatus, RemoveResult, StoredFile, UploadResult
from rag.api.routes import current
from rag.api.service import Service, UnknownDocument
from rag.api.views import status_record

MAX_FILES = 20
UPLOAD_FIELD = "files"
_bearer = HTTPBearer(auto_error=False, description="the token given to `rag serve "
                     "--admin-token-file`")


def upload_limit(service: Service) -> int:
    """The largest upload request: every file at the size limit, plus form overhead."""
    per_file = service.library.max_bytes if service.library else 0
    return MAX_FILES * (per_file + 64 * 1024)


def write_routes(service: Service) -> APIRouter:
    admin = service.admin
    assert admin is not None and service.library is not None  # only made when writes exist

    def require_admin(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> None:
        if credentials is None or not admin.check(credentials.credentials):
            raise admin_token_required()

    router = APIRouter(dependencies=[Depends(require_admin)])

    def conflict(error: ValueError) -> ApiError:
        return ApiError(409, "cannot re-index now", str(error))

    @router.post(
        "/documents", status_code=202, response_model=UploadResult,
        responses=responses(400, 401, 409, 413),
        summary="Add files to the library (multipart field `files`, several at once)",
        openapi_extra={"requestBody": {"required": True, "content": {"multipart/form-data": {
            "schema": {"type": "object", "required": [UPLOAD_FIELD], "properties": {
                UPLOAD_FIELD: {"type": "array", "maxItems": MAX_FILES,
                               "items": {"type": "string", "format": "binary"}}}}}}}},
    )
    async def add(request: Request) -> UploadResult:
        form = await request.form(max_files=MAX_FILES, max_fields=MAX_FILES)
        try:
            files = [v for v in form.getlist(UPLOAD_FIELD) if isinstance(v, UploadFile)]
            if not files:
                raise ApiError(400, "no files", f"send the files as multipart/form-data, "
                               f"field {UPLOAD_FIELD!r} (up to {MAX_FILES} at once)")
            uploads = [(f.filename or "", f.file) for f in files]
            try:
                stored, refused, status = await run_in_threadpool(service.add_files, uploads)
            except ValueError as error:
                raise conflict(error) from None
        finally:
            await form.close()
        return UploadResult(
            stored=[StoredFile(name=s.name, bytes=s.bytes, doc_id=s.document.doc_id,
                               title=s.document.title) for s in stored],
            refused=[RefusedFile(name=r.name, reason=r.reason) for r in refused],
            reindex=status_record(status))

    @router.delete("/documents/{doc_id:path}", status_code=202, response_model=RemoveResult,
                   responses=responses(401, 403, 404, 409, 503),
                   summary="Remove a document the library added, and re-index")
    def remove(doc_id: str) -> RemoveResult:
        current(service)  # 503 before the first build
        try:
            document, path, status = service.remove(doc_id)
        except UnknownDocument as error:
            raise ApiError(404, "unknown document", str(error)) from None
        except NotInLibrary as error:
            raise ApiError(403, "not a library document", str(error)) from None
        except ValueError as error:
            raise conflict(error) from None
        return RemoveResult(removed=document.doc_id, file=path.name,
                            reindex=status_record(status))

    @router.post("/reindex", status_code=202, response_model=ReindexStatus,
                 responses=responses(401, 409),
                 summary="Re-read every source of the index (answers use the previous "
                 "generation until the new one is swapped in)")
    def reindex() -> ReindexStatus:
        try:
            return status_record(service.reindex())
        except ValueError as error:
            raise conflict(error) from None

    return router
