"""Readers: every input format becomes a Document with clean text and exact metadata."""

from __future__ import annotations

import os
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from rag.core.documents import Document
from rag.readers import DocumentError, detect_format, load_documents, read_document
from rag.readers._text import slugify

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data" / "readers"
SEEDS = next(
    (p for p in (REPO / "corpus" / "seeds", REPO.parent / "shared" / "seeds") if p.is_dir()),
    None,
)
LAWREFBOOK = REPO.parent / "shared" / "corpora" / "lawrefbook"  # the whole LawRefBook
SHIPPED_LAWREFBOOK = REPO / "corpus" / "lawrefbook"  # the statutes the package ships
FURNITURE = (
    "责任编辑", "返回首页", "二维码", "appendQr", "新浪财经APP", "原标题", "<span",
    "data-code", "&#123;",
)  # fmt: skip


def seed(prefix: str) -> Path:
    if SEEDS is None:
        pytest.skip("seed documents not found (corpus/seeds or ../shared/seeds)")
    return next(SEEDS.glob(f"{prefix}_*.txt"))


def statute(relative: str) -> Path:
    path = LAWREFBOOK / relative
    if not path.is_file():
        pytest.skip(f"LawRefBook corpus not found at {LAWREFBOOK}")
    return path


def assert_clean(doc: Document) -> None:
    """The clean-text contract and the heading offset invariant."""
    assert doc.text
    for line in doc.text.split("\n"):
        assert line, f"{doc.doc_id}: blank line in text"
        assert line == line.strip(" \t\u3000\xa0"), f"{doc.doc_id}: untrimmed {line!r}"
        assert "  " not in line
    for heading in doc.headings:
        assert doc.text[heading.start : heading.end] == heading.text
        assert heading.level >= 1


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


# --- seeds ---------------------------------------------------------------------------


def test_seed_000_post_with_source_url() -> None:
    doc = read_document(seed("000"))
    assert doc.doc_id == "000_f3c2838118472376"
    assert doc.title == "《上海市关于依法从严打击证券违法活动的方案》正式出台"
    assert doc.date == "2022-02-28"
    assert doc.kind == "news"
    assert doc.issuer == "证券时报"
    assert doc.url == (
        "http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW202202282291428632"
    )
    assert doc.text.startswith("证券时报记者2月28日获悉，为进一步贯彻落实中共中央办公厅")
    assert doc.text.endswith("全力维护资本市场健康稳定和良好生态。")
    assert len(doc.text.split("\n")) == 7


def test_seed_000_stock_quote_words_kept() -> None:
    text = read_document(seed("000")).text
    assert "《关于依法从严打击证券违法活动的意见》" in text
    assert "支持上市公司通过主动退市、企业合并、重组上市等多元化渠道" in text
    assert "税务、人民银行等" in text
    assert "资本市场诚信宣传教育。" in text


def test_seed_001_policy_announcement() -> None:
    doc = read_document(seed("001"))
    assert doc.title == "关于依法从严打击证券违法活动的意见"
    assert doc.issuer == "中共中央办公厅、国务院办公厅"
    assert doc.kind == "policy"
    # the dateline has no year: the shipped sidecar supplies the date
    sidecar = seed("001").with_name(seed("001").name + ".meta.yaml")
    assert doc.date == ("2021-07-06" if sidecar.is_file() else None)
    assert doc.url is None
    assert doc.text.split("\n")[0].startswith("新华社北京7月6日电 近日，中共中央办公厅")
    assert "一、总体要求" in [h.text for h in doc.headings]
    assert len(doc.headings) == 8


def test_seed_001_without_sidecar_has_no_guessed_date(tmp_path: Path) -> None:
    copy = tmp_path / seed("001").name
    copy.write_bytes(seed("001").read_bytes())
    doc = read_document(copy)
    assert doc.date is None
    assert doc.issuer == "中共中央办公厅、国务院办公厅"


