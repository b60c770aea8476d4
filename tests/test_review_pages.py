"""The hit-testing page and the feedback review queue: over HTTP (escaping, the rows) and
in a real browser (send feedback from /explain and from the chat's cards, accept it in
/review, see it answer; the library links to the queue once signed in)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from rag.api.auth import AdminToken
from rag.api.library import Library
from rag.api.live import LiveIndex
from rag.api.service import Service
from rag.encoders import HashingEncoder
from rag.feedback import FeedbackStore
from rag.feedback.desk import FeedbackDesk
from rag.index import Sources, index_paths
from rag.search import Index

from .chat import running_service
from .conftest import DATA
from .test_api_feedback import ADMIN, CLAUSE, QUESTION, first_citation, server
from .test_ui_browser import ask, browser  # noqa: F401  (the browser fixture)

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


@contextmanager
def whole_server(live: LiveIndex, encoder: HashingEncoder, tmp_path: Path, *,
                 library: Library | None = None) -> Iterator[tuple[str, FeedbackDesk]]:
    """The whole server (chat, gate, library, API) over ``live`` with a feedback store."""
    desk = FeedbackDesk(FeedbackStore(f"sqlite:///{tmp_path}/fb.sqlite3"), encoder=encoder)
    service = Service(live=live, library=library, admin=AdminToken(ADMIN), feedback=desk)
    try:
        with running_service(service, memo_root=tmp_path / "memos") as base:
            yield base, desk
    finally:
        desk.close()


@pytest.mark.browser
def test_feedback_from_the_chat_cards_is_stored_pending(  # type: ignore[no-untyped-def]
        browser, shipped_index: Index, hashing_encoder: HashingEncoder,  # noqa: F811
        tmp_path: Path) -> None:
    asked = '利用内幕消息炒股会被罚多少钱？<i>"急"</i>'  # sent back exactly as typed
    live = LiveIndex.fixed(replace(shipped_index), hashing_encoder)
    with whole_server(live, hashing_encoder, tmp_path) as (base, desk):
        page = browser.new_page()
        ask(page, base, asked)
        card = page.locator("#transcript article.card").first
        first = card.get_attribute("data-clause")
        assert first
        card.get_by_role("button", name="👍 governs this").click()
        card.locator(".status.sent").get_by_text("thanks — sent for review").wait_for(
            timeout=TIMEOUT_MS)

        right = page.locator("#transcript .right-clause")
        right.get_by_role("button", name="send").click()  # nothing typed: said, not sent
        right.locator(".status.err").get_by_text("type a citation").wait_for(
            timeout=TIMEOUT_MS)
        right.locator("input.right").fill("《证券法》第一百九十七条")  # resolved by look-up
        right.get_by_role("button", name="send").click()
        right.locator(".status.sent").get_by_text("thanks — sent for review").wait_for(
            timeout=TIMEOUT_MS)
        assert page.locator("#transcript .turn").count() == 1  # the conversation stays
        assert page.locator("#transcript i").count() == 0  # the question is text, not markup

        assert httpx.get(base + "api/v1/feedback", timeout=60).status_code == 401
        listed = httpx.get(base + "api/v1/feedback", params={"status": "pending"},
                           headers={"Authorization": f"Bearer {ADMIN}"}, timeout=60)
        assert listed.status_code == 200, listed.text
        records = listed.json()["records"]
        assert sorted((r["question"], r["clause_id"], r["verdict"], r["status"])
                      for r in records) == sorted([
            (asked, first, "governs", "pending"),
            (asked, "证券法-2019-12-28#art197", "governs", "pending")])
        assert len(desk.store.records("pending")) == 2


@pytest.mark.browser
def test_the_library_links_to_the_review_queue_once_signed_in(  # type: ignore[no-untyped-def]
        browser, hashing_encoder: HashingEncoder, tmp_path: Path) -> None:  # noqa: F811
    corpus = tmp_path / "corpus"
    shutil.copytree(DATA / "mini", corpus)
    index_paths([corpus], index=tmp_path / "index", encoder=hashing_encoder)
    live = LiveIndex(location=tmp_path / "index", encoder=hashing_encoder,
                     sources=Sources((corpus,)))
    live.open()
    library = Library(tmp_path / "home" / "library")
    with whole_server(live, hashing_encoder, tmp_path, library=library) as (base, _):
        page = browser.new_page()
        page.goto(base + "library")
        page.locator("#admin-token input").wait_for(timeout=TIMEOUT_MS)
        assert page.locator('a[href="/review"]').count() == 0  # not before signing in
        page.locator("#admin-token input").fill(ADMIN)
        page.locator("#admin-sign-in").click()
        link = page.locator('#admin-signed a[href="/review"]')
        link.wait_for(timeout=TIMEOUT_MS)
        assert "Review the feedback queue" in link.inner_text()
        page.goto(base + "review")
        page.locator("#token").wait_for(timeout=TIMEOUT_MS)
