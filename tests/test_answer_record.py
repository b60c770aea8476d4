"""One answer, one record: `rag ask --json`, `rag batch` lines and the API emit the same
keys and citations; no front end shows a server path."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from rag import cli
from rag.answer import answer
from rag.answer.records import AnswerRecord, answer_record
from rag.api.app import install_api
from rag.api.service import Service
from rag.api.views import document_detail, list_documents
from rag.core.citations import shown_source
from rag.core.filters import Filters
from rag.encoders import HashingEncoder
from rag.export.docx import memo_docx_bytes
from rag.export.markdown import memo_markdown
from rag.export.records import batch_row, csv_rows
from rag.export.text import format_answer
from rag.search import Index
from ui import render
from ui.library_html import reader_html, table_html

from .conftest import CORPUS

QUESTION = "《证券法》第一百九十一条"
SOURCE = "corpus/lawrefbook/民法商法/证券法(2019-12-28).md"
SERVER_PATH = str(CORPUS.parent)  # the checkout's absolute path: never shown


@pytest.fixture(scope="module")
def client(shipped_index: Index, hashing_encoder: HashingEncoder) -> Iterator[TestClient]:
    app = FastAPI()
    install_api(app, Service.fixed(shipped_index, hashing_encoder))
    with TestClient(app) as test_client:
        yield test_client


def cli_json(shipped_index_dir: Path, capsys: pytest.CaptureFixture[str],
             *argv: str) -> str:
    code = cli.main([*argv, "--index", str(shipped_index_dir), "--model", "hashing:256"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def shape(value: object) -> object:
    """The keys of a JSON value, recursively (values dropped)."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value]
    return None


