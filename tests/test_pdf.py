"""PDF files with a text layer: clean paragraphs, exact clauses, and the page of each.

Every PDF is typeset here (tests/makedocs.py) from shipped statutes or a policy text,
so the expected text is known: the reader must give back exactly those lines.
"""

from __future__ import annotations

import re
import zipfile
from datetime import datetime
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from rag.chunking import chunk_document
from rag.core.clauses import Clause
from rag.core.documents import Document
from rag.core.pages import pages_of
from rag.readers import DocumentError, load_documents, read_document, read_file
from rag.readers._layout import Fragment, PageText, find_gutter, layout
from rag.readers._mend import mend_line
from rag.readers._pdf import page_fragments
from tests.makedocs import (
    POLICY,
    POLICY_HEADER,
    POLICY_TITLE,
    TWO_COLUMNS,
    Heading,
    font,
    make_long_pdf,
    make_pdf,
    statute_items,
)

REPO = Path(__file__).resolve().parents[1]
SECURITIES_LAW = REPO / "corpus" / "lawrefbook" / "民法商法" / "证券法(2019-12-28).md"
LAW_HEADER = "证券法律汇编"


def body_lines(doc: Document) -> list[str]:
    return doc.text[int(doc.extra.get("body_start", 0)):].split("\n")


@pytest.fixture(scope="module")
def statute() -> Document:
    return read_document(SECURITIES_LAW)


@pytest.fixture(scope="module")
def law_pdf(tmp_path_factory: pytest.TempPathFactory, statute: Document) -> tuple[Path, int]:
    """证券法 chapters 1-3 in one column, then from line 100 on in two columns."""
    heads = [h.text for h in statute.headings]
    body = statute.text[int(statute.extra["body_start"]):]
    end = body.split("\n").index(next(line for line in body.split("\n")
                                      if line.startswith("第五十五条 ")))
    items = [Heading("中华人民共和国证券法", 16), *statute_items(body, heads, slice(0, 100)),
             TWO_COLUMNS, *statute_items(body, heads, slice(100, end))]
    path = tmp_path_factory.mktemp("pdf") / "证券法.pdf"
    make_pdf(path, items, title="中华人民共和国证券法", header=LAW_HEADER,
             created=datetime(2020, 3, 1, 10, 30))
    return path, end


@pytest.fixture(scope="module")
def law_doc(law_pdf: tuple[Path, int]) -> Document:
    document, warnings = read_file(law_pdf[0])
    assert warnings == []
    return document


def raw_pages(path: Path) -> list[str]:
    """What PDFium's plain text extraction shows on each page (the test's oracle)."""
    pdf = pdfium.PdfDocument(str(path))
    try:
        return [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]
    finally:
        pdf.close()


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


# --------------------------------------------------------------------- a shipped statute


def test_statute_pdf_gives_back_every_line_verbatim(
    law_doc: Document, law_pdf: tuple[Path, int], statute: Document
) -> None:
    expected = body_lines(statute)[: law_pdf[1]]
    assert law_doc.text.split("\n") == ["中华人民共和国证券法", *expected]


def test_statute_pdf_clauses_match_the_statute(law_doc: Document, statute: Document) -> None:
    ours = [c for c in chunk_document(law_doc) if c.kind == "article"]
    theirs = {c.label: c for c in chunk_document(statute) if c.kind == "article"}
    assert [c.label for c in ours[:3]] == ["第一条", "第二条", "第三条"]
    assert len(ours) > 40
    for clause in ours:
        source = theirs[clause.label]
        assert clause.text == source.text, clause.label
        assert clause.path == source.path, clause.label
        assert [s.label for s in clause.spans] == [s.label for s in source.spans]
        assert law_doc.text[clause.start : clause.end] == clause.text


def test_headers_footers_and_page_numbers_are_gone(
    law_doc: Document, law_pdf: tuple[Path, int]
) -> None:
    pages = raw_pages(law_pdf[0])
    assert len(pages) == len(law_doc.pages) == 8
    assert all(LAW_HEADER in page and f"- {n} -" in page for n, page in enumerate(pages, 1))
    assert LAW_HEADER not in law_doc.text
    assert not re.search(r"- \d+ -", law_doc.text)


