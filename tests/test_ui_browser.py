"""The web chat in a real browser (Debian's headless Chromium driven by Playwright).

Needs /usr/bin/chromium (``make browser`` installs it); without it these tests fail and
say so rather than skip.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from .chat import running_chat

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
ANSWER_TIMEOUT_MS = 180_000  # the first real-model query also warms the model up


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is not installed: run `make browser` (Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@contextmanager
def running(index, encoder) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The chat server on a free localhost port, served from a background thread."""
    with tempfile.TemporaryDirectory() as memos, running_chat(
            index, encoder, memo_root=Path(memos)) as url:
        yield url


def ask(page, url: str, question: str) -> str:  # type: ignore[no-untyped-def]
    """Open the chat, submit ``question`` with Enter, return the transcript's text."""
    page.goto(url)
    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")
    page.locator("#transcript .turn .answer").first.wait_for(timeout=ANSWER_TIMEOUT_MS)
    return str(page.locator("#transcript").inner_text())


@pytest.mark.integration
def test_question_is_answered_with_the_governing_clause(browser, real_index, real_encoder) -> None:  # type: ignore[no-untyped-def]
    with running(real_index, real_encoder) as url:
        page = browser.new_page()
        text = ask(page, url, "利用内幕消息炒股会被罚多少钱？")
        assert "第一百九十一条" in text
        assert "证券法" in text
        assert page.locator("#transcript article.card").count() >= 1
        page.close()


def test_document_markup_is_shown_as_text_never_run(  # type: ignore[no-untyped-def]
    browser, tmp_path: Path, hashing_encoder
) -> None:
    from rag.index import index_paths
    from rag.search import open_index

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "转义测试通知.txt").write_text(
        "关于转义测试的通知\n\n"
        "第一条 内幕交易罚款标记文本。<script>window.__pwned=1</script>必须原样显示。\n"
        '第二条 内幕交易罚款图片标签<img src=x onerror="window.__pwned=2">必须原样显示。\n',
        encoding="utf-8",
    )
    index_paths([corpus], index=tmp_path / "index", encoder=hashing_encoder)
    index = open_index(tmp_path / "index", encoder=hashing_encoder)
    with running(index, hashing_encoder) as url:
        page = browser.new_page()
        text = ask(page, url, "内幕交易罚款 <img src=q onerror=\"window.__pwned=3\">")
        time.sleep(1.0)  # give any injected onerror handler time to fire
        assert page.evaluate("typeof window.__pwned") == "undefined"
        assert "<script>window.__pwned=1</script>" in text
        assert '<img src=x onerror="window.__pwned=2">' in text
        assert '<img src=q onerror="window.__pwned=3">' in text  # the question, echoed
        assert page.locator("#transcript script").count() == 0
        assert page.locator("#transcript img").count() == 0
        page.close()


def test_copy_button_and_memo_export(browser, shipped_index, hashing_encoder) -> None:  # type: ignore[no-untyped-def]
    from rag.answer import answer
    from ui.render import copy_text

    expected = answer("《证券法》第一百九十一条", index=shipped_index, encoder=hashing_encoder)
    with running(shipped_index, hashing_encoder) as url:
        context = browser.new_context()
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url.rstrip("/"))
        page = context.new_page()
        ask(page, url, "《证券法》第一百九十一条")
        button = page.locator("#transcript button.copy").first
        button.click()
        page.wait_for_function(
            "() => document.querySelector('#transcript button.copy').textContent"
            ".includes('Copied')", timeout=10_000,
        )
        assert page.evaluate("navigator.clipboard.readText()") == copy_text(
            expected.citations[0])

        # a second turn keeps the first; the memo exports both
        box = page.locator("#question textarea")
        box.fill("操纵证券市场构成犯罪吗？")
        box.press("Enter")
        page.locator("#transcript .turn").nth(1).wait_for(timeout=ANSWER_TIMEOUT_MS)
        page.get_by_role("button", name="导出备忘录 Export memo (.md + .docx)").click()
        links = page.locator("#memo-links a")
        links.first.wait_for(timeout=30_000)
        assert [a.inner_text().rsplit(".", 1)[1] for a in links.all()] == ["md", "docx"]
        with page.expect_download() as download:
            links.nth(0).click()
        memo = Path(download.value.path()).read_text("utf-8")
        assert "1. 《证券法》第一百九十一条" in memo and "2. 操纵证券市场构成犯罪吗？" in memo
        # a memo is fetched once, by the session that made it
        href = links.nth(0).get_attribute("href")
        assert page.request.get(url.rstrip("/") + str(href)).status == 404
        context.close()


def test_a_company_law_article_is_compared_with_its_2018_version(  # type: ignore[no-untyped-def]
    browser, shipped_index, hashing_encoder
) -> None:
    with running(shipped_index, hashing_encoder) as url:
        page = browser.new_page()
        ask(page, url, "公司法第四十九条")
        box = page.locator("#transcript details.compare").first
        assert not box.locator("section.version.older").is_visible()  # closed until asked
        box.locator("summary").click()
        older = box.locator("section.version.older")
        older.wait_for(state="visible", timeout=10_000)
        assert "第二十八条" in older.inner_text()
        deleted = older.locator("del").first
        assert deleted.inner_text() == "中"
        assert "line-through" in deleted.evaluate("e => getComputedStyle(e).textDecorationLine")
        inserted = box.locator("section.version.newer ins").nth(1)
        assert inserted.inner_text() == "未按期足额"
        assert "underline" in inserted.evaluate("e => getComputedStyle(e).textDecorationLine")
        page.close()