def test_seed_002_sina_post() -> None:
    doc = read_document(seed("002"))
    assert doc.title == "上海市检察院与上海证监局签署协作意见 持续拓深拓广资本市场执法司法协作"
    assert doc.date == "2022-09-01"
    assert doc.issuer == "新浪财经"
    assert doc.kind == "news"
    assert doc.text.split("\n")[0] == "◎记者 刘礼文"
    assert doc.text.endswith("共同为资本市场健康发展保驾护航。")
    assert "海量资讯" not in doc.text


def test_seed_003_and_004_posts() -> None:
    doc3 = read_document(seed("003"))
    assert (doc3.title, doc3.date, doc3.issuer) == (
        "多点聚力 江西证监局依法从严打击证券违法活动", "2021-07-07", "证券时报网",
    )  # fmt: skip
    assert "通过线上线下相结合的形式" in doc3.text
    assert doc3.text.endswith("（郭渭鹏）")
    doc4 = read_document(seed("004"))
    assert doc4.title == (
        "上交所总经理2021年工作报告：服务经济高质量发展 进一步发挥科创板改革试验田作用"
    )
    assert (doc4.date, doc4.issuer, doc4.kind) == ("2022-07-24", "中证网", "news")
    assert doc4.text.split("\n")[3].startswith("二是进一步发挥科创板改革试验田作用")


@pytest.mark.parametrize("prefix", ["000", "001", "002", "003", "004"])
def test_seed_text_is_clean(prefix: str) -> None:
    doc = read_document(seed(prefix))
    assert_clean(doc)
    for furniture in FURNITURE:
        assert furniture not in doc.text, f"{prefix}: {furniture!r} leaked"
    assert "\u3000" not in doc.text
    assert "<" not in doc.text


def test_seed_formats() -> None:
    formats = {p: detect_format(seed(p), seed(p).read_text("utf-8")) for p in ("000", "001", "002")}
    assert formats == {"000": "post", "001": "text", "002": "post"}


def test_sidecar_gives_the_policy_its_date(tmp_path: Path) -> None:
    path = write(tmp_path / seed("001").name, seed("001").read_bytes())
    write(tmp_path / f"{path.name}.meta.yaml", "date: 2021-07-06\nurl: http://www.gov.cn/x\n")
    doc = read_document(path)
    assert (doc.date, doc.url, doc.title) == (
        "2021-07-06", "http://www.gov.cn/x", "关于依法从严打击证券违法活动的意见",
    )  # fmt: skip


# --- LawRefBook ----------------------------------------------------------------------


def test_lawrefbook_securities_law() -> None:
    doc = read_document(SHIPPED_LAWREFBOOK / "民法商法/证券法(2019-12-28).md",
                        root=SHIPPED_LAWREFBOOK)
    assert doc.doc_id == "证券法-2019-12-28"
    assert doc.source_path == "民法商法/证券法(2019-12-28).md"
    assert doc.title == "中华人民共和国证券法"
    assert doc.subtitle is None
    assert (doc.version, doc.date, doc.valid_from) == ("2019-12-28", "2019-12-28", "2020-03-01")
    assert (doc.kind, doc.status, doc.issuer) == ("law", "in_force", None)
    assert len(doc.history) == 6
    assert doc.history[-1] == (
        "2019年12月28日 第十三届全国人民代表大会常务委员会第十五次会议第二次修订"
    )
    lines = doc.text.split("\n")
    assert lines[0] == "中华人民共和国证券法"
    assert lines[1:7] == list(doc.history)
    assert lines[7] == "第一章 总则"
    assert doc.headings[0].text == "第一章 总则"
    assert doc.headings[0].level == 1
    assert doc.extra["body_start"] == str(doc.headings[0].start)
    assert any(line.startswith("第五十一条 证券交易内幕信息的知情人包括：") for line in lines)
    assert "INFO END" not in doc.text
    assert_clean(doc)