def test_page_map_points_at_each_page_first_words(
    law_doc: Document, law_pdf: tuple[Path, int]
) -> None:
    """``pages[n-1]`` is where page n's body text starts (checked against PDFium's text)."""
    pages = raw_pages(law_pdf[0])
    assert law_doc.pages[0] == 0
    for number, start in enumerate(law_doc.pages, 1):
        body = squash(pages[number - 1].replace(LAW_HEADER, "").replace(f"- {number} -", ""))
        end = law_doc.pages[number] if number < len(law_doc.pages) else len(law_doc.text)
        assert squash(law_doc.text[start:end]) == body, number


def test_an_article_split_across_pages_is_one_clause_citing_both(law_doc: Document) -> None:
    split = [
        (c, pages) for c in chunk_document(law_doc)
        if (pages := pages_of(law_doc, c.start, c.end)) and pages[0] < pages[1]
        and law_doc.text[law_doc.pages[pages[1] - 1] - 1] != "\n"  # broken mid-paragraph
    ]
    assert split, "the layout should break at least one paragraph across pages"
    clause, (first, last) = split[0]
    assert last == first + 1
    assert law_doc.pages[first - 1] <= clause.start < law_doc.pages[first]
    assert clause.end > law_doc.pages[last - 1]
    assert "\n" not in law_doc.text[law_doc.pages[last - 1] - 3 : law_doc.pages[last - 1] + 3]


def test_two_column_pages_read_left_column_first(
    law_doc: Document, law_pdf: tuple[Path, int], statute: Document
) -> None:
    pages = raw_pages(law_pdf[0])
    two_column = [n for n, page in enumerate(pages, 1) if "第四十七条" in page]
    assert two_column  # from 第四十三条 on, the text is typeset in two columns
    number = two_column[0]
    pdf = pdfium.PdfDocument(str(law_pdf[0]))
    page = pdf[number - 1]
    width, height = page.get_size()
    fragments = page_fragments(page.get_textpage(), height)
    assert find_gutter(fragments, width) == pytest.approx(width / 2, abs=12)
    pdf.close()
    start, end = law_doc.pages[number - 1], law_doc.pages[number]
    expected = "\n".join(body_lines(statute)[: law_pdf[1]])
    assert law_doc.text[start:end].strip("\n") in expected


def test_metadata_title_and_creation_date(law_doc: Document) -> None:
    assert law_doc.title == "中华人民共和国证券法"
    assert law_doc.date == "2020-03-01"
    assert law_doc.kind == "law"
    assert law_doc.extra["format"] == "pdf"


def test_a_date_printed_under_the_title_is_the_documents_date(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "notice.pdf", [
        Heading("关于加强员工证券投资管理的通知", 16), "（2024年3月1日 合规管理部发布）",
        "第一条 自2025年1月1日起，员工应当每季度申报证券账户。",
    ], created=datetime(2024, 5, 20, 8, 0))
    assert read_document(path).date == "2024-03-01"
    later = make_pdf(tmp_path / "plain.pdf", ["第一条 自2025年1月1日起，员工应当申报账户。"],
                     created=datetime(2024, 5, 20, 8, 0))
    assert read_document(later).date == "2024-05-20"  # a date inside an article is not it


def test_sidecar_wins_over_pdf_metadata(law_pdf: tuple[Path, int], tmp_path: Path) -> None:
    copy = tmp_path / "law.pdf"
    copy.write_bytes(law_pdf[0].read_bytes())
    (tmp_path / "law.pdf.meta.yaml").write_text(
        "title: 证券法（测试版）\ndate: 2019-12-28\nkind: regulation\n", encoding="utf-8")
    doc = read_document(copy)
    assert (doc.title, doc.date, doc.kind) == ("证券法（测试版）", "2019-12-28", "regulation")


# --------------------------------------------------------------------- a policy, cited by page


@pytest.fixture(scope="module")
def policy_doc(tmp_path_factory: pytest.TempPathFactory) -> Document:
    path = tmp_path_factory.mktemp("policy") / "员工证券投资管理办法.pdf"
    make_pdf(path, POLICY, title=POLICY_TITLE, header=POLICY_HEADER,
             created=datetime(2024, 1, 5, 9, 0))
    return read_document(path)


def article(doc: Document, label: str) -> Clause:
    return next(c for c in chunk_document(doc) if c.label == label)


