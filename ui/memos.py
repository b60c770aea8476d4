"""Exported memos: private to the browser session that made them, gone after download or expiry.

Each browser session (a random cookie) has its own folder under the data directory,
readable by this user only (0700 folders, 0600 files). A memo is written whole or not at
all; each file is deleted once downloaded, and whatever is left after ``ttl`` seconds is
swept away. Another session's memo URL finds nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import shutil
import time
from collections.abc import Mapping
from pathlib import Path

_MEMO_ID = re.compile(r"^[0-9a-f]{32}$")
_NAME = re.compile(r"^[\w.-]{1,120}$")
DEFAULT_TTL = 15 * 60


class MemoStore:
    """Memo files per session under ``root``."""

    def __init__(self, root: Path, *, ttl: float = DEFAULT_TTL) -> None:
        self.root = Path(root)  # created with the first memo: serving alone writes nothing
        self.ttl = ttl

    def _session_dir(self, session: str) -> Path:
        return self.root / hashlib.sha256(session.encode("utf-8")).hexdigest()[:32]

    def save(self, session: str, files: Mapping[str, bytes]) -> str:
        """Store ``files`` (name → bytes) as one memo of ``session``; returns its id."""
        if not session:
            raise ValueError("a memo needs a session")
        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o700)
        self.sweep()
        folder = self._session_dir(session)
        folder.mkdir(mode=0o700, exist_ok=True)
        memo_id = secrets.token_hex(16)
        staging = folder / f".tmp-{memo_id}"
        staging.mkdir(mode=0o700)
        try:
            for name, data in files.items():
                if not _NAME.match(name):
                    raise ValueError(f"unsafe memo file name {name!r}")
                fd = os.open(staging / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
            os.replace(staging, folder / memo_id)  # every file of the memo, or none
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return memo_id

    def find(self, session: str, memo_id: str, name: str) -> Path | None:
        """The file ``name`` of memo ``memo_id`` when ``session`` made it and it has not
        expired; None otherwise (whoever asks learns nothing more)."""
        if not session or not _MEMO_ID.match(memo_id) or not _NAME.match(name):
            return None
        path = self._session_dir(session) / memo_id / name
        try:
            age = time.time() - path.stat().st_mtime
        except OSError:
            return None
        return path if age <= self.ttl else None

    def consumed(self, path: Path) -> None:
        """Delete a downloaded file (and its memo folder once empty)."""
        path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # the other format is still to be downloaded
            path.parent.rmdir()

    def sweep(self) -> None:
        """Remove memos older than the time to live, and empty session folders."""
        cutoff = time.time() - self.ttl
        for session in self.root.iterdir() if self.root.is_dir() else ():
            if not session.is_dir():
                continue
            for memo in session.iterdir():
                try:
                    if memo.stat().st_mtime < cutoff:
                        shutil.rmtree(memo, ignore_errors=True)
                except OSError:
                    continue
            with contextlib.suppress(OSError):  # not empty
                session.rmdir()
