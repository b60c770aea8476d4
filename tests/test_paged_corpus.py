"""Done when: ``rag index`` over the shipped corpus mixed with PDF, Word and scanned files
answers a question about an article that exists only in a PDF, citing its page; and every
output (JSON, terminal, CSV/JSONL, chat card, memos) shows the page and the OCR mark.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from rag import cli
from rag.answer import Answer, answer
from rag.core.pages import pages_of
from rag.encoders import Encoder, HashingEncoder
from rag.export.docx import memo_docx
from rag.export.markdown import memo_markdown
from rag.export.records import CSV_COLUMNS, batch_row, csv_rows
from rag.index import index_paths
from rag.index.records import document_from_row, document_row
from rag.search import Index, open_index
from tests.conftest import CORPUS, Scan
from tests.makedocs import POLICY, POLICY_HEADER, POLICY_TITLE, make_docx, make_pdf
from tests.test_docx import RULES
from ui.render import citation_card_html

QUESTION = "员工买卖股票要提前几个交易日向合规管理部报备？"
CITE12 = "《某证券公司员工证券投资行为管理办法》（2024年1月5日）第十二条（第3页）"
SCAN_QUESTION = "证券业和银行业、信托业、保险业是否实行分业经营、分业管理？"


def mixed_folder(root: Path, scan: Scan) -> Path:
    """The shipped corpus, a policy PDF, a Word file and a scan, in one folder."""
    shutil.copytree(CORPUS, root / "corpus", ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (root / "内部制度").mkdir()
    make_pdf(root / "内部制度" / "员工证券投资行为管理办法.pdf", POLICY, title=POLICY_TITLE,
             header=POLICY_HEADER, created=datetime(2024, 1, 5, 9, 0))
    make_docx(root / "内部制度" / "信息隔离墙管理规定.docx", RULES, title="信息隔离墙管理规定")
    (root / "扫描件").mkdir()
    shutil.copy(scan.pdf, root / "扫描件" / scan.pdf.name)
    return root


@pytest.fixture(scope="module")
def mixed_index(tmp_path_factory: pytest.TempPathFactory, scan: Scan) -> Iterator[Path]:
    """``rag index`` over the mixed folder (hashing encoder); the scan's OCR comes from the
    session's cache, put where the data home keeps it."""
    home = tmp_path_factory.mktemp("home")
    shutil.copytree(scan.cache, home / "ocr-cache")
    folder = mixed_folder(tmp_path_factory.mktemp("mixed"), scan)
    index = tmp_path_factory.mktemp("mixed-index") / "index"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RAG_HOME", str(home))
        code = cli.main(["index", str(folder), "--index", str(index), "--model", "hashing:256",
                         "--quiet"])
    assert code == 0
    yield index


@pytest.fixture(scope="module")
def mixed(mixed_index: Path) -> Index:
    return open_index(mixed_index, encoder=HashingEncoder(dimension=256))


@pytest.fixture(scope="module")
def result(mixed: Index) -> Answer:
    return answer(QUESTION, index=mixed, encoder=HashingEncoder(dimension=256))


