"""The REST API over HTTP against a real server (httpx): answers, schema, streamed batches,
clauses, documents, and every error path. The shipped corpus, hashing encoder."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import numpy as np
import pytest

import rag
from rag.answer import answer
from rag.answer.wording import NO_PENALTY
from rag.api.models import (
    AnswerRecord,
    Audit,
    ClauseDetail,
    DocumentDetail,
    DocumentList,
    ErrorRecord,
    Health,
    VersionInfo,
)
from rag.api.service import Service
from rag.encoders import Encoder, HashingEncoder
from rag.export.records import batch_row
from rag.search import Index

from .chat import running_service

ART191 = "证券法-2019-12-28#art191"


@pytest.fixture(scope="module")
def url(shipped_index: Index, hashing_encoder: HashingEncoder,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    service = Service.fixed(shipped_index, hashing_encoder)
    with running_service(service, memo_root=tmp_path_factory.mktemp("memos")) as base:
        yield base


@pytest.fixture(scope="module")
def api(url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=url + "api/v1", timeout=60) as client:
        yield client


def error_of(reply: httpx.Response, status: int) -> ErrorRecord:
    """The reply is the JSON error shape with this status, each part one line."""
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"].startswith("application/json")
    body = ErrorRecord.model_validate(reply.json())
    assert body.error and body.detail and "\n" not in body.error + body.detail
    assert "Traceback" not in reply.text
    return body


def verbatim(citations: Sequence[dict[str, object]], index: Index) -> None:
    """Every quote is its document's text[start:end], from the revision it names."""
    for c in citations:
        doc = index.documents[str(c["doc_id"])]
        start, end = int(c["start"]), int(c["end"])  # type: ignore[call-overload]
        assert doc.text[start:end] == c["text"]
        assert c["document_sha256"] == hashlib.sha256(doc.text.encode()).hexdigest()
        for mark in c["highlights"]:  # type: ignore[attr-defined]
            assert 0 <= mark["start"] < mark["end"] <= end - start
            assert mark["kind"] in ("sentence", "term")


# ---------------------------------------------------------------- ask


def test_ask_quotes_verbatim_with_offsets_citations_and_audit(
        api: httpx.Client, shipped_index: Index, hashing_encoder: HashingEncoder) -> None:
    reply = api.post("/ask", json={"question": "《证券法》第一百九十一条", "top": 3})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    record = AnswerRecord.model_validate(body)
    first = record.citations[0]
    assert (first.clause_id, first.label, first.via, first.rank) == (
        ART191, "第一百九十一条", "lookup", 1)
    assert first.citation == "《中华人民共和国证券法》（2019年修订）第一百九十一条"
    assert (first.status, first.status_label) == ("in_force", "现行有效")
    assert first.path == ["第十三章 法律责任"]
    assert first.source == "corpus/lawrefbook/民法商法/证券法(2019-12-28).md"  # no server path
    assert "证券法-2019-12-28#art53" in first.related
    assert [r.clause_id for r in record.related][:1] == ["证券法-2019-12-28#art53"]
    verbatim(body["citations"] + body["related"], shipped_index)
    # audit: the exact index generation, model and program that answered
    info = shipped_index.info()
    assert record.audit == Audit.model_validate(info)
    assert record.audit is not None
    assert record.audit.fingerprint == shipped_index.manifest["corpus_fingerprint"]
    assert record.audit.model_identity == "hashing-v1-d256"
    assert record.audit.package_version == rag.__version__
    # the API adds nothing of its own: the library call's answer, as the shared record
    expected = answer("《证券法》第一百九十一条", index=shipped_index, encoder=hashing_encoder,
                      k=3)
    assert body == AnswerRecord.of(expected).model_dump(mode="json")


