"""The hit-testing page and the feedback review queue: over HTTP (escaping, the rows) and
in a real browser (send feedback from /explain, accept it in /review, see it answer)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.encoders import HashingEncoder
from rag.search import Index

from .test_api_feedback import ADMIN, CLAUSE, QUESTION, first_citation, server
from .test_ui_browser import browser  # noqa: F401  (the browser fixture)

TIMEOUT_MS = 60_000


def test_the_explain_page_escapes_and_shows_each_channel(
        shipped_index: Index, hashing_encoder: HashingEncoder, tmp_path: Path) -> None:
    with server(shipped_index, hashing_encoder, f"sqlite:///{tmp_path}/fb.sqlite3") \
            as (api, _):
        base = str(api.base_url).removesuffix("api/v1/")
        asked = "《证券法》第一百九十一条<script>x()</script>"
        page = api.get(base + "explain", params={"q": asked, "top": 5})
        assert page.status_code == 200
        html = page.text
        assert "<script>x()</script>" not in html
        assert "&lt;script&gt;x()&lt;/script&gt;" in html
        assert 'data-clause="证券法-2019-12-28#art191"' in html
        assert "named in the question (exact look-up)" in html
        assert "<th>dense<br>rank · score</th>" in html and "<th>bm25<br>rank · score</th>" in html
        assert html.count("👍 governs") == 5
        assert api.get(base + "explain", params={"q": "x" * 3000}).status_code == 400
        review = api.get(base + "review").text
        assert 'id="token"' in review and QUESTION not in review  # no data without the token


@pytest.mark.browser
def test_feedback_from_explain_then_accepted_in_review(  # type: ignore[no-untyped-def]
        browser, shipped_index: Index, hashing_encoder: HashingEncoder,  # noqa: F811
        tmp_path: Path) -> None:
    with server(shipped_index, hashing_encoder, f"sqlite:///{tmp_path}/fb.sqlite3") \
            as (api, desk):
        base = str(api.base_url).removesuffix("api/v1/")
        page = browser.new_page()
        page.goto(base + "explain?q=" + QUESTION)
        page.locator("#right").fill(CLAUSE)
        page.locator("p:has(#right) button").click()
        page.locator("p:has(#right) .status.sent").wait_for(timeout=TIMEOUT_MS)
        assert [r.clause_id for r in desk.store.records("pending")] == [CLAUSE]

        review = browser.new_page()
        review.goto(base + "review")
        review.locator("#token").fill(ADMIN)
        review.locator("#load").click()
        row = review.locator("#queue tbody tr").first
        row.get_by_text(QUESTION).wait_for(timeout=TIMEOUT_MS)
        row.get_by_text("第四百四十六条").wait_for(timeout=TIMEOUT_MS)  # the clause quoted
        assert "127.0.0.1" in row.inner_text()
        row.locator("input[type=checkbox]").check()
        review.locator("#bulk-accept").click()
        review.locator("#message").get_by_text("1 accepted").wait_for(timeout=TIMEOUT_MS)
        assert first_citation(api, QUESTION)["clause_id"] == CLAUSE


def test_the_pages_pass_the_gate_of_the_whole_server(
        shipped_index: Index, hashing_encoder: HashingEncoder, tmp_path: Path) -> None:
    """On the real server (chat, gate, API), /explain and /review are the app's own
    routes: they pass the gate untouched, and the feedback API answers behind it."""
    from dataclasses import replace

    import httpx

    from rag.api.auth import AdminToken
    from rag.api.live import LiveIndex
    from rag.api.service import Service
    from rag.feedback import FeedbackStore
    from rag.feedback.desk import FeedbackDesk

    from .chat import running_service

    live = LiveIndex.fixed(replace(shipped_index), hashing_encoder)
    desk = FeedbackDesk(FeedbackStore(f"sqlite:///{tmp_path}/fb.sqlite3"),
                        encoder=hashing_encoder)
    service = Service(live=live, admin=AdminToken(ADMIN), feedback=desk)
    with running_service(service, memo_root=tmp_path / "memos") as base:
        explain_page = httpx.get(base + "explain", params={"q": QUESTION}, timeout=60)
        assert explain_page.status_code == 200 and "👍 governs" in explain_page.text
        assert httpx.get(base + "review", timeout=60).status_code == 200
        sent = httpx.post(base + "api/v1/feedback", json={
            "question": QUESTION, "clause_id": CLAUSE, "verdict": "governs"}, timeout=60)
        assert sent.status_code == 201
    desk.close()