def test_policy_articles_and_their_pages(policy_doc: Document) -> None:
    assert policy_doc.title == POLICY_TITLE
    assert policy_doc.kind == "policy"
    assert len(policy_doc.pages) == 3
    got = {c.label: pages_of(policy_doc, c.start, c.end) for c in chunk_document(policy_doc)
           if c.kind == "article"}
    assert got == {
        "第一条": (1, 1), "第二条": (1, 1), "第三条": (1, 1), "第四条": (1, 1),
        "第五条": (1, 1), "第六条": (2, 2), "第七条": (2, 2), "第八条": (2, 2),
        "第九条": (2, 2), "第十条": (2, 2), "第十一条": (2, 2), "第十二条": (3, 3),
        "第十三条": (3, 3), "第十四条": (3, 3),
    }  # fmt: skip
    twelve = article(policy_doc, "第十二条")
    assert twelve.text == (
        "第十二条 员工及其配偶买卖股票，应当在交易前三个交易日通过合规系统向合规管理部报备，"
        "报备内容包括证券代码、拟交易数量和资金来源。\n"
        "合规管理部应当在收到报备后一个交易日内作出是否同意的答复；未获同意的，员工不得进行"
        "该笔交易。"
    )
    assert [s.label for s in twelve.spans] == ["第一款", "第二款"]
    assert twelve.path == ("第二章 行为规范",)


def test_flush_left_paragraphs_still_start_where_they_start(
    policy_doc: Document, tmp_path: Path
) -> None:
    path = make_pdf(tmp_path / "flush.pdf", POLICY, title=POLICY_TITLE,
                    header=POLICY_HEADER, indent=False)
    doc = read_document(path)
    assert doc.text == policy_doc.text
    assert doc.pages == policy_doc.pages


def test_a_visible_gap_between_chinese_words_is_a_space_and_justification_is_not(
    tmp_path: Path,
) -> None:
    from reportlab.pdfgen import canvas

    path = tmp_path / "gaps.pdf"
    sheet = canvas.Canvas(str(path), pagesize=(400, 400))
    sheet.setFont(font(), 10)
    sheet.drawString(50, 300, "第四节")  # no space character in the file: a 4-point gap
    sheet.drawString(84, 300, "单位犯罪")
    sheet.drawString(50, 280, "证券")  # a 0.5-point gap, as justification leaves
    sheet.drawString(70.5, 280, "市场")
    sheet.save()
    pdf = pdfium.PdfDocument(str(path))
    fragments = page_fragments(pdf[0].get_textpage(), 400)
    pdf.close()
    assert [f.text for f in fragments] == ["第四节 单位犯罪", "证券市场"]


def test_an_indent_typed_as_ideographic_spaces_is_an_indent(tmp_path: Path) -> None:
    from reportlab.pdfgen import canvas

    path = tmp_path / "spaces.pdf"
    sheet = canvas.Canvas(str(path), pagesize=(400, 400))
    sheet.setFont(font(), 10)
    sheet.drawString(50, 300, "\u3000\u3000第一条 员工应当申报账户。")
    sheet.save()
    pdf = pdfium.PdfDocument(str(path))
    fragments = page_fragments(pdf[0].get_textpage(), 400)
    pdf.close()
    assert [f.text for f in fragments] == ["第一条 员工应当申报账户。"]
    assert fragments[0].x0 == pytest.approx(70, abs=0.5)  # two 10-point spaces in


# --------------------------------------------------------------------- bad and big files


