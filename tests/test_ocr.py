"""Scanned pages: OCR'd offline with the models inside the wheel, cached, marked as OCR.

OCR is slow on two cores, so the one real OCR run is the session fixture ``scan``
(conftest.py): a three-page 证券法 excerpt whose page 2 is an image, read with every
socket blocked. The other tests reuse its cache or OCR a blank page (fast).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from rag.chunking import chunk_document
from rag.core.documents import Document
from rag.core.pages import pages_of
from rag.readers import Ocr, load_documents, read_file
from rag.readers._ocr import OcrError
from tests.conftest import Scan
from tests.makedocs import LAW_EXCERPT_HEADER, make_pdf, rasterise


def articles(doc: Document) -> dict[str, tuple[str, tuple[int, int] | None]]:
    return {c.label: (c.text, pages_of(doc, c.start, c.end))
            for c in chunk_document(doc) if c.kind == "article"}


def source_article(statute: Document, label: str) -> str:
    return next(c.text for c in chunk_document(statute) if c.label == label)


def test_scanned_page_is_read_by_ocr_with_the_network_blocked(scan: Scan) -> None:
    doc = scan.document
    assert scan.warnings == ()
    assert len(doc.pages) == 3
    assert [p.page for p in doc.ocr] == [2]
    assert doc.ocr[0].confidence > 0.9
    found = articles(doc)
    assert list(found) == ["第一条", "第二条", "第三条", "第四条", "第五条", "第六条",
                           "第七条", "第八条"]
    for label, (text, pages) in found.items():
        expected = source_article(scan.statute, label)
        if label in ("第四条", "第五条", "第六条"):
            assert pages == (2, 2), label
            # OCR reads the words exactly; it does not see the gap after 第四条
            assert re.sub(r"\s", "", text) == re.sub(r"\s", "", expected), label
            assert text.startswith(label)
        else:
            assert pages == ((1, 1) if label in ("第一条", "第二条", "第三条") else (3, 3))
            assert text == expected, label
    assert LAW_EXCERPT_HEADER not in doc.text.split("\n", 1)[1]  # header gone, also from OCR


def test_ocr_quotes_are_slices_of_the_document(scan: Scan) -> None:
    for clause in chunk_document(scan.document):
        assert scan.document.text[clause.start : clause.end] == clause.text


def test_ocr_results_are_cached_as_json_by_page_image(
    scan: Scan, monkeypatch: pytest.MonkeyPatch
) -> None:
    entries = list(scan.cache.rglob("*.json"))
    assert len(entries) == 1
    data = json.loads(entries[0].read_text(encoding="utf-8"))
    assert data["engine"] == "rapidocr-onnxruntime 1.4.4"
    assert any("第五条" in box["text"] for box in data["boxes"])

    def no_engine(self: Ocr) -> None:
        raise AssertionError("a cached page was OCR'd again")

    monkeypatch.setattr(Ocr, "_load_engine", no_engine)
    ocr = Ocr(cache_dir=scan.cache)
    again, warnings = read_file(scan.pdf, ocr=ocr)
    assert warnings == [] and ocr.runs == 0
    assert (again.text, again.pages, again.ocr) == (
        scan.document.text, scan.document.pages, scan.document.ocr)


def test_progress_bar_per_ocr_page_only_when_asked(
    scan: Scan, capsys: pytest.CaptureFixture[str]
) -> None:
    read_file(scan.pdf, ocr=Ocr(cache_dir=scan.cache))
    assert capsys.readouterr().err == ""
    read_file(scan.pdf, ocr=Ocr(cache_dir=scan.cache), progress=True)
    err = capsys.readouterr().err
    assert "OCR 证券法节选扫描件.pdf" in err and "1/1" in err and "page" in err


def test_default_cache_lives_under_the_data_home(
    scan: Scan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_HOME", str(tmp_path / "home"))
    ocr = Ocr()
    monkeypatch.setattr(Ocr, "_run", lambda self, image: [])
    read_file(scan.pdf, ocr=ocr)
    assert ocr.cache_dir == tmp_path / "home" / "ocr-cache"
    assert len(list(ocr.cache_dir.rglob("*.json"))) == 1


def test_a_blank_scan_is_reported_by_page_and_the_rest_loads(tmp_path: Path) -> None:
    typed = make_pdf(tmp_path / "typed.pdf", ["第一条 第一页的条文。", "<page break>",
                                             "第二条 这一页将被涂白。", "<page break>",
                                             "第三条 第三页的条文。"])
    scanned = rasterise(typed, tmp_path / "scan.pdf", pages={2}, blank=True)
    documents, errors = load_documents([scanned], root=tmp_path,
                                       ocr=Ocr(cache_dir=tmp_path / "cache"))
    assert [str(e) for e in errors] == ["scan.pdf: page 2: scanned page, OCR found no text on it"]
    doc = documents[0]
    assert doc.text == "第一条 第一页的条文。\n第三条 第三页的条文。"
    assert doc.ocr == ()
    assert [pages_of(doc, c.start, c.end) for c in chunk_document(doc)] == [(1, 1), (3, 3)]


def test_an_ocr_failure_is_reported_by_page(
    scan: Scan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: Ocr, image: object) -> list[object]:
        raise OcrError("OCR failed: Fail: onnxruntime could not run")

    monkeypatch.setattr(Ocr, "read", broken)
    doc, warnings = read_file(scan.pdf, ocr=Ocr(cache_dir=tmp_path))
    assert [w.reason for w in warnings] == [
        "page 2: no text layer, and OCR failed: Fail: onnxruntime could not run"]
    assert doc.ocr == () and "第四条" not in doc.text and "第七条" in doc.text
