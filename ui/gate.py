"""The one door into Gradio: only the routes the chat and library pages use, each guarded.

Gradio serves many routes of its own (direct runs, file serving, recording uploads, run
history, component servers…) and processes every file reference in an event's data
before any event function runs. :class:`GradioGate` stands in front of the mounted app
and lets through only what the pages need, with the REST API's guards:

* every browser gets a random HttpOnly session cookie; Gradio's ``session_hash`` (chosen by
  the client and visible in queue URLs) is replaced by a keyed hash of the cookie and that
  value, so a conversation belongs to the cookie: the same hash under another cookie is
  another, empty, session;
* an event (``/gradio_api/queue/join``, ``/gradio_api/run/predict`` for the pages'
  unqueued events, or ``/gradio_api/call/NAME``) names a function that
  exists, fits in :data:`MAX_EVENT_BYTES`, carries no text longer than the API's question
  cap, and may reference only files this browser session uploaded (each once) — checked
  before Gradio reads any path;
* uploads need a session signed in with the admin token, and stay under the size limit;
* any other path under Gradio answers 404 JSON; paths the FastAPI app routes itself
  (``/api/v1``, ``/memo``, ``/mcp``, ``/docs``…) pass untouched.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.routing import Match

from rag.api.guard import ASGIApp, Message, Receive, Scope, Send
from rag.search.query import MAX_QUESTION_CHARS

SESSION_COOKIE = "rag_session"
MAX_EVENT_BYTES = 128 * 1024
UPLOAD_TTL = 3600.0
MAX_PENDING_UPLOADS = 64

_PAGES = re.compile(r"^/(library/?)?$")
_STATIC = re.compile(r"^/(assets|static)/(?!.*\.\.)[\w./@-]+$"
                     r"|^/(favicon\.ico|theme\.css|robots\.txt|manifest\.json)$"
                     r"|^/gradio_api/(theme\.css|startup-events|info/?)$|^/config/?$")
_QUEUE_DATA = "/gradio_api/queue/data"
_HEARTBEAT = re.compile(r"^/gradio_api/heartbeat/([^/]{1,200})$")
_CALL_RESULT = re.compile(r"^/gradio_api/call/([\w-]{1,100})/([\w-]{1,100})$")
_UPLOAD_PROGRESS = "/gradio_api/upload_progress"
_JOIN = "/gradio_api/queue/join"
_CALL = re.compile(r"^/gradio_api/call/([^/]{1,100})/?$")
_RUN = "/gradio_api/run/predict"  # the pages' unqueued events (by fn_index)
_UPLOAD = "/gradio_api/upload"


def session_of(headers: Any) -> str:
    """The session cookie's value in request headers (empty when absent)."""
    cookie = SimpleCookie()
    try:
        cookie.load(headers.get("cookie", "") or "")
    except CookieError:  # a malformed Cookie header carries no session
        return ""
    morsel = cookie.get(SESSION_COOKIE)
    return morsel.value if morsel else ""


def _key(session: str) -> str:
    return hashlib.sha256(session.encode("utf-8")).hexdigest()


class Uploads:
    """The files each browser session uploaded and has not used yet (by server path)."""

    def __init__(self, *, ttl: float = UPLOAD_TTL, per_session: int = MAX_PENDING_UPLOADS
                 ) -> None:
        self.ttl = ttl
        self.per_session = per_session
        self._pending: dict[str, dict[str, float]] = {}
        self._lock = threading.Lock()

    def record(self, session: str, paths: Iterable[str]) -> None:
        with self._lock:
            now = time.monotonic()
            self._pending = {k: kept for k, v in self._pending.items()
                             if (kept := {p: t for p, t in v.items() if t > now})}
            mine = self._pending.setdefault(_key(session), {})
            for path in paths:
                mine[path] = now + self.ttl
            while len(mine) > self.per_session:
                mine.pop(next(iter(mine)))

    def claim(self, session: str, path: str) -> bool:
        """Whether ``session`` uploaded ``path`` (and has not used it before)."""
        with self._lock:
            expiry = self._pending.get(_key(session), {}).pop(path, None)
        return expiry is not None and expiry > time.monotonic()


