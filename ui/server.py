"""The web server: the chat, the API, private memo downloads and an upload guard on one app.

Every browser gets a random, HttpOnly session cookie on its first request; memos are
stored and served per session (:mod:`ui.memos`). The REST API (:mod:`rag.api`) is at
``/api/v1`` with its OpenAPI document at ``/openapi.json`` (browsed at ``/docs``).
Gradio's upload endpoint is refused unless the server takes library writes and the
browser session has proved the admin token; then files up to the library's size limit
are accepted.
"""

from __future__ import annotations

import secrets
import threading
import time
import warnings
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from http.cookies import CookieError, SimpleCookie
from typing import Any

import gradio as gr
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from rag.api.service import Service
from ui.memos import MemoStore

SESSION_COOKIE = "rag_session"
MAX_UPLOAD = "1mb"
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def session_of(headers: Any) -> str:
    """The session cookie's value in request headers (empty when absent)."""
    cookie = SimpleCookie()
    try:
        cookie.load(headers.get("cookie", "") or "")
    except CookieError:  # a malformed Cookie header carries no session
        return ""
    morsel = cookie.get(SESSION_COOKIE)
    return morsel.value if morsel else ""


def _no_uploads(session: str) -> bool:
    return False


class SessionAndUploadGuard:
    """ASGI middleware: give each browser a session cookie (and let this very request see
    it), and refuse uploads to Gradio's upload endpoint unless ``may_upload(session)``."""

    def __init__(self, app: ASGIApp, *,
                 may_upload: Callable[[str], bool] = _no_uploads) -> None:
        self.app = app
        self.may_upload = may_upload

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        if scope["method"] == "POST" and scope["path"].rstrip("/").endswith("/upload") \
                and not self.may_upload(session_of(headers)):
            await _refuse(send, 403, b"uploads are not accepted: sign in with the admin "
                          b"token on the library page first (a read-only server takes none)")
            return
        if session_of(headers):
            await self.app(scope, receive, send)
            return
        token = secrets.token_urlsafe(32)
        cookie = f"{SESSION_COOKIE}={token}"
        old = headers.get("cookie")
        scope["headers"] = [(k, v) for k, v in scope["headers"] if k != b"cookie"] + [
            (b"cookie", (f"{old}; {cookie}" if old else cookie).encode("latin-1"))]

        async def with_cookie(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (
                    b"set-cookie",
                    f"{cookie}; Path=/; HttpOnly; SameSite=Strict".encode("latin-1"))]
            await send(message)

        await self.app(scope, receive, with_cookie)


async def _refuse(send: Send, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
    await send({"type": "http.response.body", "body": body})


def make_app(demo: gr.Blocks, *, memos: MemoStore, service: Service | None = None) -> FastAPI:
    """The chat mounted at ``/`` with the memo download route beside it, and with
    ``service`` the API at ``/api/v1`` (OpenAPI at ``/openapi.json``, ``/docs``)."""
    api = service is not None
    app = FastAPI(title="合规问答 · Compliance Q&A", docs_url="/docs" if api else None,
                  redoc_url=None, openapi_url="/openapi.json" if api else None)
    if service is not None:
        from rag.api.app import install_api
        from rag.mcp.http import mount_mcp

        install_api(app, service)
        mount_mcp(app, service)  # MCP over streamable HTTP at /mcp, the same live index

    @app.get("/memo/{memo_id}/{name}", include_in_schema=False)
    def download(memo_id: str, name: str, request: Request) -> FileResponse:
        path = memos.find(session_of(request.headers), memo_id, name)
        if path is None:
            raise HTTPException(404, "No such memo in this browser session (memos are "
                                     "private and expire): export it again.")
        return FileResponse(path, filename=name, background=BackgroundTask(memos.consumed, path),
                            headers={"Cache-Control": "no-store"})

    blocked = [str(memos.root)]
    library = service.library if service is not None else None
    if library is not None:
        blocked.append(str(library.root))  # uploads are never served back
    admin = service.admin if service is not None and service.writes else None
    max_size: int | str = library.max_bytes if admin is not None and library else MAX_UPLOAD
    with warnings.catch_warnings():  # SSR is off anyway; Gradio warns for multi-page apps
        warnings.filterwarnings("ignore", message="SSR mode is not supported")
        app = gr.mount_gradio_app(app, demo, path="/", max_file_size=max_size,
                                  ssr_mode=False, show_error=True, blocked_paths=blocked)
    app.add_middleware(SessionAndUploadGuard,
                       may_upload=admin.granted if admin is not None else _no_uploads)
    return app


def serve_app(app: FastAPI, *, host: str, port: int) -> None:
    """Serve ``app`` until Ctrl+C."""
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_level="warning")


@contextmanager
def serving(app: FastAPI, *, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``app`` from a background thread (tests, benchmarks); yields its base URL.
    ``port`` 0 picks a free one."""
    import uvicorn

    # an open stream (a browser's or gradio_client's heartbeat) is cut after 3 s at exit
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                           timeout_graceful_shutdown=3))
    thread = threading.Thread(target=server.run, name="rag-chat-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the chat server did not start on {host}:{port}")
        time.sleep(0.05)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{bound}/"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
