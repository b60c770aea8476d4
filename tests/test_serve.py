"""``rag serve`` with and without an admin token: the server comes up at once, builds in
the background, takes writes only with the token, and later re-reads the library."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from rag import cli
from rag.index import remembered_sources
from ui.server import serving

from .conftest import DATA

TOKEN = "serve-token-0123456789abcdef"
NOTICE = ("通知.md", "# 内部合规通知\n\n第一条 员工买卖股票应当事先报备。\n".encode())


def serve(monkeypatch: pytest.MonkeyPatch, args: list[str],
          visit: Callable[[str, FastAPI], None]) -> int:
    """Run ``rag serve ARGS`` with its app served on a free port for ``visit``."""
    import ui.server

    def run(app: FastAPI, **kwargs: object) -> None:
        with serving(app) as url:
            visit(url, app)

    monkeypatch.setattr(ui.server, "serve_app", run)
    return cli.main(["serve", "--model", "hashing:64", *args])


def wait_ready(url: str) -> dict[str, object]:
    status = httpx.get(url + "api/v1/reindex").json()
    for _ in range(600):
        if status["state"] != "building":
            break
        time.sleep(0.1)
        status = httpx.get(url + "api/v1/reindex").json()
    assert status["state"] == "ready", status
    return dict(status)


def test_bad_token_files_stop_the_server_with_what_to_do(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    short = tmp_path / "short"
    short.write_text("abc")
    for path, why in ((tmp_path / "missing", "cannot read the admin token"),
                      (short, "at least 16 printable ASCII characters")):
        assert serve(monkeypatch, ["--admin-token-file", str(path),
                                   "--index", str(tmp_path / "index")],
                     lambda url, app: None) == 2
        err = capsys.readouterr().err
        assert f"--admin-token-file: {path}: " in err and why in err
    monkeypatch.setenv("RAG_ADMIN_TOKEN_FILE", str(short))
    assert serve(monkeypatch, ["--index", str(tmp_path / "index")], lambda u, a: None) == 2
    assert not (tmp_path / "index").exists()  # nothing built before the token was good


def test_serve_with_a_token_takes_writes_and_later_rereads_the_library(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(DATA / "mini", corpus)
    index = tmp_path / "index"
    token = tmp_path / "token"
    token.write_text(TOKEN + "\n")
    os.chmod(token, 0o600)

    def with_token(url: str, app: FastAPI) -> None:
        wait_ready(url)  # the first build ran in the background
        assert httpx.get(url + "api/v1/health").json()["documents"] == 3
        assert httpx.get(url + "api/v1/version").json()["writes"] is True
        reply = httpx.post(url + "api/v1/documents", files={"files": NOTICE},
                           headers={"Authorization": f"Bearer {TOKEN}"})
        assert reply.status_code == 202, reply.text
        wait_ready(url)
        found = httpx.post(url + "api/v1/ask", json={"question": "员工买卖股票要报备吗"}).json()
        assert found["citations"][0]["doc_id"] == "通知"

    assert serve(monkeypatch, ["--index", str(index), "--corpus", str(corpus),
                               "--admin-token-file", str(token)], with_token) == 0
    err = capsys.readouterr().err
    assert "; library writes with the admin token; open http" in err
    library = Path(os.environ["RAG_HOME"]) / "library"
    assert remembered_sources(index).paths == (corpus.resolve(), library.resolve())

    def read_only(url: str, app: FastAPI) -> None:
        assert httpx.get(url + "api/v1/health").json()["documents"] == 4  # served at once
        wait_ready(url)
        docs = httpx.get(url + "api/v1/documents", params={"library": "true"}).json()
        assert [d["doc_id"] for d in docs["documents"]] == ["通知"]
        assert httpx.get(url + "api/v1/version").json()["writes"] is False
        reply = httpx.post(url + "api/v1/documents", files={"files": NOTICE},
                           headers={"Authorization": f"Bearer {TOKEN}"})
        assert reply.status_code == 404

    assert serve(monkeypatch, ["--index", str(index)], read_only) == 0
    assert "4 documents" in capsys.readouterr().err