def test_ask_filters_and_as_of_are_applied_and_echoed(api: httpx.Client) -> None:
    reply = api.post("/ask", json={
        "question": "内幕交易的违法所得怎么计算", "top": 4,
        "filters": {"kinds": ["judicial_interpretation"], "as_of": "2020-03-01"}})
    body = reply.json()
    assert reply.status_code == 200 and body["citations"]
    assert {c["kind"] for c in body["citations"]} == {"judicial_interpretation"}
    assert body["filters"]["kinds"] == ["judicial_interpretation"]
    assert body["filters"]["as_of"] == "2020-03-01"
    only = api.post("/ask", json={"question": "罚款", "filters": {
        "doc_ids": ["证券法-2019-12-28"]}}).json()
    assert {c["doc_id"] for c in only["citations"]} == {"证券法-2019-12-28"}


BAD_ASKS = [
    ({"question": ""}, "invalid question", "the question is empty"),
    ({"question": "   "}, "invalid question", "the question is empty"),
    ({"question": "罚款", "top": 0}, "invalid request", "top: Input should be greater"),
    ({"question": "罚款", "top": 101}, "invalid request", "top: Input should be less"),
    ({"question": "罚款", "topk": 3}, "invalid request", "topk: Extra inputs"),
    ({"top": 3}, "invalid request", "question: Field required"),
    ({"question": 7}, "invalid request", "question: Input should be a valid string"),
    ({"question": "x" * 2001}, "invalid request", "question: String should have at most 2000"),
    ({"question": "罚款", "filters": {"kinds": ["statute"]}}, "invalid request",
     "'law', 'regulation', 'judicial_interpretation'"),
    ({"question": "罚款", "filters": {"as_of": "2020-3-1"}}, "invalid request",
     "filters.as_of: String should match pattern"),
    ({"question": "罚款", "filters": {"as_of": "2020-13-01"}}, "invalid filters",
     "as-of date"),
    ({"question": "罚款", "filters": {"date_from": "2022-01-01", "date_to": "2020-01-01"}},
     "invalid filters", "from date 2022-01-01 is after to date 2020-01-01"),
    ({"question": "罚款", "filters": {"doc_ids": ["no-such-law"]}}, "invalid filters",
     "unknown document id no-such-law; the index holds: 000_f3c2838118472376"),
]


@pytest.mark.parametrize(("body", "error", "detail"), BAD_ASKS)
def test_bad_input_is_400_saying_what_to_do(api: httpx.Client, body: dict[str, object],
                                           error: str, detail: str) -> None:
    found = error_of(api.post("/ask", json=body), 400)
    assert found.error == error
    assert detail in found.detail


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"", "问题".encode()])
def test_malformed_bodies_are_400(api: httpx.Client, raw: bytes) -> None:
    found = error_of(api.post("/ask", content=raw,
                              headers={"content-type": "application/json"}), 400)
    assert "/openapi.json" in found.detail


# ---------------------------------------------------------------- batch


class GatedEncoder(HashingEncoder):
    """The hashing encoder whose query embeddings wait at ``gate`` after the first 32
    (``answer_many`` embeds each question alone, as it answers it)."""

    def __init__(self) -> None:
        super().__init__(dimension=256)
        self.gate = threading.Event()
        self.calls = 0

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        if self.calls > 32 and not self.gate.wait(timeout=60):
            raise RuntimeError("the test never opened the gate")
        return super().encode_queries(texts)


