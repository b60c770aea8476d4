"""Who may change the library: holders of the admin token, checked in constant time.

``rag serve --admin-token-file F`` (or ``$RAG_ADMIN_TOKEN_FILE``) reads the token; without
one the server is read-only and its write endpoints and controls do not exist. The API
takes the token as ``Authorization: Bearer TOKEN``; the library page sends it with each
write, and a browser session that has proved it may also upload files (Gradio uploads a
file before any event runs, so the upload route checks the session, not the token).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
import threading
import time
from pathlib import Path

TOKEN_FILE_ENV = "RAG_ADMIN_TOKEN_FILE"
MIN_TOKEN_CHARS = 16
SESSION_TTL = 8 * 3600


class TokenFileError(ValueError):
    """An admin token file that cannot be used; the message says how to fix it."""


class AdminToken:
    """The admin token, and the browser sessions that have proved they hold it."""

    def __init__(self, token: str, *, session_ttl: float = SESSION_TTL) -> None:
        if len(token) < MIN_TOKEN_CHARS or not token.isascii() or not token.isprintable():
            raise TokenFileError(f"the admin token must be at least {MIN_TOKEN_CHARS} "
                                 "printable ASCII characters (e.g. `openssl rand -hex 32`)")
        self._token = token.encode("ascii")
        self.session_ttl = session_ttl
        self._sessions: dict[str, float] = {}  # sha256(session) → expiry
        self._lock = threading.Lock()

    @classmethod
    def from_file(cls, path: Path) -> AdminToken:
        """The token in ``path`` (surrounding whitespace ignored)."""
        try:
            mode = path.stat().st_mode
            text = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as error:
            raise TokenFileError(f"{path}: cannot read the admin token ({error}); write one "
                                 f"with `openssl rand -hex 32 > {path}; chmod 600 {path}`"
                                 ) from None
        if not stat.S_ISREG(mode):
            raise TokenFileError(f"{path}: not a regular file; put the admin token in a file")
        try:
            return cls(text)
        except TokenFileError as error:
            raise TokenFileError(f"{path}: {error}") from None

    def check(self, presented: str | None) -> bool:
        """Whether ``presented`` is the token (constant time, whatever it is)."""
        given = (presented or "").strip().encode("utf-8", "replace")
        return hmac.compare_digest(given, self._token)

    def check_bearer(self, authorization: str | None) -> bool:
        """Whether an ``Authorization`` header carries the token as a bearer token."""
        scheme, _, value = (authorization or "").partition(" ")
        return scheme.lower() == "bearer" and self.check(value)

    # ------------------------------------------------------------ browser sessions

    @staticmethod
    def _key(session: str) -> str:
        return hashlib.sha256(session.encode("utf-8")).hexdigest()

    def grant(self, session: str) -> None:
        """Let the browser session ``session`` upload files, for ``session_ttl`` seconds."""
        if not session:
            raise ValueError("no browser session to grant")
        with self._lock:
            now = time.monotonic()
            self._sessions = {k: t for k, t in self._sessions.items() if t > now}
            self._sessions[self._key(session)] = now + self.session_ttl

    def granted(self, session: str) -> bool:
        """Whether ``session`` has proved the token and not expired."""
        if not session:
            return False
        with self._lock:
            expiry = self._sessions.get(self._key(session))
        return expiry is not None and expiry > time.monotonic()


def token_from(path: Path | None) -> AdminToken | None:
    """The admin token from ``path``, else from ``$RAG_ADMIN_TOKEN_FILE``; None when neither
    is given (a read-only server). Warns when others may read the file."""
    if path is None:
        env = os.environ.get(TOKEN_FILE_ENV, "").strip()
        path = Path(env).expanduser() if env else None
    if path is None:
        return None
    token = AdminToken.from_file(path)
    if path.stat().st_mode & 0o077:
        import sys

        print(f"rag serve: warning: {path} can be read by other users; `chmod 600 {path}`",
              file=sys.stderr)
    return token
