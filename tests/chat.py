"""Test helper: the chat (index + encoder) served on a free localhost port."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rag.encoders import Encoder
from rag.search import Index


@contextmanager
def running_chat(index: Index, encoder: Encoder, *, memo_root: Path,
                 ttl: float = 900) -> Iterator[str]:
    """The whole chat server (Gradio, memos, guards) in a background thread; its URL."""
    from ui.app import build_app
    from ui.memos import MemoStore
    from ui.server import make_app, serving

    memos = MemoStore(memo_root, ttl=ttl)
    app = make_app(build_app(index=index, encoder=encoder, memos=memos), memos=memos)
    with serving(app) as url:
        yield url
