"""Word files: paragraphs, tables, and labels that only Word's automatic numbering holds."""

from __future__ import annotations

import zipfile
from datetime import datetime
from pathlib import Path

import docx
import pytest
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls

from rag.chunking import chunk_document
from rag.core.documents import Document
from rag.readers import DocumentError, read_document
from rag.readers._numbering import format_number
from tests.makedocs import ARTICLE_LIST, make_docx

RULES = [
    ("title", "某证券公司信息隔离墙管理规定"),
    ("heading", "第一章 总则"),
    ("article", "为防范敏感信息在业务部门之间不当流动，制定本规定。"),
    ("article", "公司应当在下列部门之间建立信息隔离墙："),
    ("item", "投资银行部门与研究部门；"),
    ("item", "资产管理部门与自营部门。"),
    ("heading", "第二章 管理要求"),
    ("article", "跨墙访问敏感信息的，应当事先经合规管理部批准，并登记访问人员、时间和事由。"),
    ("item", "批准记录保存不少于二十年。"),
    ("table", "部门|隔离级别\n投资银行部|一级\n研究部|一级"),
    ("article", "本规定自发布之日起施行。"),
]


@pytest.fixture(scope="module")
def rules_doc(tmp_path_factory: pytest.TempPathFactory) -> Document:
    path = tmp_path_factory.mktemp("docx") / "信息隔离墙管理规定.docx"
    make_docx(path, RULES, title="信息隔离墙管理规定", created=datetime(2023, 6, 30, 8, 0))
    return read_document(path)


def test_word_numbering_labels_are_restored(rules_doc: Document) -> None:
    assert rules_doc.text.split("\n") == [
        "某证券公司信息隔离墙管理规定",
        "第一章 总则",
        "第一条 为防范敏感信息在业务部门之间不当流动，制定本规定。",
        "第二条 公司应当在下列部门之间建立信息隔离墙：",
        "（一）投资银行部门与研究部门；",
        "（二）资产管理部门与自营部门。",
        "第二章 管理要求",
        "第三条 跨墙访问敏感信息的，应当事先经合规管理部批准，并登记访问人员、时间和事由。",
        "（一）批准记录保存不少于二十年。",  # items restart under each article
        "部门 | 隔离级别",
        "投资银行部 | 一级",
        "研究部 | 一级",
        "第四条 本规定自发布之日起施行。",
    ]


def test_numbered_articles_become_clauses_with_their_items(rules_doc: Document) -> None:
    clauses = {c.label: c for c in chunk_document(rules_doc) if c.kind == "article"}
    assert list(clauses) == ["第一条", "第二条", "第三条", "第四条"]
    second = clauses["第二条"]
    assert second.id == "信息隔离墙管理规定#art2"
    assert second.path == ("第一章 总则",)
    assert [s.label for s in second.spans] == ["第（一）项", "第（二）项"]
    assert second.text == (
        "第二条 公司应当在下列部门之间建立信息隔离墙：\n"
        "（一）投资银行部门与研究部门；\n（二）资产管理部门与自营部门。"
    )
    assert clauses["第三条"].path == ("第二章 管理要求",)
    assert clauses["第三条"].text.endswith("研究部 | 一级")  # the table belongs to 第三条
    for clause in clauses.values():
        assert rules_doc.text[clause.start : clause.end] == clause.text


def test_core_properties_give_title_and_date(rules_doc: Document) -> None:
    assert rules_doc.title == "信息隔离墙管理规定"
    assert rules_doc.date == "2023-06-30"
    assert rules_doc.kind == "policy"
    assert rules_doc.extra["format"] == "docx"
    assert rules_doc.pages == ()  # Word files have no fixed pages


def test_title_style_when_no_core_title_and_sidecar_wins(tmp_path: Path) -> None:
    path = make_docx(tmp_path / "规定.docx", RULES[:3])
    assert read_document(path).title == "某证券公司信息隔离墙管理规定"
    (tmp_path / "规定.docx.meta.yaml").write_text("title: 隔离墙规定\nkind: other\n",
                                                   encoding="utf-8")
    doc = read_document(path)
    assert (doc.title, doc.kind) == ("隔离墙规定", "other")