def test_lawrefbook_criminal_law_version_from_history() -> None:
    doc = read_document(SHIPPED_LAWREFBOOK / "刑法/刑法.md")
    assert doc.version == "2023-12-29"
    assert (doc.kind, doc.status) == ("law", "in_force")
    assert len(doc.history) == 16
    assert [(h.level, h.text) for h in doc.headings[:4]] == [
        (1, "第一编 总则"), (2, "第一章 刑法的任务、基本原则和适用范围"), (2, "第二章 犯罪"),
        (3, "第一节 犯罪和刑事责任"),
    ]  # fmt: skip


def test_lawrefbook_civil_code_book_has_subtitle() -> None:
    doc = read_document(statute("民法典/合同编.md"))
    assert (doc.title, doc.subtitle) == ("中华人民共和国民法典", "合同编")
    assert doc.text.split("\n")[:2] == ["中华人民共和国民法典", "合同编"]
    assert (doc.kind, doc.status) == ("law", "in_force")
    assert doc.version == "2020-05-28"  # enactment; the 施行 line is the effective date
    assert doc.valid_from == "2021-01-01"
    assert [(h.level, h.text) for h in doc.headings[:2]] == [
        (1, "第一分编 通则"), (2, "第一章 一般规定"),
    ]  # fmt: skip


def test_lawrefbook_judicial_interpretation_and_regulation() -> None:
    interpretation = read_document(
        statute("司法解释/最高人民法院、最高人民检察院关于办理操纵证券、期货市场刑事案件适用法律若干问题的解释.md")
    )
    assert interpretation.kind == "judicial_interpretation"
    assert interpretation.issuer == "最高人民法院、最高人民检察院"
    assert interpretation.valid_from == "2019-07-01"
    regulation = read_document(statute("行政法规/不动产登记暂行条例(2019-03-24).md"))
    assert (regulation.kind, regulation.version, regulation.status) == (
        "regulation", "2019-03-24", "in_force",
    )  # fmt: skip
    rule = read_document(statute("部门规章/公安部/机动车登记规定(2021-12-17).md"))
    assert (rule.kind, rule.issuer) == ("regulation", "公安部")


def test_lawrefbook_heading_offsets_hold_for_every_file() -> None:
    folder = statute("民法商法/证券法(2019-12-28).md").parent
    documents, errors = load_documents([folder])
    assert errors == []
    assert len(documents) == len([p for p in folder.glob("*.md") if p.name != "_index.md"])
    for doc in documents:
        assert doc.headings, doc.doc_id
        assert_clean(doc)


def make_lawrefbook(root: Path) -> Path:
    """A two-law LawRefBook folder with its own db.sqlite3."""
    body = "\n\n<!-- INFO END -->\n\n## 第一章  总则\n\n第一条 为了示例，制定本法。\n"
    write(root / "民法商法" / "示例法(2020-01-01).md", "# 中华人民共和国示例法\n\n"
          "2020年1月1日 第十三届全国人民代表大会常务委员会第一次会议通过" + body)
    write(root / "民法商法" / "未来法(2030-01-01).md", "# 中华人民共和国未来法" + body)
    write(root / "民法商法" / "旧法.md", "# 旧法\n\n1990年1月1日 通过" + body)
    write(root / "司法解释" / "无库解释.md", "# 关于示例的解释" + body)
    db = sqlite3.connect(root / "db.sqlite3")
    db.executescript(
        "CREATE TABLE category (id TEXT, name TEXT, folder TEXT, isSubFolder INTEGER);"
        "CREATE TABLE law (id TEXT, level TEXT, name TEXT, filename TEXT, publish DATE,"
        " expired INTEGER, valid_from DATE, category_id TEXT);"
        "INSERT INTO category VALUES ('c1', '民法商法', '民法商法', 0);"
        "INSERT INTO law VALUES ('1', '法律', '示例法', NULL, '2020-01-01', 0, '2020-06-01', 'c1');"
        "INSERT INTO law VALUES ('2', '法律', '未来法', NULL, '2030-01-01', 0, '2030-06-01', 'c1');"
        "INSERT INTO law VALUES ('3', '法律', '旧法', NULL, '1990-01-01', 1, '1990-01-01', 'c1');"
        "INSERT INTO law VALUES ('4', '法律', '旧法', NULL, '1985-01-01', 1, '1985-01-01', 'c9');"
    )
    db.commit()
    db.close()
    return root