def test_bad_files_get_one_line_each_and_lose_nothing_else(
    tmp_path: Path, policy_doc: Document
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    good = make_pdf(folder / "good.pdf", POLICY[:6], title="好文件")
    make_pdf(folder / "encrypted.pdf", POLICY[:4], password="secret")
    data = good.read_bytes()
    (folder / "truncated.pdf").write_bytes(data[: len(data) // 2])
    (folder / "damaged.pdf").write_bytes(b"%PDF-1.7\n" + b"\x00garbage" * 200 + b"\n%%EOF\n")
    (folder / "fake.pdf").write_bytes(b"<html>not a pdf</html>")
    with zipfile.ZipFile(folder / "archive.docx", "w") as archive:
        archive.writestr("notes.txt", "a zip renamed to .docx")
    (folder / "old.doc").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    (folder / "kingsoft.wps").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    (folder / "notes.txt").write_text("第一条 文本文件照常读取。\n", encoding="utf-8")
    documents, errors = load_documents([folder], root=folder)
    assert [d.source_path for d in documents] == ["good.pdf", "notes.txt"]
    assert documents[0].text.startswith(POLICY_TITLE)
    legacy = "legacy Word 97-2003 / WPS format, which cannot be read: open it in Word or WPS"
    assert [(e.path, e.reason.split(" (")[0].split(":")[0]) for e in errors] == [
        ("archive.docx", "not a Word .docx file"),
        ("damaged.pdf", "damaged PDF"),
        ("encrypted.pdf", "encrypted PDF"),
        ("fake.pdf", "not a PDF"),
        ("kingsoft.wps", "legacy Word 97-2003 / WPS format, which cannot be read"),
        ("old.doc", "legacy Word 97-2003 / WPS format, which cannot be read"),
        ("truncated.pdf", "truncated PDF"),
    ]
    by_path = {e.path: e.reason for e in errors}
    assert by_path["encrypted.pdf"] == (
        "encrypted PDF: it needs a password to open (save an unprotected copy and index that)")
    assert by_path["truncated.pdf"].startswith("truncated PDF: the file ends before its %%EOF")
    assert by_path["archive.docx"].endswith("without word/document.xml (a renamed .zip?)")
    assert by_path["old.doc"].startswith(legacy) and "libreoffice" in by_path["old.doc"]
    assert all("\n" not in e.reason for e in errors)


def test_a_500_page_pdf_loads_whole_or_is_refused_in_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "big"
    folder.mkdir()
    make_long_pdf(folder / "long.pdf", 500)
    (folder / "small.txt").write_text("第一条 小文件。\n", encoding="utf-8")
    documents, errors = load_documents([folder], root=folder)
    assert errors == []
    long = documents[0]
    assert len(long.pages) == 500
    clauses = [c for c in chunk_document(long) if c.kind == "article"]
    assert len(clauses) == 500
    last = clauses[-1]
    assert last.label == "第五百条"
    assert last.text == "第五百条 本条是第500页的唯一条文，用于测试长文件。"
    assert pages_of(long, last.start, last.end) == (500, 500)
    assert "长篇测试文件" not in long.text.replace(long.title, "", 1)[len(long.title):]
    assert "共 500 页" not in long.text

    documents, errors = load_documents([folder], root=folder, max_pages=400)
    assert [d.source_path for d in documents] == ["small.txt"]
    assert [str(e) for e in errors] == [
        "long.pdf: PDF has 500 pages, more than the limit of 400 pages "
        "(split it, or raise max_pages)"
    ]


def test_empty_and_too_large_pdf(tmp_path: Path) -> None:
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    with pytest.raises(DocumentError, match="empty file"):
        read_document(empty)
    big = make_pdf(tmp_path / "big.pdf", POLICY[:3])
    with pytest.raises(DocumentError, match=r"file too large: \d+ bytes \(limit 100 bytes\)"):
        read_document(big, max_bytes=100)


# --------------------------------------------------------------------- layout and mending


def frag(text: str, x0: float, top: float, size: float = 10.0) -> Fragment:
    return Fragment(text, x0, x0 + size * len(text), top, top + size)


def test_layout_joins_wrapped_lines_and_keeps_indented_paragraphs() -> None:
    page = PageText(1, 200, 400, (
        frag("第一条 本办法适用于", 30, 100),  # indented two characters, to the margin
        frag("全体员工。", 10, 114),  # stops short: the paragraph ends
        frag("第二条 员工应当申报", 30, 128),
        frag("本人账户，并且报告配偶的", 10, 142),
        frag("账户。", 10, 156),
        frag("- 1 -", 85, 380),  # a page number at the foot
    ))
    assert [p.text for p in layout([page])] == [
        "第一条 本办法适用于全体员工。",
        "第二条 员工应当申报本人账户，并且报告配偶的账户。",
    ]


def test_layout_joins_english_lines_with_a_space() -> None:
    page = PageText(1, 300, 400, (
        frag("Article 5 The issuer shall", 10, 100, 8),
        frag("disclose the information.", 10, 112, 8),
        frag("Article 6 Each officer must", 10, 124, 8),
        frag("report.", 10, 136, 8),
    ))
    assert [p.text for p in layout([page])] == [
        "Article 5 The issuer shall disclose the information.",
        "Article 6 Each officer must report.",
    ]


def test_mend_fixes_pdf_artefacts_without_changing_words() -> None:
    mended = mend_line("第 十 二 条 ⾦融机构应当(一)报告,并且:")
    assert mended == "第十二条 金融机构应当（一）报告，并且:"
    assert mend_line("依照本法第五条的规定") == "依照本法第五条的规定"
    assert mend_line("Article 5, (a) applies: yes") == "Article 5, (a) applies: yes"
    assert mend_line("\ufa11\u2f08") == "\ufa11人"  # a unified ideograph in the compat block stays
