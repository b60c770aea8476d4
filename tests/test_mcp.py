"""``rag mcp`` over stdio and ``rag serve``'s ``/mcp`` over streamable HTTP, driven by the
SDK's own client: every tool and resource end to end, bad input as tool errors, and a
client that vanishes mid-call."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from rag import cli
from rag.answer import MAX_TOP, answer
from rag.answer.records import AnswerRecord
from rag.cli.mcp import cmd_mcp
from rag.encoders import Encoder
from rag.index import copy_index
from rag.mcp.http import MCP_PATH
from rag.search import Index
from rag.search.hybrid import MAX_QUESTION_CHARS

from .conftest import REPO
from .servers import free_port, milvus_server

TOOLS = {"ask", "search_clauses", "get_clause", "compare_versions", "list_documents"}
ART191 = "证券法-2019-12-28#art191"
QUESTION = "《证券法》第一百九十一条规定了什么？"
Check = Callable[[ClientSession], Awaitable[None]]


def child_env(home: Path) -> dict[str, str]:
    """What a server child needs: this checkout, its own RAG_HOME, no model hub."""
    keep = ("PATH", "HOME", "RAG_MODEL_CACHE", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    return {**{k: os.environ[k] for k in keep if k in os.environ},
            "PYTHONPATH": str(REPO), "RAG_HOME": str(home)}


def run_stdio(index: Path | str, home: Path, check: Check, errlog: Path) -> None:
    """``check`` with a session on ``python -m rag mcp --index index`` (``--backend``
    for a ``milvus://`` URI)."""
    where = ["--backend", index] if isinstance(index, str) else ["--index", str(index)]
    params = StdioServerParameters(command=sys.executable,
                                   args=["-m", "rag", "mcp", *where],
                                   env=child_env(home), cwd=str(REPO))

    async def main() -> None:
        with errlog.open("w") as err:
            async with stdio_client(params, errlog=err) as (read, write), \
                    ClientSession(read, write) as session:
                await session.initialize()
                await check(session)

    anyio.run(main)


def data(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content
    assert isinstance(result.structured_content, dict)
    return result.structured_content


def error_text(result: Any) -> str:
    assert result.is_error
    return str(result.content[0].text)


async def every_tool_and_resource(session: ClientSession, index: Index,
                                  expected: dict[str, Any]) -> None:
    """Each tool and resource, with exact expected clauses and verbatim quotes."""
    listed = (await session.list_tools()).tools
    assert {t.name for t in listed} == TOOLS
    for tool in listed:
        assert tool.description and "verbatim" in tool.description
        assert "cite it exactly as given" in tool.description
        assert tool.output_schema and tool.output_schema["type"] == "object"
        assert tool.annotations is not None and tool.annotations.read_only_hint is True
    text = index.documents["证券法-2019-12-28"].text

    # ask: the same record the REST API and `rag ask --json` give
    asked = data(await session.call_tool("ask", {"question": QUESTION, "top": 3}))
    assert asked == expected["ask"]
    assert asked["citations"][0]["clause_id"] == ART191
    for citation in asked["citations"]:
        doc = index.documents[citation["doc_id"]]
        assert citation["text"] == doc.text[citation["start"]:citation["end"]]
    assert asked["debug"] is None
    debugged = data(await session.call_tool("ask", {"question": QUESTION, "top": 3,
                                                    "debug": True}))
    assert [c["clause_id"] for c in debugged["debug"]["citations"]] == \
        [c["clause_id"] for c in asked["citations"]]

    # search_clauses: the same ranking, lighter
    found = data(await session.call_tool("search_clauses", {"question": QUESTION, "top": 3}))
    assert [h["clause_id"] for h in found["hits"]] == \
        [c["clause_id"] for c in asked["citations"]]
    hit = found["hits"][0]
    assert hit["citation"] == "《中华人民共和国证券法》（2019年修订）第一百九十一条"
    assert hit["quote"] == text[hit["start"]:hit["end"]]
    assert hit["uri"] == "clause://证券法-2019-12-28%23art191"

    # get_clause: by id, by Chinese citation, by English citation — the same clause
    by_id = data(await session.call_tool("get_clause", {"clause": ART191}))
    for named in ("《证券法》第一百九十一条", "证券法第191条",
                  "Article 191 of the Securities Law"):
        assert data(await session.call_tool("get_clause", {"clause": named})) == by_id
    clause = by_id["clause"]
    assert clause["clause_id"] == ART191 and clause["label"] == "第一百九十一条"
    assert clause["text"] == text[clause["start"]:clause["end"]]
    assert clause["text"].startswith("第一百九十一条 证券交易内幕信息的知情人")
    assert by_id["document"]["doc_id"] == "证券法-2019-12-28"
    assert [v["clause_id"] for v in by_id["versions"]] == [ART191]
    assert [r["clause_id"] for r in by_id["references"]] == [
        "证券法-2019-12-28#art53", "证券法-2019-12-28#art54"]
    for ref in by_id["references"]:
        assert ref["text"] == text[ref["start"]:ref["end"]]
    # a law with two versions: the version in force, and the other one beside it
    company = data(await session.call_tool("get_clause", {"clause": "公司法第四十九条"}))
    assert company["clause"]["clause_id"] == "公司法-2023-12-29#art49"
    assert [v["doc_id"] for v in company["versions"]] == ["公司法-2018-10-26",
                                                         "公司法-2023-12-29"]
    then = data(await session.call_tool("get_clause", {"clause": "公司法第二十八条",
                                                       "as_of": "2020-01-01"}))
    assert then["clause"]["clause_id"] == "公司法-2018-10-26#art28"

    # compare_versions: exactly what `rag diff --json` prints
    compared = data(await session.call_tool("compare_versions",
                                            {"article": "公司法第四十九条"}))
    assert compared == expected["diff"]
    assert compared["older"]["clause_id"] == "公司法-2018-10-26#art28"
    assert compared["newer"]["clause_id"] == "公司法-2023-12-29#art49"
    assert compared["relation"] == "changed"
    for side, kind in (("older", "deleted"), ("newer", "inserted")):
        version = compared[side]
        doc = index.documents[version["doc_id"]]
        assert version["text"] == doc.text[version["start"]:version["end"]]
        assert version["marks"] and {m["kind"] for m in version["marks"]} == {kind}

    # list_documents: filtered by words, kind and date
    company_laws = data(await session.call_tool("list_documents", {"query": "公司法"}))
    assert company_laws["total"] == 2
    assert [d["doc_id"] for d in company_laws["documents"]] == ["公司法-2018-10-26",
                                                               "公司法-2023-12-29"]
    interpretations = data(await session.call_tool(
        "list_documents", {"kinds": ["judicial_interpretation"], "date_from": "2020-01-01"}))
    assert {d["doc_id"] for d in interpretations["documents"]} == {
        d.doc_id for d in index.documents.values()
        if d.kind == "judicial_interpretation" and (d.version or d.date or "") >= "2020-01-01"}
    assert interpretations["total"] == 2

    # resources: clause://ID and document://ID (templates)
    templates = (await session.list_resource_templates()).resource_templates
    assert {t.uri_template for t in templates} == {"clause://{+clause_id}",
                                                   "document://{+doc_id}"}
    read = await session.read_resource(hit["uri"])
    assert json.loads(read.contents[0].text) == by_id  # type: ignore[union-attr]
    read = await session.read_resource("document://证券法-2019-12-28")
    document = json.loads(read.contents[0].text)  # type: ignore[union-attr]
    assert document["text"] == text
    assert document["document"]["sha256"] == index.text_hash("证券法-2019-12-28")


async def bad_input(session: ClientSession) -> None:
    """Each bad argument is a tool error that says what is wrong; the server goes on."""
    too_long = "问" * (MAX_QUESTION_CHARS + 1)
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("ask", {"question": too_long}, f"at most {MAX_QUESTION_CHARS} characters"),
        ("search_clauses", {"question": "内幕交易", "top": MAX_TOP + 1},
         f"less than or equal to {MAX_TOP}"),
        ("ask", {"question": "   "}, "invalid question"),
        ("ask", {"question": "内幕交易", "filters": {"as_of": "2024-02-30"}},
         "as-of date '2024-02-30' is not a date"),
        ("ask", {"question": "内幕交易", "filters": {"doc_ids": ["no-such-law"]}},
         "unknown document id no-such-law"),
        ("ask", {"question": "内幕交易", "filters": {"kinds": ["novel"]}}, "kinds"),
        ("get_clause", {"clause": "证券法-2019-12-28#art9999"},
         "no clause '证券法-2019-12-28#art9999' in the index"),
        ("get_clause", {"clause": ART191, "as_of": "2023-13-01"}, "'2023-13-01' is not a date"),
        ("compare_versions", {"article": "证券法第一条"}, "has one version in the index"),
        ("compare_versions", {"article": "no article here"}, "names no article"),
        ("compare_versions", {"article": "公司法第四十九条", "date_from": "1990-01-01"},
         "was in force on 1990-01-01"),
        ("list_documents", {"date_to": "yesterday"}, "date_to"),
        ("list_documents", {"limit": 0}, "greater than or equal to 1"),
    ]
    for name, arguments, says in cases:
        message = error_text(await session.call_tool(name, arguments))
        assert says in message, (name, arguments, message)
        assert "Traceback" not in message
    for uri, says in (("clause://nope%23art1", "no clause 'nope#art1'"),
                      ("document://nope", "no document 'nope'")):
        with pytest.raises(MCPError, match=says):
            await session.read_resource(uri)
    assert data(await session.call_tool("list_documents", {"query": "证券法"}))["total"] == 1


@pytest.fixture(scope="module")
def expected(shipped_index: Index, hashing_encoder: Encoder, shipped_index_dir: Path
             ) -> dict[str, Any]:
    """What the REST API's record and `rag diff --json` say, computed here in-process."""
    record = AnswerRecord.of(answer(QUESTION, index=shipped_index, encoder=hashing_encoder,
                                    k=3))
    return {"ask": record.model_dump(mode="json"), "diff": _diff_json(shipped_index_dir)}


def _diff_json(index_dir: Path) -> dict[str, Any]:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli.main(["diff", "公司法第四十九条", "--json", "--index", str(index_dir)]) == 0
    return dict(json.loads(out.getvalue()))


def test_stdio_serves_every_tool_and_resource_and_refuses_bad_input(
        shipped_index_dir: Path, shipped_index: Index, expected: dict[str, Any],
        tmp_path: Path) -> None:
    async def check(session: ClientSession) -> None:
        await every_tool_and_resource(session, shipped_index, expected)
        await bad_input(session)

    errlog = tmp_path / "stderr.txt"
    run_stdio(shipped_index_dir, tmp_path / "home", check, errlog)
    assert "Traceback" not in errlog.read_text()


def test_rag_mcp_without_an_index_says_how_to_build_one(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["mcp", "--index", str(tmp_path / "none"), "--model", "hashing:64"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("rag mcp: ") and "rag index" in err and "Traceback" not in err


def test_a_stdio_server_exits_cleanly_when_its_client_vanishes_mid_call(
        shipped_index_dir: Path, tmp_path: Path) -> None:
    """The client (the SDK's session, in its own process, on the server's pipes) starts 12
    slow questions and is killed when the first is answered: the server sees its stdin
    close with the rest in flight, and exits 0 without a traceback."""
    to_server_r, to_server_w = os.pipe()
    to_client_r, to_client_w = os.pipe()
    server_err = (tmp_path / "server.err").open("w+")
    server = subprocess.Popen(
        [sys.executable, "-m", "rag", "mcp", "--index", str(shipped_index_dir)],
        stdin=to_server_r, stdout=to_client_w, stderr=server_err, cwd=REPO,
        env=child_env(tmp_path / "home"))
    client = subprocess.Popen(
        [sys.executable, "-m", "tests.mcp_client", "12"], stdin=to_client_r,
        stdout=to_server_w, stderr=subprocess.PIPE, cwd=REPO, env=child_env(tmp_path))
    for end in (to_server_r, to_server_w, to_client_r, to_client_w):
        os.close(end)  # only the two children hold the pipes now
    try:
        assert client.stderr is not None
        line = client.stderr.readline()  # blocks until the first answer came back
        assert line == b"answered\n", line + client.stderr.read()
        client.send_signal(signal.SIGKILL)
        client.wait(timeout=10)
        code = server.wait(timeout=120)
    finally:
        for process in (client, server):
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
    server_err.seek(0)
    err = server_err.read()
    assert code == 0, err
    assert "Traceback" not in err and "Error" not in err, err


# ---------------------------------------------------------------- streamable HTTP


@pytest.fixture(scope="module")
def served(shipped_index_dir: Path, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[str]:
    """A real ``rag serve`` (its own process) on the shipped index; yields its base URL."""
    port = free_port()
    home = tmp_path_factory.mktemp("serve-home")
    log = (home / "serve.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "rag", "serve", "--index", str(shipped_index_dir),
         "--no-update", "--port", str(port)],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=REPO,
        env=child_env(home))
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, (home / "serve.log").read_text()
            try:
                if httpx.get(url + "api/v1/health").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "rag serve did not come up"
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def run_http(url: str, check: Check) -> None:
    async def main() -> None:
        async with streamable_http_client(url + "mcp") as (read, write), \
                ClientSession(read, write) as session:
            await session.initialize()
            await check(session)

    anyio.run(main)


def test_rag_serve_offers_the_same_tools_at_slash_mcp(
        served: str, shipped_index: Index, expected: dict[str, Any]) -> None:
    async def check(session: ClientSession) -> None:
        await every_tool_and_resource(session, shipped_index, expected)
        await bad_input(session)
        # the very record the REST API gives for the clause
        mcp = data(await session.call_tool("get_clause", {"clause": ART191}))
        rest = httpx.get(served + "api/v1/clauses/" + ART191.replace("#", "%23"))
        assert rest.status_code == 200 and rest.json() == mcp

    run_http(served, check)


def test_a_vanished_http_client_leaves_the_server_answering(served: str) -> None:
    async def leave_mid_call(session: ClientSession) -> None:
        with anyio.move_on_after(0.05):
            async with anyio.create_task_group() as group:
                for _ in range(20):
                    group.start_soon(session.call_tool, "ask",
                                     {"question": "内幕交易 " * 300, "top": MAX_TOP})

    run_http(served, leave_mid_call)

    async def still_answers(session: ClientSession) -> None:
        found = data(await session.call_tool("search_clauses", {"question": QUESTION}))
        assert found["hits"][0]["clause_id"] == ART191

    run_http(served, still_answers)
    assert httpx.get(served + "api/v1/health").status_code == 200


def test_slash_mcp_refuses_a_foreign_host_name(served: str) -> None:
    """DNS-rebinding protection: a page served as evil.example cannot reach the tools."""
    response = httpx.post(served + "mcp", content=b"{}", headers={
        "Host": "evil.example", "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream"})
    assert response.status_code == 421
    assert httpx.get(served + "api/v1/health").status_code == 200


def test_the_readme_client_configurations_start_these_servers() -> None:
    readme = (REPO / "README.md").read_text("utf-8")
    section = readme[readme.index("## Use it from your assistant"):]
    section = section[:section.index("\n## ")]
    stdio, http = (json.loads(block)["mcpServers"]["compliance"]
                   for block in re.findall(r"```json\n(.*?)```", section, re.S))
    assert stdio["command"] == "rag" and set(stdio["env"]) == {"RAG_HOME"}
    assert cli.build_parser().parse_args(stdio["args"]).run is cmd_mcp
    port = cli.build_parser().parse_args(["serve"]).port
    assert http == {"url": f"http://127.0.0.1:{port}{MCP_PATH}"}


@pytest.mark.scale
def test_rag_mcp_serves_an_index_on_a_milvus_server(
        shipped_index_dir: Path, hashing_encoder: Encoder, tmp_path: Path) -> None:
    with milvus_server(tmp_path / "milvus") as server:
        uri = f"{server.uri}/mcp"
        copy_index(shipped_index_dir, to=uri, encoder=hashing_encoder)

        async def check(session: ClientSession) -> None:
            found = data(await session.call_tool("get_clause",
                                                 {"clause": "《证券法》第一百九十一条"}))
            assert found["clause"]["clause_id"] == ART191
            hits = data(await session.call_tool("search_clauses", {"question": QUESTION}))
            assert hits["hits"][0]["clause_id"] == ART191
            compared = data(await session.call_tool("compare_versions",
                                                    {"article": "公司法第四十九条"}))
            assert compared["older"]["clause_id"] == "公司法-2018-10-26#art28"

        errlog = tmp_path / "stderr.txt"
        run_stdio(uri, tmp_path / "home", check, errlog)
        assert "Traceback" not in errlog.read_text()


# ---------------------------------------------------------------- the real model


@pytest.mark.integration
def test_ask_over_stdio_with_the_real_model(real_index_dir: Path, real_index: Index,
                                            real_encoder: Encoder, tmp_path: Path) -> None:
    question = "利用内幕消息炒股会被罚多少钱？"
    expected = AnswerRecord.of(answer(question, index=real_index, encoder=real_encoder, k=5))

    async def check(session: ClientSession) -> None:
        asked = data(await session.call_tool("ask", {"question": question, "top": 5}))
        assert asked == expected.model_dump(mode="json")
        assert asked["answered"] is True
        assert ART191 in [c["clause_id"] for c in asked["citations"]]
        for citation in asked["citations"]:
            doc = real_index.documents[citation["doc_id"]]
            assert citation["text"] == doc.text[citation["start"]:citation["end"]]

    errlog = tmp_path / "stderr.txt"
    run_stdio(real_index_dir, tmp_path / "home", check, errlog)
    assert "Traceback" not in errlog.read_text()


def test_building_the_server_leaves_the_process_logging_alone(
        shipped_index: Index, hashing_encoder: Encoder, monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK's server configures root logging; `rag serve` then printed bm25s's DEBUG lines."""
    import logging

    from rag.api.service import Service
    from rag.mcp.server import build_server

    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])  # as in `rag serve` (pytest adds its own)
    before = (root.handlers[:], root.level)
    build_server(Service.fixed(shipped_index, hashing_encoder))
    assert (root.handlers[:], root.level) == before