def test_batch_streams_json_lines_as_they_are_answered(
        shipped_index: Index, tmp_path: Path) -> None:
    encoder = GatedEncoder()
    questions: list[object] = [f"内幕交易 罚款 {n}" for n in range(32)]
    questions += [{"id": "blank", "question": "  "}, {"id": "art", "question": "证券法第191条"}]
    service = Service.fixed(shipped_index, encoder)
    with running_service(service, memo_root=tmp_path) as url, \
            httpx.stream("POST", url + "api/v1/batch", json={"questions": questions, "top": 2},
                         timeout=60) as reply:
        assert reply.status_code == 200
        assert reply.headers["content-type"] == "application/x-ndjson"
        assert "content-length" not in reply.headers  # chunked: sent as answered
        lines = reply.iter_lines()
        first = [json.loads(next(lines)) for _ in range(32)]  # the 33rd embedding waits
        assert not encoder.gate.is_set()
        encoder.gate.set()
        rest = [json.loads(line) for line in lines]
    rows = first + rest
    assert [r["line"] for r in rows] == list(range(1, 35))
    assert [r["id"] for r in rows] == [str(n) for n in range(1, 33)] + ["blank", "art"]
    for row in rows:
        AnswerRecord.model_validate(row)
    assert rows[32]["error"] == "the question is empty" and rows[32]["citations"] == []
    assert rows[33]["citations"][0]["clause_id"] == ART191
    verbatim([c for r in rows for c in r["citations"]], shipped_index)
    # the same schema as `rag batch`: one function makes both rows
    result = answer("证券法第191条", index=shipped_index, encoder=encoder, k=2)
    assert rows[33] == batch_row(id="art", question="证券法第191条", line=34, result=result,
                                 error=None)


@pytest.mark.parametrize(("body", "detail"), [
    ({"questions": []}, "questions: List should have at least 1 item"),
    ({"questions": ["q"] * 1001}, "questions: List should have at most 1000 items"),
    ({"questions": ["q"], "filters": {"kinds": ["law"], "doc_ids": ["nope"]}},
     "unknown document id nope"),
    ({"questions": [{"question": "q", "extra": 1}]}, "Extra inputs are not permitted"),
])
def test_bad_batches_are_refused_before_streaming(api: httpx.Client, body: dict[str, object],
                                                  detail: str) -> None:
    assert detail in error_of(api.post("/batch", json=body), 400).detail


# ---------------------------------------------------------------- clauses, documents


def test_a_clause_with_its_document_versions_and_references(
        api: httpx.Client, shipped_index: Index) -> None:
    reply = api.get("/clauses/" + ART191.replace("#", "%23"))
    assert reply.status_code == 200, reply.text
    found = ClauseDetail.model_validate(reply.json())
    doc = shipped_index.documents["证券法-2019-12-28"]
    assert found.clause.text == doc.text[found.clause.start:found.clause.end]
    assert found.clause.text.startswith("第一百九十一条 证券交易内幕信息的知情人")
    assert found.clause.citation == "《中华人民共和国证券法》（2019年修订）第一百九十一条"
    assert found.document.title == "中华人民共和国证券法" and found.document.kind == "law"
    assert found.document.sha256 == hashlib.sha256(doc.text.encode()).hexdigest()
    assert [(v.doc_id, v.preferred, v.clause_id) for v in found.versions] == [
        ("证券法-2019-12-28", True, ART191)]
    assert [r.clause_id for r in found.references] == ["证券法-2019-12-28#art53",
                                                       "证券法-2019-12-28#art54"]
    assert found.references[0].text.startswith("第五十三条 证券交易内幕信息的知情人")


def test_a_clause_with_who_cites_it_and_what_enforces_it(api: httpx.Client,
                                                        shipped_index: Index) -> None:
    reply = api.get("/clauses/" + "证券法-2019-12-28#art53".replace("#", "%23"))
    assert reply.status_code == 200, reply.text
    found = ClauseDetail.model_validate(reply.json())
    assert ART191 in [r.clause_id for r in found.referenced_by]
    kinds = {(p.clause_id, p.kind) for p in found.penalties}
    assert {(ART191, "explicit"), ("刑法#art180", "criminal")} <= kinds
    for penalty in found.penalties:
        for words in penalty.evidence:
            assert shipped_index.documents[words.doc_id].text[words.start:words.end] == \
                words.text


