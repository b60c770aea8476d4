"""Mount the API on a FastAPI app: ``/api/v1`` routes, JSON errors, body limits, OpenAPI.

The OpenAPI document (``/openapi.json``, browsed at ``/docs``) is the contract the tests
check responses against; write operations appear in it only on a server that has them.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi

from rag.api.errors import ApiError, install_handlers
from rag.api.guard import BodyLimit
from rag.api.routes import read_routes
from rag.api.service import MAX_JSON_BYTES, Service
from rag.api.writes import upload_limit, write_routes
from rag.core.version import __version__

PREFIX = "/api/v1"
TITLE = "合规问答 · Compliance Q&A API"
DESCRIPTION = (
    "Answers quote the governing clauses verbatim — every `text` is "
    "`document.text[start:end]` of the document revision whose sha256 the citation "
    "carries — with formal citations, highlights (offsets into the quote), pages, and "
    "the index generation (`audit`) an answer came from. Errors are "
    '`{"error": …, "detail": …}`. Library writes need `Authorization: Bearer TOKEN` and '
    "exist only on a server started with `rag serve --admin-token-file FILE`."
)
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


def api_router(service: Service) -> APIRouter:
    """Every ``/api/v1`` route this server has (write routes only with writes)."""
    router = APIRouter(prefix=PREFIX)
    router.include_router(read_routes(service), tags=["questions and documents"])
    if service.writes:
        router.include_router(write_routes(service), tags=["library (admin)"])
    if service.feedback is not None:
        from rag.api.feedback import feedback_routes

        router.include_router(feedback_routes(service), tags=["feedback"])

    @router.api_route("/{rest:path}", methods=METHODS, include_in_schema=False)
    def no_such_endpoint(rest: str) -> None:
        raise ApiError(404, "no such endpoint", f"{PREFIX}/{rest} is not an endpoint of "
                       "this server with this method (a read-only server has no write "
                       "endpoints); the endpoints are listed at /openapi.json")

    return router


def install_api(app: FastAPI, service: Service) -> None:
    """Add the API to ``app`` (before anything mounted at ``/``)."""
    app.include_router(api_router(service))
    install_handlers(app)
    uploads = upload_limit(service)

    def limit_for(method: str, path: str) -> int | None:
        if not path.startswith(PREFIX) or method in ("GET", "HEAD", "OPTIONS"):
            return None
        return uploads if path == f"{PREFIX}/documents" and method == "POST" \
            else MAX_JSON_BYTES

    app.add_middleware(BodyLimit, limit_for=limit_for)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=TITLE, version=__version__, description=DESCRIPTION,
                                 routes=app.routes)
            app.openapi_schema = _without_422(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _without_422(schema: dict[str, Any]) -> dict[str, Any]:
    """FastAPI documents 422 for invalid input; this API answers 400 (documented). Errors
    are JSON even where the success is JSON lines."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            answers = operation.get("responses", {})
            answers.pop("422", None)
            for status, response in answers.items():
                content = response.get("content", {})
                for media in list(content):
                    entry = content[media]
                    if "$ref" in entry.get("schema", {}):
                        entry["schema"].pop("type", None)  # a stream, but of these records
                    if not status.startswith("2") and media != "application/json":
                        content["application/json"] = content.pop(media)
    components = schema.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    return schema