class Refusal(Exception):
    """A request the gate answers itself: status, error, detail."""

    def __init__(self, status: int, error: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.error, self.detail = status, error, detail


def _no_uploads(session: str) -> bool:
    return False


class GradioGate:
    """ASGI middleware in front of a FastAPI app with Gradio mounted at ``/``."""

    def __init__(self, app: ASGIApp, *, parent: Any, blocks: Any,
                 may_upload: Callable[[str], bool] = _no_uploads,
                 max_upload: int = 1 << 20, uploads: Uploads | None = None) -> None:
        self.app = app
        self.parent = parent  # the FastAPI app: its own routes pass untouched
        self.blocks = blocks
        self.may_upload = may_upload
        self.max_upload = max_upload
        self.uploads = uploads or Uploads()
        self._secret = secrets.token_bytes(32)

    # ------------------------------------------------------------------ routing

    def _parents(self, scope: Scope) -> bool:
        for route in self.parent.routes:
            if getattr(route, "app", None) is not None and getattr(route, "path", "") == "":
                continue  # the Gradio mount at "/"
            match, _ = route.matches(scope)
            if match != Match.NONE:
                return True
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "websocket" and not self._parents(scope):
                await send({"type": "websocket.close", "code": 1008})
                return
            await self.app(scope, receive, send)
            return
        session = session_of(_headers(scope))
        if not session:
            session = secrets.token_urlsafe(32)
            scope = _with_cookie(scope, session)
            send = _setting_cookie(send, session)
        if self._parents(scope):
            await self.app(scope, receive, send)
            return
        try:
            await self._gradio(scope, receive, send, session)
        except Refusal as refusal:
            await _refuse(send, refusal.status, refusal.error, refusal.detail)

    async def _gradio(self, scope: Scope, receive: Receive, send: Send, session: str) -> None:
        method, path = scope["method"], scope["path"]
        if method in ("GET", "HEAD"):
            if _PAGES.match(path) or _STATIC.match(path) or _CALL_RESULT.match(path) \
                    or path == _UPLOAD_PROGRESS:
                await self.app(scope, receive, send)
                return
            if path == _QUEUE_DATA:
                query = [(k, self._hash(session, v) if k == "session_hash" else v)
                         for k, v in parse_qsl(scope["query_string"].decode("latin-1"))]
                scope = {**scope, "query_string": urlencode(query).encode("latin-1")}
                await self.app(scope, receive, send)
                return
            if beat := _HEARTBEAT.match(path):
                hashed = f"/gradio_api/heartbeat/{self._hash(session, beat.group(1))}"
                await self.app({**scope, "path": hashed, "raw_path": hashed.encode()},
                               receive, send)
                return
        elif method == "POST":
            if path in (_JOIN, _RUN) or _CALL.match(path):
                await self._event(scope, receive, send, session)
                return
            if path.rstrip("/") == _UPLOAD:
                await self._upload(scope, receive, send, session)
                return
        raise Refusal(404, "no such endpoint",
                      f"{method} {path} is not an endpoint of this server; the chat is at /, "
                      "the library at /library, the API at /api/v1 (listed at /openapi.json)")

    # ------------------------------------------------------------------ events

    def _hash(self, session: str, client_hash: str) -> str:
        """The session hash Gradio sees: the client's, bound to this cookie."""
        mac = hmac.new(self._secret, f"{session}\n{client_hash}".encode(), hashlib.sha256)
        return mac.hexdigest()[:40]

    def _function(self, path: str, body: dict[str, Any]) -> Any:
        fns = getattr(self.blocks, "fns", {})
        call = _CALL.match(path)
        if call:
            name = call.group(1)
            found = [fn for fn in fns.values() if fn.api_name == name
                     and getattr(fn, "api_visibility", "public") != "private"]
            if not found:
                raise Refusal(404, "no such endpoint", f"this server has no API function "
                              f"{name!r}; the chat's is 'ask' (see /gradio_api/info)")
            return found[0]
        index = body.get("fn_index")
        if not isinstance(index, int) or isinstance(index, bool) or index not in fns:
            raise Refusal(404, "no such function", f"fn_index {index!r} is not a function of "
                          "this page; reload the page")
        trigger = body.get("trigger_id")
        if trigger is not None and (not isinstance(trigger, int) or isinstance(trigger, bool)):
            raise Refusal(400, "invalid request", "trigger_id must be an integer")
        return fns[index]

    async def _event(self, scope: Scope, receive: Receive, send: Send, session: str) -> None:
        raw = await _read_body(scope, receive, MAX_EVENT_BYTES)
        try:
            body = json.loads(raw)
        except ValueError:
            raise Refusal(400, "invalid request", "the body must be JSON") from None
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise Refusal(400, "invalid request", 'the body must be a JSON object with a '
                          '"data" list')
        self._function(scope["path"], body)
        for text in _strings(body.get("data"), body.get("event_data")):
            if len(text) > MAX_QUESTION_CHARS:
                raise Refusal(400, "question too long", f"a question (or any text field) is "
                              f"at most {MAX_QUESTION_CHARS:,} characters, as in POST "
                              f"/api/v1/ask; this one has {len(text):,}")
        for path in _file_paths(body.get("data"), body.get("event_data")):
            if not self.uploads.claim(session, path):
                raise Refusal(403, "not an upload of this session", "only files this "
                              "browser session has just uploaded (POST /gradio_api/upload, "
                              "after signing in with the admin token) may be given, each "
                              "once; a path on the server is never read")
        if isinstance(body.get("session_hash"), str):
            body["session_hash"] = self._hash(session, body["session_hash"])
        elif scope["path"] in (_JOIN, _RUN):
            raise Refusal(400, "invalid request", "session_hash is missing")
        await self.app(*_replayed(scope, json.dumps(body).encode()), send)

    # ------------------------------------------------------------------ uploads

    async def _upload(self, scope: Scope, receive: Receive, send: Send, session: str) -> None:
        if not self.may_upload(session):
            raise Refusal(403, "uploads not accepted", "sign in with the admin token on the "
                          "library page first (a read-only server takes no uploads)")
        limit = 8 * (self.max_upload + 64 * 1024)
        declared = _headers(scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise Refusal(413, "request too large", f"an upload is at most {limit:,} bytes")
        received = 0
        too_large = False

        async def counted() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    too_large = True
                    return {"type": "http.disconnect"}
            return message

        status = 0
        chunks: list[bytes] = []

        async def captured(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body") and status == 200:
                    self._record(session, b"".join(chunks))
            await send(message)

        try:
            await self.app(scope, counted, captured)
        except Exception:
            if not too_large or status:
                raise
        if too_large and status == 0:  # cut off: Gradio gave up without answering
            await _refuse(send, 413, "request too large", f"an upload is at most {limit:,} "
                          "bytes")

    def _record(self, session: str, body: bytes) -> None:
        try:
            paths = json.loads(body)
        except ValueError:
            return
        if isinstance(paths, list):
            self.uploads.record(session, [p for p in paths if isinstance(p, str)])


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}


def _with_cookie(scope: Scope, session: str) -> Scope:
    """``scope`` as if the browser had sent the new session cookie."""
    cookie = f"{SESSION_COOKIE}={session}"
    old = _headers(scope).get("cookie")
    headers = [(k, v) for k, v in scope["headers"] if k != b"cookie"]
    headers.append((b"cookie", (f"{old}; {cookie}" if old else cookie).encode("latin-1")))
    return {**scope, "headers": headers}


def _setting_cookie(send: Send, session: str) -> Send:
    async def with_cookie(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", []), (
                b"set-cookie",
                f"{SESSION_COOKIE}={session}; Path=/; HttpOnly; SameSite=Strict".encode())]
        await send(message)

    return with_cookie


async def _read_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    declared = _headers(scope).get("content-length", "")
    too_large = Refusal(413, "request too large", f"an event is at most {limit:,} bytes "
                        f"(a question at most {MAX_QUESTION_CHARS:,} characters)")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise Refusal(400, "invalid request", "the client went away")
        body += message.get("body", b"")
        if len(body) > limit:
            raise too_large
        if not message.get("more_body"):
            return bytes(body)


def _replayed(scope: Scope, body: bytes) -> tuple[Scope, Receive]:
    headers = [(k, v) for k, v in scope["headers"] if k != b"content-length"]
    headers.append((b"content-length", str(len(body)).encode()))
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return {**scope, "headers": headers}, receive


def _walk(*values: Any) -> Iterable[Any]:
    stack = list(values)
    while stack:
        value = stack.pop()
        yield value
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)


def _strings(*values: Any) -> Iterable[str]:
    return (v for v in _walk(*values) if isinstance(v, str))


def _file_paths(*values: Any) -> list[str]:
    """Every file reference Gradio would act on: a dict with a string ``path`` (or ``url``)."""
    out = []
    for value in _walk(*values):
        if isinstance(value, dict) and ("path" in value or "url" in value):
            out.append(str(value.get("path") or value.get("url")))
    return out


async def _refuse(send: Send, status: int, error: str, detail: str) -> None:
    body = json.dumps({"error": error, "detail": detail}, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": body})
