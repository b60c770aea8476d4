"""The page map: offsets → pages, page marks through the text builder, page labels."""

from __future__ import annotations

import pytest

from rag.core.citations import citation_string
from rag.core.clauses import Clause
from rag.core.documents import Document, OcrPage
from rag.core.pages import ocr_confidence, page_label, page_label_en, pages_of
from rag.readers._text import Block, TextBuilder

# page 1: "甲乙\n丙" · page 2: empty · page 3: "丁" + "\n戊己" · page 4: "庚"
TEXT = "甲乙\n丙丁\n戊己庚"
PAGED = Document(doc_id="d", title="某办法", text=TEXT, kind="policy", source_path="d.pdf",
                 pages=(0, 4, 4, 8), ocr=(OcrPage(3, 0.8), OcrPage(4, 0.95)))


@pytest.mark.parametrize(
    ("start", "end", "pages"),
    [(0, 2, (1, 1)), (0, 4, (1, 1)), (3, 5, (1, 3)), (4, 5, (3, 3)), (6, 8, (3, 3)),
     (6, 9, (3, 4)), (8, 9, (4, 4)), (4, 4, (3, 3))],
)
def test_pages_of_offsets(start: int, end: int, pages: tuple[int, int]) -> None:
    assert pages_of(PAGED, start, end) == pages


def test_no_pages_without_a_page_map() -> None:
    plain = Document(doc_id="t", title="t", text="正文", kind="other", source_path="t.txt")
    assert pages_of(plain, 0, 2) is None
    assert ocr_confidence(plain, None) is None
    assert page_label(None) == page_label_en(None) == ""


def test_ocr_confidence_is_the_lowest_of_the_pages() -> None:
    assert ocr_confidence(PAGED, (1, 1)) is None
    assert ocr_confidence(PAGED, (3, 4)) == 0.8
    assert ocr_confidence(PAGED, (4, 4)) == 0.95


def test_labels() -> None:
    assert (page_label((3, 3)), page_label((3, 4))) == ("第3页", "第3-4页")
    assert (page_label_en((3, 3)), page_label_en((3, 4))) == ("p. 3", "pp. 3–4")


def test_text_builder_records_where_pages_begin() -> None:
    builder = TextBuilder()
    builder.extend([
        Block("甲乙", pages=((0, 1),)),
        Block("丙丁", pages=((0, 1), (1, 3))),  # page 2 had no text
        Block("戊己庚", pages=((0, 3), (2, 4))),
    ])
    assert builder.text == TEXT
    assert builder.page_map(5) == (0, 4, 4, 8, 9)  # page 5 is blank, after the text
    with pytest.raises(ValueError, match="clean text"):
        TextBuilder().add("  not clean  ", pages=((0, 1),))


def test_citation_names_the_page_and_ocr() -> None:
    clause = Clause(id="d#art3", doc_id="d", label="第三条", path=(), start=6, end=9,
                    text=TEXT[6:9], kind="article")
    assert citation_string(clause, PAGED) == "《某办法》第三条（第3-4页，OCR）"
    first = Clause(id="d#art1", doc_id="d", label="第一条", path=(), start=0, end=2,
                   text=TEXT[0:2], kind="article")
    assert citation_string(first, PAGED, span_label="第二款") == "《某办法》第一条第二款（第1页）"
