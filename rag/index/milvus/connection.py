"""A Milvus server for one index: its URI, a lazy client, and server errors as one line.

``milvus://HOST:PORT/NAME`` (``milvus+https://`` for TLS) names a Milvus server (Lite,
Standalone or Distributed speak the same API) and the prefix ``NAME`` of the collections
one index lives in. A token for servers with authentication comes from the environment
variable ``MILVUS_TOKEN`` (``user:password`` or an API key), never from the URI, so it is
not written into manifests or logs.

Every call goes through :meth:`Connection.call`: a refused connection, a timeout or a
server that stopped mid-use becomes a :class:`~rag.index.backend.StoreError` saying what
to do, the client is dropped and the next call connects afresh (a server that came back
is used again); a collection the server has released since it restarted is loaded again.
pymilvus is imported on first use only: the default (embedded) path never loads it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from rag.core.locations import MILVUS_SCHEMES
from rag.index.backend import StoreError

SCHEMES = MILVUS_SCHEMES
DEFAULT_TIMEOUT = 30.0
TOKEN_VARIABLE = "MILVUS_TOKEN"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,150}")
_ADDRESS = re.compile(r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-]+):(?P<port>\d{1,5})")
# MilvusException codes and messages that mean "the server is not there (any more)"
_UNREACHABLE = ("fail connecting", "unavailable", "deadline", "connection refused",
                "failed to connect", "timed out", "timeout", "socket closed", "closed channel")
_RELEASED = ("released", "not loaded", "call load()")

T = TypeVar("T")


@dataclass(frozen=True)
class MilvusLocation:
    """Where an index lives on a Milvus server."""

    host: str
    port: int
    name: str
    secure: bool = False

    @classmethod
    def parse(cls, uri: str) -> MilvusLocation:
        """``milvus://HOST:PORT/NAME`` as a location, else ValueError showing the form."""
        form = "milvus://HOST:PORT/NAME (e.g. milvus://127.0.0.1:19530/compliance)"
        scheme = next((s for s in SCHEMES if uri.startswith(s)), None)
        if scheme is None:
            raise ValueError(f"{uri!r} is not a Milvus URI; use {form}")
        address, _, name = uri[len(scheme):].partition("/")
        match = _ADDRESS.fullmatch(address)
        if match is None or not 0 < int(match["port"]) < 65536:
            raise ValueError(f"{uri}: no HOST:PORT after {scheme}; use {form}")
        name = name.rstrip("/")
        if not _NAME.fullmatch(name):
            raise ValueError(
                f"{uri}: collection name {name!r} must start with a letter or _ and hold only "
                f"letters, digits and _ (at most 151); use {form}"
            )
        return cls(match["host"].strip("[]"), int(match["port"]), name,
                   scheme == "milvus+https://")

    @property
    def uri(self) -> str:
        scheme = SCHEMES[1] if self.secure else SCHEMES[0]
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}{host}:{self.port}/{self.name}"

    @property
    def endpoint(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.secure else 'http'}://{host}:{self.port}"


def _quiet_pymilvus() -> None:
    """pymilvus logs every failed call with a traceback; our callers get one line."""
    logging.getLogger("pymilvus").setLevel(logging.CRITICAL + 1)


class Connection:
    """A lazily connected client to the server of ``location``."""

    def __init__(self, location: MilvusLocation, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.location = location
        self.timeout = timeout
        self._client: Any = None
        self.reload: Callable[[Any], None] | None = None  # loads released collections

    def _unreachable(self, detail: str) -> StoreError:
        where = self.location
        return StoreError(
            f"{where.uri}: the Milvus server at {where.host}:{where.port} is not answering "
            f"({detail}); start it (for a local test server: `milvus-lite server --data-dir "
            f"DIR --host {where.host} --port {where.port}`) or check the deployment, then "
            "try again"
        )

    def client(self) -> Any:
        if self._client is None:
            try:
                from pymilvus import MilvusClient
                from pymilvus.exceptions import MilvusException
            except ImportError:
                raise StoreError(
                    f"{self.location.uri}: the Milvus backend needs pymilvus; install it with "
                    "`pip install 'rag-compliance[scale]'`"
                ) from None
            _quiet_pymilvus()
            try:
                # a channel of its own: after a failure it is dropped and a new one made,
                # where a shared one would keep reconnecting with growing back-off
                self._client = MilvusClient(uri=self.location.endpoint, timeout=self.timeout,
                                            token=os.environ.get(TOKEN_VARIABLE, ""),
                                            dedicated=True)
            except MilvusException as error:
                raise self._unreachable(_detail(error)) from None
        return self._client

    def call(self, what: str, action: Callable[[Any], T]) -> T:
        """``action(client)``; server errors become one-line StoreErrors (see module)."""
        import grpc
        from pymilvus.exceptions import MilvusException

        for attempt in (1, 2):
            client = self.client()
            try:
                return action(client)
            except (MilvusException, grpc.RpcError) as error:
                detail = _detail(error)
                lowered = detail.lower()
                if any(word in lowered for word in _UNREACHABLE):
                    self.close()
                    raise self._unreachable(detail) from None
                if attempt == 1 and self.reload is not None and any(
                        word in lowered for word in _RELEASED):
                    self.reload(client)  # the server restarted and released it: load again
                    continue
                raise StoreError(f"{self.location.uri}: Milvus refused to {what}: {detail}"
                                 ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            import grpc
            from pymilvus.exceptions import MilvusException

            # a dead channel may fail to close; it is dropped either way
            with contextlib.suppress(MilvusException, grpc.RpcError, ValueError):
                client.close()


def _detail(error: BaseException) -> str:
    """A short reason from a MilvusException or gRPC error."""
    message = getattr(error, "message", None)
    if isinstance(message, str) and message:
        return message.splitlines()[0][:300]
    details = getattr(error, "details", None)
    if callable(details):
        text = details()
        if isinstance(text, str) and text:
            code = getattr(error, "code", None)
            name = getattr(code(), "name", "") if callable(code) else ""
            return f"{name + ': ' if name else ''}{text.splitlines()[0][:300]}"
    return type(error).__name__