def test_lawrefbook_metadata_from_local_db(tmp_path: Path) -> None:
    root = make_lawrefbook(tmp_path / "lawrefbook")
    documents, errors = load_documents([root], root=root, today=date(2025, 1, 1))
    assert errors == []
    by_id = {doc.doc_id: doc for doc in documents}
    assert set(by_id) == {"旧法", "无库解释", "未来法-2030-01-01", "示例法-2020-01-01"}
    assert (by_id["示例法-2020-01-01"].status, by_id["示例法-2020-01-01"].valid_from) == (
        "in_force", "2020-06-01",
    )  # fmt: skip
    assert by_id["未来法-2030-01-01"].status == "not_yet_in_force"
    assert by_id["旧法"].status == "repealed"
    assert by_id["旧法"].version == "1990-01-01"
    unknown = by_id["无库解释"]
    assert (unknown.kind, unknown.status) == ("judicial_interpretation", None)
    assert by_id["示例法-2020-01-01"].headings[0].text == "第一章 总则"


def test_lawrefbook_without_db_infers_kind_from_folder(tmp_path: Path) -> None:
    body = "# 某条例\n\n2001年2月3日 国务院令公布\n\n<!-- INFO END -->\n\n第一条 示例。\n"
    doc = read_document(write(tmp_path / "行政法规" / "某条例.md", body))
    assert (doc.kind, doc.status, doc.version) == ("regulation", None, "2001-02-03")


# --- other formats -------------------------------------------------------------------


def test_english_sample_markdown() -> None:
    doc = read_document(DATA / "english_sample.md", root=REPO / "tests" / "data")
    assert doc.source_path == "readers/english_sample.md"
    assert doc.title == (
        "Sample Regulation on the Disclosure of Material Information by Listed Companies"
    )
    assert (doc.kind, doc.date, doc.issuer) == (
        "regulation", "2023-06-30", "Example Securities Commission",
    )  # fmt: skip
    assert [(h.level, h.text) for h in doc.headings] == [
        (1, "Chapter I General Provisions"), (1, "Chapter II Disclosure Obligations"),
    ]  # fmt: skip
    lines = doc.text.split("\n")
    assert sum(line.startswith("Article ") for line in lines) == 5
    assert sum(line.startswith(("(a) ", "(b) ", "(c) ")) for line in lines) == 6
    assert lines[0] == doc.title
    assert_clean(doc)


def test_html_page(tmp_path: Path) -> None:
    doc = read_document(DATA / "notice_page.html")
    assert doc.title == "关于加强上市公司信息披露监管的通知"
    assert (doc.date, doc.issuer, doc.url) == (
        "2023-03-15", "示例证监局", "https://example.org/notice/123.html",
    )  # fmt: skip
    assert [(h.level, h.text) for h in doc.headings] == [(1, "一、总体要求"), (1, "二、工作措施")]
    lines = doc.text.split("\n")
    assert lines[:3] == ["关于加强上市公司信息披露监管的通知", "各上市公司：", "一、总体要求"]
    assert "各上市公司应当依法 履行信息披露义务，不得有虚假记载、误导性陈述或者重大遗漏。" in lines
    assert lines[7:9] == ["加强日常监管。", "加大违法违规行为查处力度。"]
    for gone in ("脚本内容", "返回首页", "二维码", "责任编辑", "页面注释", "&#123;", "color"):
        assert gone not in doc.text
    assert_clean(doc)


