"""The chat server under a hostile or careless client: private memos, no uploads, flat turns.

Each case failed before its fix (issue 15, items 4 and 12): memos were world-readable files
any client could fetch and never deleted, uploads of any size were accepted, and every
answer carried the whole conversation.
"""

from __future__ import annotations

import re
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from rag.encoders import HashingEncoder
from rag.search import Index

from .chat import running_chat


@pytest.fixture(scope="module")
def memo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("memos") / "memos"


@pytest.fixture(scope="module")
def url(shipped_index: Index, hashing_encoder: HashingEncoder, memo_root: Path) -> Iterator[str]:
    with running_chat(shipped_index, hashing_encoder, memo_root=memo_root, ttl=60) as base:
        yield base


def client(url: str, session: str):  # type: ignore[no-untyped-def]
    from gradio_client import Client

    return Client(url, verbose=False, headers={"Cookie": f"rag_session={session}"},
                  analytics_enabled=False)


def ask(chat, question: str) -> str:  # type: ignore[no-untyped-def]
    latest, *_ = chat.predict(question=question, doc_ids=[], kinds=[], as_of="", top=3,
                              date_from="", date_to="", api_name="/ask")
    return str(latest)


def test_memos_belong_to_the_session_that_made_them(url: str, memo_root: Path) -> None:
    chat = client(url, "alice-session")
    ask(chat, "《证券法》第一百九十一条")
    links = str(chat.predict(api_name="/export"))
    hrefs = re.findall(r'href="(/memo/[0-9a-f]{32}/[^"]+)"', links)
    assert [h.rsplit(".", 1)[1] for h in hrefs] == ["md", "docx"]
    memo = url.rstrip("/") + hrefs[0]
    # nobody else: no cookie, another session's cookie
    assert httpx.get(memo).status_code == 404
    assert httpx.get(memo, cookies={"rag_session": "mallory"}).status_code == 404
    # nor through Gradio's file route
    files = sorted(p for p in memo_root.rglob("*") if p.is_file())
    assert len(files) == 2
    assert httpx.get(f"{url}gradio_api/file={files[0]}").status_code != 200
    # private on disk
    assert stat.S_IMODE(memo_root.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in files)
    assert all(stat.S_IMODE(p.parent.stat().st_mode) == 0o700 for p in files)
    # the owner downloads it once; then it is gone
    got = httpx.get(memo, cookies={"rag_session": "alice-session"})
    assert got.status_code == 200 and "《中华人民共和国证券法》" in got.text
    assert got.headers["cache-control"] == "no-store"
    assert httpx.get(memo, cookies={"rag_session": "alice-session"}).status_code == 404
    downloaded = next(p for p in files if p.suffix == ".md")
    waiting = next(p for p in files if p.suffix == ".docx")
    assert not downloaded.exists() and waiting.exists()


def test_memos_expire(shipped_index: Index, hashing_encoder: HashingEncoder,
                      tmp_path: Path) -> None:
    root = tmp_path / "memos"
    with running_chat(shipped_index, hashing_encoder, memo_root=root, ttl=1) as base:
        chat = client(base, "bob")
        ask(chat, "内幕交易")
        href = re.findall(r'href="(/memo/[^"]+)"', str(chat.predict(api_name="/export")))[0]
        time.sleep(1.5)
        assert httpx.get(base.rstrip("/") + href, cookies={"rag_session": "bob"}).status_code \
            == 404
        ask(chat, "操纵市场")
        chat.predict(api_name="/export")  # each export sweeps what has expired
    assert len([p for p in root.rglob("*") if p.is_file()]) == 2


def test_uploads_are_refused(url: str) -> None:
    big = b"x" * (2 * 2**20)
    for path, status in (("gradio_api/upload", 403), ("upload", 404)):
        reply = httpx.post(url + path, files={"files": ("a.txt", big)})
        assert reply.status_code == status


def test_each_answer_carries_only_its_own_turn(url: str) -> None:
    chat = client(url, "carol")
    sizes = []
    for number in range(1, 31):
        turn = ask(chat, "《证券法》第一百九十一条")
        assert turn.count('class="turn"') == 1 and f'data-turn="{number}"' in turn
        sizes.append(len(turn))
    assert max(sizes) - min(sizes) <= 2  # only the turn number's digits differ
