"""The web server: the chat, the API and private memo downloads on one app, behind one gate.

Every browser gets a random, HttpOnly session cookie on its first request; memos are
stored and served per session (:mod:`ui.memos`). The REST API (:mod:`rag.api`) is at
``/api/v1`` with its OpenAPI document at ``/openapi.json`` (browsed at ``/docs``).
Gradio is reached only through :class:`ui.gate.GradioGate` (the routes the pages use,
with the API's guards); no route answers cross-origin requests with credentials.
"""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import gradio as gr
from fastapi import FastAPI, HTTPException, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from rag.api.service import Service
from ui.gate import SESSION_COOKIE, GradioGate, session_of
from ui.memos import MemoStore

__all__ = ["SESSION_COOKIE", "make_app", "serve_app", "serving", "session_of"]
MAX_UPLOAD = 1 << 20


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
        if service.feedback is not None:  # hit testing and the feedback review queue
            from ui.review import install_pages

            install_pages(app, service)

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
    max_size = library.max_bytes if admin is not None and library else MAX_UPLOAD
    with warnings.catch_warnings():  # SSR is off anyway; Gradio warns for multi-page apps
        warnings.filterwarnings("ignore", message="SSR mode is not supported")
        app = gr.mount_gradio_app(app, demo, path="/", max_file_size=max_size,
                                  ssr_mode=False, show_error=True, blocked_paths=blocked,
                                  run_history=False)
    # the gate inside, CORS outside: a parent CORSMiddleware also switches off Gradio's own
    # (which answered any localhost origin with credentials); no origin is allowed
    app.add_middleware(GradioGate, parent=app, blocks=demo, max_upload=max_size,
                       **({"may_upload": admin.granted} if admin is not None else {}))
    app.add_middleware(CORSMiddleware, allow_origins=[], allow_credentials=False)
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
