"""The feedback endpoints over HTTP against a real server: open submission, admin review,
rate limits, bad input, trusted tokens, memory in answers, and two replicas sharing a
real PostgreSQL store."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import httpx
import pytest
from fastapi import FastAPI

from rag.api.app import install_api
from rag.api.auth import AdminToken
from rag.api.live import LiveIndex
from rag.api.models import ErrorRecord
from rag.api.service import Service
from rag.encoders import HashingEncoder
from rag.feedback import FeedbackStore
from rag.feedback.desk import FeedbackDesk
from rag.feedback.limits import RateLimit
from rag.search import Index
from ui.review import install_pages

ADMIN = "admin-token-0123456789abcdef"
TRUSTED = "trusted-token-0123456789abcdef"
QUESTION = "谁可以成为个体工商户？"
CLAUSE = "刑法#art446"  # no search ranks it for QUESTION: only memory can


@contextmanager
def server(index: Index, encoder: HashingEncoder, url: str, *, per_minute: float = 30,
           every: float = 2.0) -> Iterator[tuple[httpx.Client, FeedbackDesk]]:
    """An API server over its own copy of ``index`` with a feedback store at ``url``."""
    from ui.server import serving

    live = LiveIndex.fixed(replace(index), encoder)
    desk = FeedbackDesk(FeedbackStore(url), encoder=encoder,
                        limit=RateLimit(per_minute), trusted=AdminToken(TRUSTED).check,
                        every=every)
    desk.follow(lambda: live.index, live.listeners)
    service = Service(live=live, admin=AdminToken(ADMIN), feedback=desk)
    app = FastAPI()
    install_api(app, service)
    install_pages(app, service)  # /explain and /review (tests/test_review_pages.py)
    with serving(app) as base, httpx.Client(base_url=base + "api/v1", timeout=60) as client:
        yield client, desk
    desk.close()


def error_of(reply: httpx.Response, status: int) -> ErrorRecord:
    assert reply.status_code == status, reply.text
    body = ErrorRecord.model_validate(reply.json())
    assert "\n" not in body.error + body.detail and "Traceback" not in reply.text
    return body


def admin() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN}"}


def first_citation(api: httpx.Client, question: str) -> dict[str, object]:
    reply = api.post("/ask", json={"question": question, "top": 3})
    assert reply.status_code == 200, reply.text
    citations = reply.json()["citations"]
    assert citations
    return dict(citations[0])


def test_submit_review_and_the_answer_changes(
        shipped_index: Index, hashing_encoder: HashingEncoder, tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/fb.sqlite3"
    with server(shipped_index, hashing_encoder, url) as (api, desk):
        assert first_citation(api, QUESTION)["clause_id"] != CLAUSE
        sent = api.post("/feedback", json={"question": QUESTION, "clause_id": CLAUSE,
                                           "verdict": "governs"})
        assert sent.status_code == 201, sent.text
        record = sent.json()
        assert (record["status"], record["client"], record["source"]) == (
            "pending", "127.0.0.1", "api")
        assert first_citation(api, QUESTION)["clause_id"] != CLAUSE  # pending: no change

        assert error_of(api.get("/feedback"), 401).error == "admin token required"
        assert error_of(api.post(f"/feedback/{record['id']}/accept",
                                 headers={"Authorization": "Bearer wrong"}), 401)
        listed = api.get("/feedback", params={"status": "pending"}, headers=admin()).json()
        assert [r["id"] for r in listed["records"]] == [record["id"]]
        assert listed["counts"] == {"pending": 1, "accepted": 0, "rejected": 0}

        accepted = api.post(f"/feedback/{record['id']}/accept", headers=admin())
        assert accepted.json()["status"] == "accepted"
        assert accepted.json()["decided_by"] == "admin"
        cited = first_citation(api, QUESTION)
        assert (cited["clause_id"], cited["via"]) == (CLAUSE, "memory")

        rejected = api.post(f"/feedback/{record['id']}/reject", headers=admin())
        assert rejected.json()["status"] == "rejected"
        assert first_citation(api, QUESTION)["clause_id"] != CLAUSE
        assert api.delete(f"/feedback/{record['id']}", headers=admin()).json()["id"] \
            == record["id"]
        assert error_of(api.delete(f"/feedback/{record['id']}", headers=admin()),
                        404).error == "unknown feedback"
        assert error_of(api.post("/feedback/999/accept", headers=admin()), 404)
        assert desk.store.records() == []


def test_bad_feedback_is_a_clear_4xx_and_stores_nothing(
        shipped_index: Index, hashing_encoder: HashingEncoder, tmp_path: object) -> None:
    with server(shipped_index, hashing_encoder, f"sqlite:///{tmp_path}/fb.sqlite3") \
            as (api, desk):
        unknown = error_of(api.post("/feedback", json={
            "question": QUESTION, "clause_id": "证券法#art9999", "verdict": "governs"}), 404)
        assert unknown.error == "unknown clause" and "证券法#art9999" in unknown.detail
        huge = error_of(api.post("/feedback", json={
            "question": "问" * 100_000, "clause_id": CLAUSE, "verdict": "governs"}), 400)
        assert "question" in huge.detail and "2000" in huge.detail
        verdict = error_of(api.post("/feedback", json={
            "question": QUESTION, "clause_id": CLAUSE, "verdict": "great"}), 400)
        assert "verdict" in verdict.detail
        assert error_of(api.post("/feedback", json={"question": " ", "clause_id": CLAUSE,
                                                    "verdict": "governs"}), 400)
        assert error_of(api.post("/feedback", content=b"{not json",
                                 headers={"content-type": "application/json"}), 400)
        assert error_of(api.get("/feedback", params={"status": "maybe"}, headers=admin()),
                        400)
        assert desk.store.records() == []


def test_a_flood_from_one_client_is_429_and_nothing_accepted_is_lost(
        shipped_index: Index, hashing_encoder: HashingEncoder, tmp_path: object) -> None:
    with server(shipped_index, hashing_encoder, f"sqlite:///{tmp_path}/fb.sqlite3",
                per_minute=30) as (api, desk):
        answers = [api.post("/feedback", json={"question": f"问题{i}", "clause_id": CLAUSE,
                                               "verdict": "not_relevant"})
                   for i in range(40)]
        statuses = [a.status_code for a in answers]
        assert statuses[:30] == [201] * 30
        assert set(statuses[30:]) == {429}
        limited = error_of(answers[30], 429)
        assert limited.error == "too many requests"
        assert 1 <= int(answers[30].headers["Retry-After"]) <= 3
        stored = desk.store.records()
        assert sorted(r.question for r in stored) == sorted(f"问题{i}" for i in range(30))
        # the admin's review is not rate-limited by the flood
        assert api.get("/feedback", headers=admin()).status_code == 200


def test_a_trusted_token_is_accepted_at_once(
        shipped_index: Index, hashing_encoder: HashingEncoder, tmp_path: object) -> None:
    with server(shipped_index, hashing_encoder, f"sqlite:///{tmp_path}/fb.sqlite3") \
            as (api, desk):
        sent = api.post("/feedback", json={"question": QUESTION, "clause_id": CLAUSE,
                                           "verdict": "governs"},
                        headers={"Authorization": f"Bearer {TRUSTED}"})
        assert sent.json()["status"] == "accepted"
        assert sent.json()["decided_by"] == "trusted token"
        assert first_citation(api, QUESTION)["clause_id"] == CLAUSE
        untrusted = api.post("/feedback", json={"question": "另一个问题", "clause_id": CLAUSE,
                                                "verdict": "governs"},
                             headers={"Authorization": "Bearer not-the-token"})
        assert untrusted.json()["status"] == "pending"
        # a confirmed clause the index no longer holds is listed, not dropped
        desk.store.add("旧问题", "已删除#art1", "governs", client="x", source="import",
                       status="accepted")
        listed = api.get("/feedback", headers=admin()).json()
        assert [r["clause_id"] for r in listed["missing_clauses"]] == ["已删除#art1"]
        assert len(listed["records"]) == 3


def test_two_replicas_share_one_postgresql_store(
        shipped_index: Index, hashing_encoder: HashingEncoder, postgres_url: str) -> None:
    from tests.postgres import fresh_database

    url = fresh_database(postgres_url, "replicas")
    with server(shipped_index, hashing_encoder, url, every=0.2) as (one, _), \
            server(shipped_index, hashing_encoder, url, every=0.2) as (two, _):
        sent = one.post("/feedback", json={"question": QUESTION, "clause_id": CLAUSE,
                                           "verdict": "governs"}).json()
        assert [r["id"] for r in two.get("/feedback", headers=admin()).json()["records"]] \
            == [sent["id"]]
        two.post(f"/feedback/{sent['id']}/accept", headers=admin())
        deadline = time.monotonic() + 20
        while first_citation(one, QUESTION)["clause_id"] != CLAUSE:
            assert time.monotonic() < deadline, "replica one never saw the decision"
            time.sleep(0.2)
        assert first_citation(two, QUESTION)["clause_id"] == CLAUSE


def test_rate_limit_refills() -> None:
    now = [0.0]
    limit = RateLimit(30, clock=lambda: now[0])
    assert all(limit.take("a") == 0 for _ in range(30))
    assert limit.take("a") == pytest.approx(2.0)
    assert limit.take("b") == 0  # another client has its own bucket
    now[0] += 2.0
    assert limit.take("a") == 0
    assert limit.take("a") > 0
    with pytest.raises(ValueError, match="must be positive"):
        RateLimit(0)


def test_the_right_clause_may_be_named_by_its_citation(
        shipped_index: Index, hashing_encoder: HashingEncoder, tmp_path: object) -> None:
    with server(shipped_index, hashing_encoder, f"sqlite:///{tmp_path}/fb.sqlite3") \
            as (api, _):
        for named in ("《证券法》第一百九十七条", "证券法第197条",
                      "中华人民共和国证券法第一百九十七条"):
            sent = api.post("/feedback", json={"question": QUESTION, "clause_id": named,
                                               "verdict": "governs"})
            assert sent.json()["clause_id"] == "证券法-2019-12-28#art197", named
        current = api.post("/feedback", json={"question": QUESTION, "verdict": "governs",
                                              "clause_id": "《公司法》第四十九条"})
        assert current.json()["clause_id"] == "公司法-2023-12-29#art49"  # the version in force
        assert error_of(api.post("/feedback", json={
            "question": QUESTION, "verdict": "governs",
            "clause_id": "《证券法》第一百九十七条和第一百九十八条"}), 404).detail.endswith(
            "names several clauses; give one")
        assert error_of(api.post("/feedback", json={
            "question": QUESTION, "verdict": "governs", "clause_id": "《证券法》第九百条"}),
            404).error == "unknown clause"
