"""The web server: the chat, private memo downloads and an upload guard on one FastAPI app.

Every browser gets a random, HttpOnly session cookie on its first request; memos are
stored and served per session (:mod:`ui.memos`). Gradio's upload endpoint is refused —
nothing in the chat takes files — and its size limit is small all the same.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from http.cookies import CookieError, SimpleCookie
from typing import Any

import gradio as gr
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

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


class SessionAndUploadGuard:
    """ASGI middleware: give each browser a session cookie (and let this very request see
    it), and refuse uploads to Gradio's upload endpoint."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] == "POST" and scope["path"].rstrip("/").endswith("/upload"):
            await _refuse(send, 403, b"uploads are not accepted by this server")
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
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


def make_app(demo: gr.Blocks, *, memos: MemoStore) -> FastAPI:
    """The chat mounted at ``/`` with the memo download route beside it."""
    app = FastAPI(title="合规问答 · Compliance Q&A", docs_url=None, redoc_url=None,
                  openapi_url=None)

    @app.get("/memo/{memo_id}/{name}", include_in_schema=False)
    def download(memo_id: str, name: str, request: Request) -> FileResponse:
        path = memos.find(session_of(request.headers), memo_id, name)
        if path is None:
            raise HTTPException(404, "No such memo in this browser session (memos are "
                                     "private and expire): export it again.")
        return FileResponse(path, filename=name, background=BackgroundTask(memos.consumed, path),
                            headers={"Cache-Control": "no-store"})

    app = gr.mount_gradio_app(app, demo, path="/", max_file_size=MAX_UPLOAD, ssr_mode=False,
                              show_error=True, blocked_paths=[str(memos.root)])
    app.add_middleware(SessionAndUploadGuard)
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

    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
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
