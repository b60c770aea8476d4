"""Library writes over HTTP and through Gradio's own API: the admin token rule, uploads
(bad ones reported, nothing lost), removal, and re-indexing while answers keep coming from
the previous generation. A copy of tests/data/mini, hashing encoder, real servers."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from rag.api.auth import AdminToken
from rag.api.library import Library
from rag.api.live import LiveIndex
from rag.api.models import UploadResult
from rag.api.service import Service
from rag.index import Sources, index_paths, remembered_sources
from rag.index.folder import build_lock

from .chat import running_service
from .conftest import DATA, GatedEncoder

TOKEN = "correct-horse-battery-staple-42"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
MARS = ("火星矿产交易规定.md",
        "# 火星矿产交易规定\n\n第一条 火星矿产交易者未经登记擅自交易的，处以十万元罚款。\n\n"
        "第二条 本规定自发布之日起施行。\n".encode())
MARS_QUESTION = "火星矿产交易者未经登记擅自交易罚多少"


@dataclass
class Server:
    url: str
    service: Service
    encoder: GatedEncoder
    corpus: Path
    index: Path
    library: Path

    @property
    def api(self) -> str:
        return self.url + "api/v1"

    def ask(self, question: str, **kwargs: object) -> dict[str, object]:
        reply = httpx.post(self.api + "/ask", json={"question": question, "top": 3, **kwargs},
                           timeout=60)
        assert reply.status_code == 200, reply.text
        return dict(reply.json())


@contextmanager
def writable(tmp_path: Path, *, max_bytes: int = 1 << 20, build: bool = True,
             admin: bool = True) -> Iterator[Server]:
    """A server with writes over a copy of tests/data/mini (built first unless not
    ``build``)."""
    corpus = tmp_path / "corpus"
    shutil.copytree(DATA / "mini", corpus)
    encoder = GatedEncoder(dimension=256)
    index = tmp_path / "index"
    if build:
        index_paths([corpus], index=index, encoder=encoder)
    live = LiveIndex(location=index, encoder=encoder, sources=Sources((corpus,)))
    live.open()
    library = tmp_path / "home" / "library"
    service = Service(live=live, library=Library(library, max_bytes=max_bytes),
                      admin=AdminToken(TOKEN) if admin else None)
    with running_service(service, memo_root=tmp_path / "memos") as url:
        yield Server(url, service, encoder, corpus, index, library)
        live.wait(timeout=120)


def cited(answer: dict[str, object]) -> set[str]:
    return {str(c["doc_id"]) for c in answer["citations"]}  # type: ignore[attr-defined]


# ---------------------------------------------------------------- the token rule


def test_writes_are_refused_without_the_token(tmp_path: Path) -> None:
    with writable(tmp_path) as server:
        for headers in ({}, {"Authorization": "Bearer wrong-token-wrong-token"},
                        {"Authorization": f"Basic {TOKEN}"}, {"Authorization": TOKEN},
                        {"Authorization": f"Bearer {TOKEN}x"}):
            for method, path in (("POST", "/documents"), ("DELETE", "/documents/data_rules"),
                                 ("POST", "/reindex")):
                reply = httpx.request(method, server.api + path, headers=headers,
                                      files={"files": MARS} if method == "POST" else None)
                assert reply.status_code == 401, (headers, path, reply.text)
                assert reply.json()["error"] == "admin token required"
                assert reply.headers["www-authenticate"] == "Bearer"
        assert not server.library.exists()  # nothing was stored
        assert server.service.live.status().builds == 0
        paths = httpx.get(server.url + "openapi.json").json()["paths"]
        assert {"get", "post"} <= set(paths["/api/v1/documents"])
        assert "delete" in paths["/api/v1/documents/{doc_id}"]


def test_gradio_write_functions_check_the_token_themselves(tmp_path: Path) -> None:
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    with writable(tmp_path) as server:
        chat = Client(server.url, verbose=False, headers={"Cookie": "rag_session=alice"},
                      analytics_enabled=False)
        for call in (
            lambda: chat.predict("wrong-token-wrong-token", api_name="/library_sign_in"),
            lambda: chat.predict([], "wrong-token-wrong-token", "", [],
                                 api_name="/library_add"),
            lambda: chat.predict(None, "", "", [], api_name="/library_remove"),
            lambda: chat.predict("nope", "", [], api_name="/library_reindex"),
        ):
            with pytest.raises(AppError, match="admin token is wrong"):
                call()
        assert server.service.live.status().builds == 0
        # an upload needs a session that proved the token; then it is size-limited
        upload = server.url + "gradio_api/upload"
        assert httpx.post(upload, files={"files": MARS},
                          cookies={"rag_session": "alice"}).status_code == 403
        assert "Signed in" in str(chat.predict(TOKEN, api_name="/library_sign_in"))
        assert httpx.post(upload, files={"files": MARS},
                          cookies={"rag_session": "alice"}).status_code == 200
        assert httpx.post(upload, files={"files": MARS},
                          cookies={"rag_session": "mallory"}).status_code == 403
        big = ("big.txt", b"x" * (2 << 20))
        assert httpx.post(upload, files={"files": big},
                          cookies={"rag_session": "alice"}).status_code == 413


def test_without_a_token_the_write_functions_do_not_exist(tmp_path: Path) -> None:
    from gradio_client import Client

    with writable(tmp_path, admin=False) as server:
        config = httpx.get(server.url + "config").json()
        names = {d.get("api_name") for d in config["dependencies"]}
        assert not {n for n in names if n and n.startswith("library_")}
        ids = {c.get("props", {}).get("elem_id") for c in config["components"]}
        assert "library-table" in ids  # the page is there, read-only
        assert not ids & {"admin-token", "library-files", "library-add", "library-remove"}
        with pytest.raises(ValueError, match="Cannot find a function"):
            Client(server.url, verbose=False, analytics_enabled=False).predict(
                TOKEN, api_name="/library_sign_in")
        assert httpx.post(server.api + "/documents", headers=BEARER,
                          files={"files": MARS}).status_code == 404
        assert httpx.post(server.url + "gradio_api/upload", files={"files": MARS},
                          cookies={"rag_session": "alice"}).status_code == 403


# ---------------------------------------------------------------- add, ask, remove


def test_upload_answer_remove(tmp_path: Path) -> None:
    with writable(tmp_path) as server:
        assert "火星矿产交易规定" not in cited(server.ask(MARS_QUESTION))
        files = [
            ("files", MARS),
            ("files", ("../../etc/旁路.md", "# 旁路\n\n第一条 测试路径。\n".encode())),
            ("files", (".hidden.md", b"# x\n\nhello\n")),
            ("files", ("run.exe", b"MZ\x90\x00")),
            ("files", ("empty.txt", b"")),
            ("files", ("scan.pdf", b"%PDF-1.4 not really a pdf")),
            ("files", ("示范交易法.md", b"# another\n\ntext\n")),  # the corpus has this id
            ("files", ("火星矿产交易规定.md", b"# again\n\ntext\n")),  # already stored
        ]
        reply = httpx.post(server.api + "/documents", headers=BEARER, files=files,
                           timeout=60)
        assert reply.status_code == 202, reply.text
        result = UploadResult.model_validate(reply.json())
        assert [(s.name, s.doc_id) for s in result.stored] == [
            ("火星矿产交易规定.md", "火星矿产交易规定"), ("旁路.md", "旁路")]
        reasons = {r.name: r.reason for r in result.refused}
        assert "hidden or empty file names" in reasons[".hidden.md"]
        assert "only .md, .markdown, .txt" in reasons["run.exe"]
        assert "empty" in reasons["empty.txt"]
        assert reasons["scan.pdf"].startswith("scan.pdf: ")
        assert "already indexed; rename the file" in reasons["示范交易法.md"]
        assert "already in the library" in reasons["火星矿产交易规定.md"]
        assert result.reindex.state == "building"
        assert sorted(p.name for p in server.library.iterdir()) == [
            ".staging", "旁路.md", "火星矿产交易规定.md"]
        assert not any((server.library / ".staging").iterdir())
        assert (server.library / "火星矿产交易规定.md").read_bytes() == MARS[1]

        assert server.service.live.wait(timeout=60).state == "ready"
        answer = server.ask(MARS_QUESTION)
        first = answer["citations"][0]  # type: ignore[index]
        assert first["doc_id"] == "火星矿产交易规定" and first["label"] == "第一条"
        # shown below the library folder it was indexed from, never as a server path
        assert first["source"] == f"{server.library.name}/火星矿产交易规定.md"
        listed = httpx.get(server.api + "/documents", params={"library": "true"}).json()
        assert [d["doc_id"] for d in listed["documents"]] == ["旁路", "火星矿产交易规定"]
        # the library's folder is now a source the index remembers (rag serve re-reads it)
        assert server.library in remembered_sources(server.index).paths

        corpus_doc = httpx.delete(server.api + "/documents/示范交易法", headers=BEARER)
        assert corpus_doc.status_code == 403
        assert "the library did not add" in corpus_doc.json()["detail"]
        assert (server.corpus / "示范交易法.md").exists()
        assert httpx.delete(server.api + "/documents/nope", headers=BEARER).status_code == 404

        gone = httpx.delete(server.api + "/documents/火星矿产交易规定", headers=BEARER)
        assert gone.status_code == 202, gone.text
        assert gone.json()["file"] == "火星矿产交易规定.md"
        assert not (server.library / "火星矿产交易规定.md").exists()
        assert server.service.live.wait(timeout=60).state == "ready"
        assert "火星矿产交易规定" not in cited(server.ask(MARS_QUESTION))
        clause = httpx.get(server.api + "/clauses/火星矿产交易规定%23art1")
        assert clause.status_code == 404


def test_answers_come_from_the_previous_generation_until_the_swap(tmp_path: Path) -> None:
    with writable(tmp_path) as server:
        before = server.ask("内幕交易罚款")
        old = before["audit"]["fingerprint"]  # type: ignore[index]
        server.encoder.gate.clear()  # the next build waits while embedding
        server.encoder.waiting.clear()
        reply = httpx.post(server.api + "/documents", headers=BEARER, files={"files": MARS})
        assert reply.status_code == 202
        assert server.encoder.waiting.wait(timeout=60)
        status = httpx.get(server.api + "/reindex").json()
        assert (status["state"], status["stage"]) == ("building", "embedding")
        during = server.ask(MARS_QUESTION)
        assert during["audit"]["fingerprint"] == old  # type: ignore[index]
        assert "火星矿产交易规定" not in cited(during)
        assert httpx.get(server.api + "/health").status_code == 200
        # a second request while building is queued, not lost
        again = httpx.post(server.api + "/reindex", headers=BEARER).json()
        assert again["pending"] is True
        server.encoder.gate.set()
        final = server.service.live.wait(timeout=60)
        assert final.state == "ready" and final.builds == 1
        after = server.ask(MARS_QUESTION)
        assert after["audit"]["fingerprint"] != old  # type: ignore[index]
        assert "火星矿产交易规定" in cited(after)


def test_the_first_build_answers_503_until_ready(tmp_path: Path) -> None:
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    with writable(tmp_path, build=False) as server:
        server.encoder.gate.clear()
        server.service.live.rebuild()
        assert server.encoder.waiting.wait(timeout=60)
        for method, path, body in (("POST", "/ask", {"question": "罚款"}),
                                   ("POST", "/batch", {"questions": ["罚款"]}),
                                   ("GET", "/health", None), ("GET", "/version", None),
                                   ("GET", "/documents", None), ("GET", "/clauses/x", None)):
            reply = httpx.request(method, server.api + path, json=body)
            assert reply.status_code == 503, (path, reply.text)
            assert reply.json()["error"] == "index not ready"
            assert "embedding" in reply.json()["detail"]
            assert reply.headers["retry-after"] == "10"
        assert httpx.get(server.api + "/reindex").json()["state"] == "building"
        with pytest.raises(AppError, match="the index is not ready"):
            Client(server.url, verbose=False, analytics_enabled=False).predict(
                question="罚款", doc_ids=[], kinds=[], as_of="", top=3, date_from="",
                date_to="", api_name="/ask")
        server.encoder.gate.set()
        assert server.service.live.wait(timeout=60).state == "ready"
        assert httpx.get(server.api + "/health").json()["documents"] == 3


def test_a_reindex_that_cannot_run_keeps_serving(tmp_path: Path) -> None:
    with writable(tmp_path) as server:
        before = server.ask("内幕交易罚款")
        with build_lock(server.index):  # as if `rag index` were building it
            assert httpx.post(server.api + "/reindex", headers=BEARER).status_code == 202
            failed = server.service.live.wait(timeout=60)
        assert failed.state == "failed" and "another `rag index`" in failed.message
        assert server.ask("内幕交易罚款") == before
        shutil.rmtree(server.corpus)  # a remembered source gone: re-indexing would drop it
        reply = httpx.post(server.api + "/reindex", headers=BEARER)
        assert reply.status_code == 409 and "is missing" in reply.json()["detail"]
        assert server.ask("内幕交易罚款") == before


def test_request_and_file_size_limits(tmp_path: Path) -> None:
    with writable(tmp_path, max_bytes=1000) as server:
        big = {"files": ("big.md", b"# big\n\n" + "第一条 字。\n".encode() * 200)}
        reply = httpx.post(server.api + "/documents", headers=BEARER, files=big)
        assert reply.status_code == 202
        assert "larger than the limit of 1,000 bytes" in reply.json()["refused"][0]["reason"]
        huge = [("files", (f"f{n}.md", b"x" * 70_000)) for n in range(20)]
        reply = httpx.post(server.api + "/documents", headers=BEARER, files=huge)
        assert reply.status_code == 413 and reply.json()["error"] == "request too large"
        reply = httpx.post(server.api + "/ask", content=b"{" + b" " * (5 << 20) + b"}",
                           headers={"content-type": "application/json"})
        assert reply.status_code == 413
        assert not server.library.exists() or not any(
            p.is_file() for p in server.library.rglob("*"))