def test_a_duty_nothing_enforces_says_so_on_the_clause_and_in_the_answer(
        api: httpx.Client) -> None:
    # 证券法第三十八条 (应当采用公开的集中交易方式) is a duty no penalty names
    reply = api.get("/clauses/" + "证券法-2019-12-28#art38".replace("#", "%23"))
    assert reply.status_code == 200, reply.text
    found = ClauseDetail.model_validate(reply.json())
    assert (found.penalties, found.penalty_note) == ([], NO_PENALTY)
    # a duty with its penalty, and a penalty article, carry no note
    for clause_id in ("证券法-2019-12-28#art53", ART191):
        reply = api.get("/clauses/" + clause_id.replace("#", "%23"))
        assert ClauseDetail.model_validate(reply.json()).penalty_note is None
    asked = api.post("/ask", json={"question": "违反《证券法》第三十八条的规定会受到什么处罚？"})
    assert asked.status_code == 200, asked.text
    record = AnswerRecord.model_validate(asked.json())
    assert (record.citations[0].clause_id, record.citations[0].penalty_note) == (
        "证券法-2019-12-28#art38", NO_PENALTY)
    assert not any(c.via == "penalty" for c in record.citations)


def test_a_documents_register_of_duties(api: httpx.Client, shipped_index: Index) -> None:
    reply = api.get("/duties/证券法-2019-12-28", params={"format": "csv"})
    assert reply.status_code == 200, reply.text
    assert "attachment" in reply.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(reply.content.decode("utf-8-sig"))))
    text = shipped_index.documents["证券法-2019-12-28"].text
    assert len(rows) > 250 and all(text[int(r["start"]):int(r["end"])] == r["duty"]
                                   for r in rows)
    assert api.get("/duties/证券法-2019-12-28").content.startswith(b"PK")  # xlsx
    assert api.get("/duties/nope").status_code == 404
    assert api.get("/duties/证券法-2019-12-28", params={"format": "pdf"}).status_code == 400


def test_unknown_clause_is_404_and_a_bad_date_400(api: httpx.Client) -> None:
    found = error_of(api.get("/clauses/证券法-2019-12-28%23art999"), 404)
    assert found.error == "unknown clause" and "%23" in found.detail
    assert "as_of" in error_of(api.get("/clauses/x", params={"as_of": "soon"}), 400).detail


@pytest.mark.parametrize(("params", "names"), [
    ({"limit": 0}, "limit"), ({"limit": 5000}, "limit"), ({"offset": -1}, "offset"),
    ({"date_from": "2020-13-01"}, "from date"), ({"as_of": "soon"}, "as_of"),
    ({"kind": "statute"}, "kind"), ({"library": "maybe"}, "library"),
    ({"date_from": "2021-01-01", "date_to": "2020-01-01"}, "date"),
])
def test_bad_document_filters_are_400_naming_the_parameter(api: httpx.Client,
                                                          params: dict[str, str | int],
                                                          names: str) -> None:
    assert names in error_of(api.get("/documents", params=params), 400).detail


def test_documents_are_listed_with_filters(api: httpx.Client, shipped_index: Index) -> None:
    everything = DocumentList.model_validate(api.get("/documents").json())
    assert everything.total == len(shipped_index.documents) > 20
    laws = DocumentList.model_validate(api.get("/documents", params={"kind": "law"}).json())
    assert laws.total == sum(d.kind == "law" for d in shipped_index.documents.values())
    assert {d.kind for d in laws.documents} == {"law"}
    assert all(not d.library for d in laws.documents)
    securities = api.get("/documents", params={"q": "证券法"}).json()
    assert [d["doc_id"] for d in securities["documents"]] == ["证券法-2019-12-28"]
    assert securities["documents"][0]["clauses"] == sum(
        1 for c in shipped_index.clauses if c.doc_id == "证券法-2019-12-28")
    page = api.get("/documents", params={"limit": 5, "offset": 5}).json()
    assert page["total"] == len(shipped_index.documents)
    assert [d["doc_id"] for d in page["documents"]] == [
        d.doc_id for d in everything.documents[5:10]]
    dated = api.get("/documents", params={"date_from": "2022-01-01"}).json()
    assert dated["documents"] and all((d["version"] or d["date"]) >= "2022-01-01"
                                      for d in dated["documents"])
    assert "kind" in error_of(api.get("/documents", params={"kind": "statute"}), 400).detail
    assert "after" in error_of(api.get("/documents", params={
        "date_from": "2023-01-01", "date_to": "2020-01-01"}), 400).detail
    assert "limit" in error_of(api.get("/documents", params={"limit": 0}), 400).detail