def test_plain_text_with_sidecar() -> None:
    doc = read_document(DATA / "plain_note.txt")
    assert (doc.title, doc.date, doc.issuer, doc.kind, doc.url) == (
        "示例证监局召开辖区上市公司座谈会", "2023-05-12", "示例证监局", "news",
        "https://example.org/news/456.html",
    )  # fmt: skip
    assert doc.text == (
        "示例监管动态\n本周，示例证监局召开辖区上市公司座谈会，通报近期监管情况。\n"
        "会议要求各公司 完善内部控制。"
    )


def test_plain_text_without_announcement(tmp_path: Path) -> None:
    doc = read_document(write(tmp_path / "note.txt", "  标题行  \r\n\r\n正文第一段。\r\n"))
    assert (doc.title, doc.kind, doc.issuer, doc.date) == ("标题行", "other", None, None)
    assert doc.text == "标题行\n正文第一段。"


def test_post_issuer_from_tags_and_markdown_links(tmp_path: Path) -> None:
    post = (
        "---\ntitle: 示例\ndate: 2022-02-28 15:27:50 +0800\ncategories: zhengquanshibao\n"
        "tags: 证券时报新闻\nurl: https://example.org/a\n---\n<p>正文。</p>\n\n"
        "[返回首页](//example.org/)｜[查看原文](https://example.org/a)\n"
    )
    doc = read_document(write(tmp_path / "post.txt", post))
    assert (doc.issuer, doc.date, doc.url, doc.text) == (
        "证券时报", "2022-02-28", "https://example.org/a", "正文。\n查看原文",
    )  # fmt: skip


def test_doc_id_slugs() -> None:
    assert slugify("证券法(2019-12-28)") == "证券法-2019-12-28"
    assert slugify("001_fac9b76a4238144e") == "001_fac9b76a4238144e"
    assert slugify("人民检察院刑事诉讼规则（试行）(2012-11-22)") == (
        "人民检察院刑事诉讼规则-试行-2012-11-22"
    )
    assert slugify("  ..Notice  No. 5!! ") == "Notice-No-5"


# --- bad input -----------------------------------------------------------------------


def reason(path: Path, **options: object) -> str:
    with pytest.raises(DocumentError) as caught:
        read_document(path, **options)  # type: ignore[arg-type]
    assert isinstance(caught.value, ValueError)
    assert caught.value.error.path == path.as_posix()
    return caught.value.reason


def test_empty_and_whitespace_files(tmp_path: Path) -> None:
    assert reason(write(tmp_path / "empty.txt", "")) == "empty file"
    assert reason(write(tmp_path / "blank.md", " \n\u3000\n\t\n")) == "empty file"


def test_binary_file(tmp_path: Path) -> None:
    data = os.urandom(4096) + b"\x00\x00" + os.urandom(100)
    assert reason(write(tmp_path / "blob.txt", data)).startswith("binary, not a text document")


def test_gb18030_file(tmp_path: Path) -> None:
    text = "第一条 为了规范证券发行和交易行为，制定本法。\n第二条 适用本法。\n"
    doc = read_document(write(tmp_path / "gb.txt", text.encode("gb18030")))
    assert doc.text == text.strip()


def test_utf8_bom_file(tmp_path: Path) -> None:
    doc = read_document(write(tmp_path / "bom.md", "\ufeff# 标题\n\n正文。\n".encode()))
    assert doc.text == "标题\n正文。"
    assert doc.title == "标题"
    assert "\ufeff" not in doc.text


def test_html_without_body_text(tmp_path: Path) -> None:
    page = "<html><head><title>空页面</title><script>x()</script></head><body> </body></html>"
    assert reason(write(tmp_path / "empty.html", page)) == "no text in HTML body"
    post = "---\ntitle: 空\n---\n<div><script>x()</script></div>\n"
    assert reason(write(tmp_path / "empty_post.txt", post)) == "no text in HTML body"