def test_rag_index_then_ask_cites_the_pdf_article_and_its_page(
    mixed_index: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["ask", QUESTION, "--index", str(mixed_index), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["answered"] is True
    top = data["citations"][0]
    assert top["citation"] == CITE12
    assert top["label"] == "第十二条"
    assert top["pages"] == [3, 3] and top["ocr"] is False and top["ocr_confidence"] is None
    assert top["text"].startswith("第十二条 员工及其配偶买卖股票，应当在交易前三个交易日")
    assert top["source"].endswith("内部制度/员工证券投资行为管理办法.pdf")
    assert cli.main(["ask", QUESTION, "--index", str(mixed_index)]) == 0
    shown = capsys.readouterr().out
    assert f"[1] {CITE12}" in shown and "    page:   第3页 p. 3" in shown


def test_every_format_is_in_the_index_and_quotes_are_slices(mixed: Index) -> None:
    formats = {doc.extra.get("format") for doc in mixed.documents.values()}
    assert {"pdf", "docx", "lawrefbook", "text", "post"} <= formats
    assert len(mixed.documents) == 25  # 22 shipped + policy PDF, Word file, scan
    for clause in mixed.clauses:
        doc = mixed.documents[clause.doc_id]
        assert doc.text[clause.start : clause.end] == clause.text
    scanned = mixed.documents["证券法节选扫描件"]
    assert [p.page for p in scanned.ocr] == [2] and len(scanned.pages) == 3


def test_an_ocr_quote_is_marked_ocr_in_its_citation(mixed: Index) -> None:
    result = answer(SCAN_QUESTION, index=mixed, encoder=HashingEncoder(dimension=256), k=10)
    scanned = [c for c in result.citations if c.doc_id == "证券法节选扫描件"]
    assert scanned, [c.citation for c in result.citations]
    first = scanned[0]
    assert first.label == "第六条"
    assert first.citation.endswith("第六条（第2页，OCR）")
    assert first.pages == (2, 2) and first.ocr and first.ocr_confidence is not None
    assert first.ocr_confidence > 0.9
    card = citation_card_html(first)
    assert '<span class="badge page">第2页 p. 2</span>' in card
    assert re.search(r'<span class="badge ocr" title="text read by OCR from a scanned page, '
                     r'confidence (?:0\.9\d|1\.00)">OCR (?:9\d|100)%</span>', card)


def test_page_in_chat_card(result: Answer) -> None:
    card = citation_card_html(result.citations[0])
    assert f'<span class="cite">{CITE12}</span>' in card
    assert '<span class="badge page">第3页 p. 3</span>' in card
    assert "badge ocr" not in card


def test_page_in_jsonl_and_csv_records(result: Answer) -> None:
    row = batch_row(id="q1", question=QUESTION, line=1, result=result, error=None)
    top = row["citations"][0]
    assert (top["pages"], top["ocr"], top["ocr_confidence"]) == ([3, 3], False, None)
    json.dumps(row, ensure_ascii=False)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(csv_rows(row))
    table = list(csv.DictReader(io.StringIO(buffer.getvalue())))
    assert list(CSV_COLUMNS[-3:]) == ["pages", "ocr_confidence", "versions"]  # new ones last
    assert (table[0]["citation"], table[0]["pages"], table[0]["ocr_confidence"]) == (
        CITE12, "3", "")
    statute_rows = [r for r in table if r["source"].endswith(".md")]
    assert all(r["pages"] == "" for r in statute_rows)


def test_page_in_both_memos(result: Answer, tmp_path: Path) -> None:
    import docx

    markdown = memo_markdown([result])
    assert "Page: 第3页 p. 3" in markdown
    path = memo_docx([result], tmp_path / "memo.docx")
    text = "\n".join(p.text for p in docx.Document(str(path)).paragraphs)
    assert CITE12 in text and "Page: 第3页 p. 3" in text


def test_paged_documents_round_trip_through_index_rows(mixed: Index) -> None:
    scanned = mixed.documents["证券法节选扫描件"]
    row = json.loads(json.dumps(document_row(scanned), ensure_ascii=False))
    again = document_from_row(row)
    assert again == scanned and isinstance(again.pages, tuple) and again.ocr == scanned.ocr
    statute = next(d for d in mixed.documents.values() if d.extra.get("format") == "lawrefbook")
    assert "pages" not in document_row(statute) and "ocr" not in document_row(statute)


@pytest.mark.integration
def test_real_model_answers_from_the_pdf_with_its_page(
    real_index_dir: Path, real_encoder: Encoder, scan: Scan, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The real model, incrementally on top of the shipped corpus's real index."""
    index_dir = tmp_path / "index"
    shutil.copytree(real_index_dir, index_dir)
    shutil.copytree(scan.cache, tmp_path / "home" / "ocr-cache")
    monkeypatch.setenv("RAG_HOME", str(tmp_path / "home"))
    report = index_paths([mixed_folder(tmp_path / "mixed", scan)], index=index_dir,
                         encoder=real_encoder)
    assert report.skipped_files == ()
    assert report.embedded < 100  # only the new files' clauses were embedded
    index = open_index(index_dir, encoder=real_encoder)
    result = answer(QUESTION, index=index, encoder=real_encoder)
    assert result.answered
    top = result.citations[0]
    assert (top.citation, top.pages) == (CITE12, (3, 3))
    doc = index.documents[top.doc_id]
    assert doc.text[top.start : top.end] == top.text
    assert pages_of(doc, top.start, top.end) == (3, 3)