def test_a_document_with_its_structure(api: httpx.Client, shipped_index: Index) -> None:
    found = DocumentDetail.model_validate(api.get("/documents/证券法-2019-12-28").json())
    assert found.text == shipped_index.documents["证券法-2019-12-28"].text
    assert found.clauses and all(found.text[c.start:c.end] == c.text for c in found.clauses)
    assert [h.text for h in found.headings][:1] == ["第一章 总则"]
    assert found.document.clauses == len(found.clauses)
    assert error_of(api.get("/documents/nope"), 404).error == "unknown document"


# ---------------------------------------------------------------- service


def test_health_and_version_name_the_index_and_model(api: httpx.Client,
                                                     shipped_index: Index) -> None:
    health = Health.model_validate(api.get("/health").json())
    assert (health.status, health.documents, health.clauses) == (
        "ok", len(shipped_index.documents), len(shipped_index.clauses))
    assert health.reindex.state == "ready"
    version = VersionInfo.model_validate(api.get("/version").json())
    assert version.package_version == rag.__version__
    assert version.index.model_identity == "hashing-v1-d256"
    assert version.index.fingerprint == shipped_index.manifest["corpus_fingerprint"]
    assert version.index.dimension == 256 and version.index.search == "exact"
    assert version.reranker is None and version.fusion["bm25_weight"] == 0.7
    assert version.writes is False


def test_a_read_only_server_has_no_write_endpoints(url: str, api: httpx.Client) -> None:
    paths = httpx.get(url + "openapi.json").json()["paths"]
    assert set(paths["/api/v1/documents"]) == {"get"}
    assert set(paths["/api/v1/reindex"]) == {"get"}
    assert "delete" not in paths["/api/v1/documents/{doc_id}"]
    token = {"Authorization": "Bearer " + "x" * 32}
    for method, path in (("POST", "/documents"), ("DELETE", "/documents/刑法"),
                         ("POST", "/reindex"), ("GET", "/nothing"), ("GET", "/ask")):
        found = error_of(api.request(method, path, headers=token), 404)
        assert found.error == "no such endpoint"
    assert httpx.get(url + "docs").status_code == 200


def test_gradio_uploads_are_refused_on_a_read_only_server(url: str) -> None:
    for path, status in (("gradio_api/upload", 403), ("upload", 404)):  # 404: no such route
        reply = httpx.post(url + path, files={"files": ("a.txt", b"x")},
                           cookies={"rag_session": "anyone"})
        assert reply.status_code == status


def test_a_server_error_is_one_line(api: httpx.Client,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire\n  at line 2")

    monkeypatch.setattr("rag.api.routes.answer", broken)
    found = error_of(api.post("/ask", json={"question": "罚款"}), 500)
    assert found.error == "server error"
    assert found.detail.startswith("RuntimeError: disk on fire at line 2;")


@pytest.mark.integration
def test_the_api_answers_with_the_real_model(real_index: Index, real_encoder: Encoder,
                                             tmp_path: Path) -> None:
    service = Service.fixed(real_index, real_encoder)
    with running_service(service, memo_root=tmp_path) as url:
        reply = httpx.post(url + "api/v1/ask", json={"question": "利用内幕消息炒股会被罚多少钱？",
                                                     "top": 3}, timeout=120).json()
    assert reply["answered"] is True
    assert ART191 in [c["clause_id"] for c in reply["citations"]]
    assert reply["audit"]["model_identity"] == real_index.model_identity
    verbatim(reply["citations"] + reply["related"], real_index)