def test_numbering_through_a_list_style_and_a_restarted_list(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("第一部分", style="Heading 1")
    document.add_paragraph("开户审查", style="List Number")  # numbered by the style: 1.
    document.add_paragraph("交易监控", style="List Number")
    path = tmp_path / "list.docx"
    document.save(str(path))
    assert read_document(path).text.split("\n")[1:] == ["1. 开户审查", "2. 交易监控"]

    make_docx(path, [("article", "甲规定。"), ("article", "乙规定。")])
    document = docx.Document(str(path))
    numbering = document.part.numbering_part.element
    numbering.append(parse_xml(
        f'<w:num {nsdecls("w")} w:numId="91"><w:abstractNumId w:val="{ARTICLE_LIST}"/>'
        '<w:lvlOverride w:ilvl="0"><w:startOverride w:val="1"/></w:lvlOverride></w:num>'))
    again = document.add_paragraph("附件规定。")
    num_pr = again._p.get_or_add_pPr().get_or_add_numPr()
    num_pr.get_or_add_ilvl().val = 0
    num_pr.get_or_add_numId().val = 91
    document.save(str(path))
    assert read_document(path).text.split("\n") == [
        "第一条 甲规定。", "第二条 乙规定。", "第一条 附件规定。"]


def test_tracked_changes_read_as_accepted(tmp_path: Path) -> None:
    document = docx.Document()
    paragraph = document.add_paragraph("第一条 员工应当")
    w = nsdecls("w")
    paragraph._p.append(parse_xml(
        f'<w:ins {w} w:id="1" w:author="a" w:date="2024-01-01T00:00:00Z">'
        "<w:r><w:t>每年</w:t></w:r></w:ins>"))
    paragraph._p.append(parse_xml(
        f'<w:del {w} w:id="2" w:author="a" w:date="2024-01-01T00:00:00Z">'
        "<w:r><w:delText>每月</w:delText></w:r></w:del>"))
    paragraph.add_run("申报账户。")
    path = tmp_path / "tracked.docx"
    document.save(str(path))
    assert read_document(path).text == "第一条 员工应当每年申报账户。"


def test_merged_table_cells_are_read_once(tmp_path: Path) -> None:
    document = docx.Document()
    table = document.add_table(rows=2, cols=3)
    table.cell(0, 0).merge(table.cell(0, 2)).text = "合并的表头"
    for c, text in enumerate(["甲", "乙", "丙"]):
        table.cell(1, c).text = text
    path = tmp_path / "table.docx"
    document.save(str(path))
    assert read_document(path).text == "合并的表头\n甲 | 乙 | 丙"


def test_bad_word_files_say_what_is_wrong(tmp_path: Path) -> None:
    ole = tmp_path / "renamed.docx"
    ole.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    with pytest.raises(DocumentError, match=r"legacy Word 97-2003 / WPS format.*save it as "
                                            r"\.docx"):
        read_document(ole)
    broken = tmp_path / "broken.docx"
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document><unclosed>")
    with pytest.raises(DocumentError, match="damaged Word file"):
        read_document(broken)
    text = tmp_path / "text.docx"
    text.write_text("plain text, not a zip", encoding="utf-8")
    with pytest.raises(DocumentError, match=r"not a Word \.docx file: not a zip archive"):
        read_document(text)
    empty = make_docx(tmp_path / "empty.docx", [])
    with pytest.raises(DocumentError, match="no text in the Word document"):
        read_document(empty)


@pytest.mark.parametrize(
    ("number", "fmt", "shown"),
    [
        (11, "chineseCounting", "十一"), (105, "chineseCountingThousand", "一百零五"),
        (3, "chineseLegalSimplified", "叁"), (12, "ideographDigital", "一二"),
        (2, "decimalEnclosedCircle", "②"), (27, "lowerLetter", "aa"),
        (14, "upperRoman", "XIV"), (1, "ideographTraditional", "甲"),
        (12, "decimalFullWidth", "１２"), (7, "decimal", "7"), (3, "bullet", ""),
        (4, "someFutureFormat", "4"),
    ],
)  # fmt: skip
def test_word_number_formats(number: int, fmt: str, shown: str) -> None:
    assert format_number(number, fmt) == shown