def test_front_matter_without_body(tmp_path: Path) -> None:
    assert reason(write(tmp_path / "fm.md", "---\ntitle: 只有元数据\n---\n\n")) == (
        "front matter but no body"
    )


def test_too_large_file_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "huge.txt"
    with path.open("wb") as handle:
        for _ in range(50):
            handle.write(b"a" * 2**20)

    real_open = Path.open

    def no_read(self: Path, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self == path:
            raise AssertionError("a too large file was read")
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", no_read)
    why = reason(path)
    assert why == f"file too large: {50 * 2**20} bytes (limit {16 * 2**20} bytes)"
    assert reason(path, max_bytes=1000).endswith("(limit 1000 bytes)")


def test_invalid_sidecar_names_file_and_field(tmp_path: Path) -> None:
    path = write(tmp_path / "note.txt", "正文。\n")
    write(tmp_path / "note.txt.meta.yaml", "kind: statute\n")
    why = reason(path)
    assert "note.txt.meta.yaml" in why and "'kind'" in why and "policy" in why
    write(tmp_path / "note.txt.meta.yaml", "date: someday\n")
    assert "'date'" in reason(path)
    write(tmp_path / "note.txt.meta.yaml", "titel: 拼错\n")
    assert "unknown field 'titel'" in reason(path)
    write(tmp_path / "note.txt.meta.yaml", "title: [unclosed\n")
    assert "invalid YAML" in reason(path)


def test_unsupported_and_missing_files(tmp_path: Path) -> None:
    assert reason(write(tmp_path / "doc.xls", b"\xd0\xcf")).startswith("unsupported file type")
    assert reason(write(tmp_path / "doc.pdf", b"%PDF-1.4")).startswith("truncated PDF")
    assert reason(tmp_path / "missing.txt") == "no such file"


def test_load_documents_mixes_good_and_bad(tmp_path: Path) -> None:
    write(tmp_path / "a" / "good.txt", "第一段。\n")
    write(tmp_path / "a" / "empty.txt", "")
    write(tmp_path / "a" / "blob.md", b"\x00\x01\x02binary")
    write(tmp_path / "a" / "good.txt.meta.yaml", "title: 好文件\n")
    write(tmp_path / "a" / ".hidden.txt", "隐藏。\n")
    write(tmp_path / "a" / "_index.md", "---\nbookCollapseSection: true\n---\n")
    write(tmp_path / "a" / "image.png", b"\x89PNG")
    write(tmp_path / "b" / "sub" / "page.html", "<p>网页正文。</p>")
    documents, errors = load_documents(
        [tmp_path / "a", tmp_path / "b", tmp_path / "nope"], root=tmp_path
    )
    assert [(d.doc_id, d.source_path, d.title) for d in documents] == [
        ("good", "a/good.txt", "好文件"), ("page", "b/sub/page.html", "网页正文。"),
    ]  # fmt: skip
    assert [(e.path, e.reason.split(" (")[0]) for e in errors] == [
        ("a/blob.md", "binary, not a text document"),
        ("a/empty.txt", "empty file"),
        ("nope", "no such file or directory"),
    ]


def test_load_documents_disambiguates_duplicate_ids(tmp_path: Path) -> None:
    write(tmp_path / "news" / "report.txt", "新闻稿。\n")
    write(tmp_path / "policy" / "report.txt", "政策稿。\n")
    write(tmp_path / "policy" / "other.md", "其他。\n")
    documents, errors = load_documents([tmp_path])
    assert errors == []
    assert [d.doc_id for d in documents] == ["news-report", "other", "policy-report"]
    again, _ = load_documents([tmp_path])
    assert [d.doc_id for d in again] == [d.doc_id for d in documents]
