"""docs/api.md's examples run against a real server: every curl command, the Python client,
and the README's answer-record tables list the fields of the one answer record."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from rag.answer.records import AnswerRecord, CitationRecord
from rag.api.auth import AdminToken
from rag.api.library import Library
from rag.api.live import LiveIndex
from rag.api.service import Service
from rag.encoders import HashingEncoder
from rag.index import Sources

from .chat import running_service
from .conftest import CORPUS, REPO

DOCS = REPO / "docs" / "api.md"
HOST = "http://127.0.0.1:7860"


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOCS.read_text("utf-8"), re.S)


def commands() -> list[str]:
    """Each shell command of the docs (continuation lines joined), comments dropped."""
    joined = [block.replace("\\\n", " ") for block in blocks("sh")]
    lines = [line.split("   #")[0].strip() for block in joined for line in block.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


@pytest.fixture
def server(tmp_path: Path, shipped_index_dir: Path,
           hashing_encoder: HashingEncoder) -> Iterator[tuple[str, Path]]:
    """A server with writes over a copy of the shipped index; the docs' token and files
    in its working folder."""
    work = tmp_path / "work"
    work.mkdir()
    setup = commands()[[c.startswith("openssl") for c in commands()].index(True)]
    subprocess.run(setup.split("&&")[0], shell=True, cwd=work, check=True)  # the token
    (work / "内部合规手册.md").write_text(
        "# 内部合规手册\n\n第一条 员工买卖股票应当事先向合规部门报备。\n", encoding="utf-8")
    (work / "报备通知.txt").write_text("报备通知\n\n请于每季度末报备持股情况。\n",
                                     encoding="utf-8")
    index = tmp_path / "index"
    shutil.copytree(shipped_index_dir, index)
    live = LiveIndex(location=index, encoder=hashing_encoder, sources=Sources((CORPUS,)))
    assert live.open()
    service = Service(live=live, library=Library(tmp_path / "library"),
                      admin=AdminToken.from_file(work / "admin.token"))
    with running_service(service, memo_root=tmp_path / "memos") as url:
        yield url.rstrip("/"), work
        live.wait(timeout=120)


def settle(url: str) -> None:
    for _ in range(600):
        if httpx.get(url + "/api/v1/reindex").json()["state"] != "building":
            return
        time.sleep(0.1)
    raise AssertionError("the re-index did not finish")


def test_every_curl_example_runs(server: tuple[str, Path]) -> None:
    url, work = server
    curls = [c for c in commands() if c.startswith("curl")]
    assert len(curls) == 12
    endpoints = set()
    for command in curls:
        settle(url)  # a removal needs the upload indexed first
        done = subprocess.run(["bash", "-c", command.replace(HOST, url)], cwd=work,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, (command, done.stderr)
        replies = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
        assert replies and all(r.get("error") is None or r.get("id") for r in replies), (
            command, done.stdout[:300])
        endpoints.add(re.search(r"/api/v1/(\w+)", command).group(1))  # type: ignore[union-attr]
    assert endpoints == {"ask", "batch", "clauses", "documents", "health", "version",
                         "reindex", "duties"}
    settle(url)
    listed = httpx.get(url + "/api/v1/documents", params={"library": "true"}).json()
    assert [d["doc_id"] for d in listed["documents"]] == ["报备通知"]  # the other removed


def test_the_python_client_example_runs(server: tuple[str, Path]) -> None:
    url, work = server
    (example,) = blocks("python")
    assert len(example.strip().splitlines()) == 5
    done = subprocess.run([sys.executable, "-c", example.replace(HOST, url)], cwd=work,
                          capture_output=True, text=True, timeout=120, check=True)
    reply = httpx.post(url + "/api/v1/ask", json={"question": "内幕交易会被罚多少钱？",
                                                  "top": 3}).json()
    assert reply["citations"]
    assert done.stdout == "".join(f"{c['citation']}\n{c['text']}\n\n"
                                  for c in reply["citations"])


def test_the_readme_answer_record_tables_are_the_model() -> None:
    readme = (REPO / "README.md").read_text("utf-8")
    section = readme[readme.index("### Answer record"):]
    section = section[:section.index("CSV output")]
    answer_part, citation_part = section.split("Each citation:")

    def rows(part: str) -> list[str]:
        return re.findall(r"^\| `(\w+)` \|", part, re.M)

    assert rows(answer_part) == list(AnswerRecord.model_fields)  # same fields, same order
    assert rows(citation_part) == list(CitationRecord.model_fields)