@pytest.mark.parametrize("debug", [False, True])
def test_cli_batch_and_api_emit_one_record(
        debug: bool, shipped_index_dir: Path, client: TestClient, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    flag = ["--debug"] if debug else []
    asked = json.loads(cli_json(shipped_index_dir, capsys, "ask", QUESTION, "--json", *flag))
    questions = tmp_path / "q.txt"
    questions.write_text(QUESTION + "\n", encoding="utf-8")
    (line,) = cli_json(shipped_index_dir, capsys, "batch", str(questions), *flag).splitlines()
    batched = json.loads(line)
    reply = client.post("/api/v1/ask", json={"question": QUESTION, "debug": debug})
    assert reply.status_code == 200, reply.text
    served = reply.json()
    (streamed,) = [json.loads(x) for x in client.post(
        "/api/v1/batch", json={"questions": [QUESTION], "debug": debug}).text.splitlines()]

    assert list(asked) == list(AnswerRecord.model_fields)
    for other in (batched, served, streamed):
        assert shape(other) == shape(asked)  # identical keys, all the way down
        assert other["citations"] == asked["citations"]
        assert other["related"] == asked["related"]
        assert other["debug"] == asked["debug"]
    assert (asked["id"], asked["line"], served["id"], served["line"]) == (None,) * 4
    assert (batched["id"], batched["line"], streamed["id"], streamed["line"]) == ("1", 1, "1", 1)
    assert asked["error"] is None and batched["error"] is None
    first = asked["citations"][0]
    assert (first["status"], first["status_label"], first["source"]) == (
        "in_force", "现行有效", SOURCE)
    if debug:
        scored = asked["debug"]["citations"]
        assert [c["clause_id"] for c in scored] == [c["clause_id"] for c in asked["citations"]]
        assert scored[0]["scores"] == {"lookup": 1.0} and scored[0]["ranks"] == {"lookup": 1}
        assert [r["phrase"] for r in scored[0]["inner"]] == ["前款"]
    else:
        assert asked["debug"] is None


def test_a_failed_batch_row_has_the_same_keys(shipped_index: Index,
                                              hashing_encoder: HashingEncoder) -> None:
    result = answer(QUESTION, index=shipped_index, encoder=hashing_encoder, k=1)
    good = batch_row(id="1", question=QUESTION, line=1, result=result, error=None)
    bad = batch_row(id="2", question="", line=2, result=None, error="the question is empty")
    assert list(bad) == list(good)
    assert (bad["error"], bad["citations"], bad["audit"], bad["answered"]) == (
        "the question is empty", [], None, False)


def test_the_record_is_built_from_the_dataclasses(shipped_index: Index,
                                                  hashing_encoder: HashingEncoder) -> None:
    result = answer("公司法第四十九条", index=shipped_index, encoder=hashing_encoder, k=2)
    record = AnswerRecord.of(result)
    cited = result.citations[0]
    first = record.citations[0]
    assert (first.clause_id, first.text, first.path) == (cited.clause_id, cited.text,
                                                        list(cited.path))
    compared = first.versions[0]
    assert (compared.older.status, compared.older.status_label) == ("superseded", "已被修订")
    assert [m.kind for m in compared.older.marks] == [m.kind for m in cited.versions[0].older.marks]
    # a record read back (a client's round trip) keeps its label tied to its code
    again = AnswerRecord.model_validate(record.model_dump(mode="json"))
    assert again == record


# ---------------------------------------------------------------- no server paths


def test_shown_source_is_relative_to_the_indexed_root() -> None:
    roots = ["/srv/data/corpus", "/srv/data/corpus/lawrefbook", "/srv/one.md"]
    assert shown_source("/srv/data/corpus/seeds/a.txt", roots) == "corpus/seeds/a.txt"
    # the innermost root names it
    assert shown_source("/srv/data/corpus/lawrefbook/刑法/刑法.md", roots) == \
        "lawrefbook/刑法/刑法.md"
    assert shown_source("/srv/one.md", roots) == "one.md"  # an indexed file: its name
    assert shown_source("/elsewhere/x/证券法.md", roots) == "证券法.md"  # no root known
    assert shown_source("/srv/data/corpus2/b.md", roots) == "b.md"  # not a prefix match
    assert shown_source("", roots) == ""


def test_no_front_end_shows_a_server_path(shipped_index: Index, hashing_encoder: HashingEncoder,
                                          client: TestClient) -> None:
    result = answer(QUESTION, index=shipped_index, encoder=hashing_encoder, k=3)
    refused = answer("Who won the 2022 FIFA World Cup?", index=shipped_index,
                     encoder=hashing_encoder, k=3)
    assert result.citations[0].source == SOURCE
    assert all(c.source.startswith("corpus/") for r in (result, refused)
               for c in (*r.citations, *r.related))
    row = answer_record(result, id="1", line=1)
    cells = io.StringIO()
    csv.writer(cells).writerows(csv_rows(row))
    with zipfile.ZipFile(io.BytesIO(memo_docx_bytes([result, refused]))) as docx:
        word = docx.read("word/document.xml").decode("utf-8")
    reply = client.post("/api/v1/ask", json={"question": QUESTION})
    documents = client.get("/api/v1/documents").text
    found = list_documents(shipped_index, Filters(), owned=lambda d: False)
    doc = shipped_index.documents[result.citations[0].doc_id]
    shown = {
        "text": format_answer(result) + format_answer(refused),
        "card": render.transcript_html([result, refused]),
        "copy": render.answer_text(result),
        "memo.md": memo_markdown([result, refused]),
        "memo.docx": word,
        "csv": cells.getvalue(),
        "jsonl": json.dumps(row, ensure_ascii=False),
        "api": reply.text,
        "api documents": documents,
        "library table": table_html(found),
        "library reader": reader_html(document_detail(doc, shipped_index,
                                                      owned=lambda d: False)),
    }
    for where, text in shown.items():
        assert SERVER_PATH not in text, where
        assert SOURCE in text or where in ("api documents", "library table"), where
    assert "corpus/lawrefbook/" in shown["library table"]
    # only the admin's page is handed the absolute paths
    paths = {d.doc_id: shipped_index.documents[d.doc_id].source_path for d in found.documents}
    assert doc.source_path in table_html(found, paths=paths)
    assert doc.source_path.startswith(SERVER_PATH)
