"""The library page in a real browser (Debian's headless Chromium, Playwright): sign in,
drop a file, watch the re-index, read the document, see its clause answer a question in
the chat, remove it, and see it gone."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook

from .test_api_writes import MARS, MARS_QUESTION, TOKEN, writable
from .test_ui_browser import ask, browser  # noqa: F401  (the browser fixture)

pytestmark = pytest.mark.browser
TIMEOUT_MS = 60_000


def choose(page, field: str, option: str) -> None:  # type: ignore[no-untyped-def]
    """Pick ``option`` in the Gradio dropdown ``#field``."""
    page.locator(f"#{field} input").click()
    page.get_by_role("option", name=option).first.click()


def test_upload_answer_remove_in_the_browser(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    upload = tmp_path / "upload" / MARS[0]
    upload.parent.mkdir()
    upload.write_bytes(MARS[1])
    with writable(tmp_path / "server") as server:
        page = browser.new_page()
        page.goto(server.url + "library")
        table = page.locator("#library-table")
        table.get_by_text("示范证券交易法").wait_for(timeout=TIMEOUT_MS)
        assert "火星矿产交易规定" not in table.inner_text()
        # signed out: sources relative to the folder indexed, never a server path
        assert f"{server.corpus.name}/" in table.inner_text()
        assert str(server.corpus) not in table.inner_text()

        # a statute's register of duties, as a spreadsheet, from the reader
        choose(page, "library-open", "示范证券交易法")
        page.locator("#library-reader .doc-reader").wait_for(timeout=TIMEOUT_MS)
        with page.expect_download(timeout=TIMEOUT_MS) as download:
            page.locator("#library-register-link").click()
        saved = tmp_path / "register.xlsx"
        download.value.save_as(saved)
        sheet = load_workbook(saved).active
        assert sheet is not None
        duties = {row[6]: row[9] for row in sheet.iter_rows(min_row=2, values_only=True)}
        assert "第六条" in duties["发行人应当及时披露可能对股票交易价格产生较大影响的重大事件。"]

        page.locator("#admin-token input").fill(TOKEN)
        page.locator("#admin-sign-in").click()
        page.locator("#admin-signed").get_by_text("Signed in").wait_for(timeout=TIMEOUT_MS)
        page.locator("#library-files input[type=file]").set_input_files([str(upload)])
        page.locator("#library-files").get_by_text("火星矿产交易规定").first.wait_for(
            timeout=TIMEOUT_MS)

        server.encoder.gate.clear()  # hold the build while embedding: watch the bar
        page.locator("#library-add").click()
        building = page.locator('#library-status .reindex[data-state="building"]')
        building.wait_for(timeout=TIMEOUT_MS)
        assert building.locator("progress").count() == 1
        page.locator("#library-status").get_by_text("embedding").wait_for(timeout=TIMEOUT_MS)
        assert "previous index" in page.locator("#library-status").inner_text()
        server.encoder.gate.set()
        page.locator('#library-status .reindex[data-state="ready"]').wait_for(
            timeout=TIMEOUT_MS)
        table.locator('tr[data-doc="火星矿产交易规定"]').wait_for(timeout=TIMEOUT_MS)
        assert "✓ 火星矿产交易规定.md" in page.locator("#library-report").inner_text()
        assert str(server.library / MARS[0]) in table.inner_text()  # the admin sees where

        choose(page, "library-open", "火星矿产交易规定")  # read it with its structure
        # (the reader of the statute opened before is there until this one replaces it)
        reader = page.locator('#library-reader .doc-reader[data-doc="火星矿产交易规定"]')
        reader.wait_for(timeout=TIMEOUT_MS)
        assert reader.locator(".clause .label").all_inner_texts() == ["题注", "第一条", "第二条"]
        assert "火星矿产交易规定#art1" in reader.inner_text()
        assert str(server.library / MARS[0]) in reader.inner_text()

        chat = browser.new_page()
        text = ask(chat, server.url, MARS_QUESTION)
        assert "火星矿产交易者未经登记擅自交易的，处以十万元罚款" in text
        assert f"{server.library.name}/{MARS[0]}" in text and str(server.library) not in text

        page.locator("#admin-token input").fill(TOKEN)
        choose(page, "library-remove-choice", "火星矿产交易规定")
        page.locator("#library-remove").click()
        page.locator("#library-report").get_by_text("removed 火星矿产交易规定.md").wait_for(
            timeout=TIMEOUT_MS)
        page.locator('#library-status .reindex[data-state="ready"]').wait_for(
            timeout=TIMEOUT_MS)
        page.wait_for_function(
            "() => !document.querySelector('#library-table').innerText"
            ".includes('火星矿产交易规定')", timeout=TIMEOUT_MS)
        assert not (server.library / MARS[0]).exists()

        chat.reload()
        text = ask(chat, server.url, MARS_QUESTION)
        assert "火星矿产交易者未经登记擅自交易的" not in text
        page.close()
        chat.close()


def test_a_wrong_token_changes_nothing(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    with writable(tmp_path) as server:
        page = browser.new_page()
        page.goto(server.url + "library")
        page.locator("#admin-token input").fill("not-the-token-at-all")
        page.locator("#library-reindex").click()
        page.get_by_text("admin token is wrong").first.wait_for(timeout=TIMEOUT_MS)
        assert server.service.live.status().builds == 0
        page.close()
