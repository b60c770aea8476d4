"""API errors: JSON ``{"error": …, "detail": …}`` with a status that says whose fault it is.

400 bad input (the detail names the field and the valid values), 401 no or wrong admin
token, 403 a write the library refuses, 404 unknown clause, document or endpoint, 409 a
re-index that cannot start, 413 too large, 503 index not ready. An unexpected failure
is one line, never a traceback.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from rag.api.models import ErrorRecord

API_PREFIX = "/api/"


class ApiError(Exception):
    """An error response: status, what went wrong, what to do."""

    def __init__(self, status: int, error: str, detail: str, *,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(f"{status} {error}: {detail}")
        self.status = status
        self.error = error
        self.detail = detail
        self.headers = dict(headers or {})


def admin_token_required(detail: str = "send the token given to `rag serve "
                         "--admin-token-file` as `Authorization: Bearer TOKEN`") -> ApiError:
    """401 for an admin route called without the admin token (with the Bearer challenge)."""
    return ApiError(401, "admin token required", detail, headers={"WWW-Authenticate": "Bearer"})


def one_line(text: object) -> str:
    return " ".join(str(text).split())


def error_response(status: int, error: str, detail: str,
                   headers: Mapping[str, str] | None = None) -> JSONResponse:
    body = ErrorRecord(error=one_line(error), detail=one_line(detail))
    return JSONResponse(body.model_dump(), status_code=status, headers=dict(headers or {}))


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error statuses an operation can answer with."""
    what = {400: "Bad input: the detail names the field and the valid values",
            401: "No or wrong admin token (Authorization: Bearer TOKEN)",
            403: "The library refuses this change (e.g. a corpus file it did not add)",
            404: "Unknown clause, document or endpoint",
            409: "The index cannot be re-indexed now (a source is missing, or another "
                 "build holds it)",
            413: "The request body is too large",
            503: "The index is not ready yet (first build) or cannot be read"}
    return {status: {"model": ErrorRecord, "description": what[status]} for status in statuses}


def validation_detail(errors: Sequence[Any]) -> str:
    parts = []
    for error in errors[:4]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    more = f" (and {len(errors) - 4} more)" if len(errors) > 4 else ""
    return "; ".join(parts) + more + "; the request schema is at /openapi.json"


def install_handlers(app: FastAPI) -> None:
    """JSON errors for ``/api/…`` paths; other paths keep their own."""

    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return error_response(exc.status, exc.error, exc.detail, exc.headers)

    async def invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return error_response(400, "invalid request", validation_detail(exc.errors()))

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if not request.url.path.startswith(API_PREFIX):
            return await http_exception_handler(request, exc)
        return error_response(exc.status_code, "request refused", str(exc.detail),
                              exc.headers)

    async def crashed(request: Request, exc: Exception) -> Response:
        what = f"{type(exc).__name__}: {one_line(exc)}"[:300]
        if not request.url.path.startswith(API_PREFIX):
            return PlainTextResponse(f"Internal Server Error ({what})", status_code=500)
        return error_response(500, "server error", f"{what}; the server log has the details "
                              "— try again, and report it if it persists")

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, crashed)
