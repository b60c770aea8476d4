"""The MCP server on a web app: streamable HTTP at ``/mcp``, over the app's live index."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from mcp.server.streamable_http_manager import StreamableHTTPASGIApp
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.routing import Route

from rag.api.service import Service
from rag.mcp.server import build_server

MCP_PATH = "/mcp"
# DNS-rebinding protection, as the SDK sets it for a server on this machine: a web page
# from another site cannot reach /mcp through a name that resolves to 127.0.0.1
LOOPBACK = TransportSecuritySettings(
    enable_dns_rebinding_protection=True,
    allowed_hosts=["127.0.0.1:*", "localhost:*", "[::1]:*"],
    allowed_origins=["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"],
)
Lifespan = Callable[[Any], AbstractAsyncContextManager[Any]]


def mount_mcp(app: Starlette, service: Service, *, path: str = MCP_PATH) -> None:
    """Serve the MCP tools at ``path`` of ``app`` (streamable HTTP); their session manager
    runs inside ``app``'s lifespan. Call before anything is mounted at ``/``."""
    server = build_server(service)
    server.streamable_http_app(streamable_http_path=path, transport_security=LOOPBACK)
    sessions = server.session_manager
    app.router.routes.append(Route(path, StreamableHTTPASGIApp(sessions), include_in_schema=False))
    outer: Lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(scope_app: Any) -> AsyncIterator[Any]:
        async with outer(scope_app) as state, sessions.run():
            yield state

    app.router.lifespan_context = lifespan
