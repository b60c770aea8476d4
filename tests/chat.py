"""Test helpers: the chat (index + encoder), or a whole service, served on a free localhost
port."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rag.api.service import Service
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


@contextmanager
def running_service(service: Service, *, memo_root: Path) -> Iterator[str]:
    """The whole server for ``service``: chat, library page, API (and its writes when the
    service has them), in a background thread; its URL."""
    from ui.app import build_app
    from ui.memos import MemoStore
    from ui.server import make_app, serving

    memos = MemoStore(memo_root)
    app = make_app(build_app(service=service, memos=memos), memos=memos, service=service)
    with serving(app) as url:
        yield url
