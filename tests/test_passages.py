"""What the dense and keyword channels see of a clause, and the title key gold data matches on."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.chunking import chunk_document
from rag.core.titles import title_key
from rag.index.passages import dense_passage, keyword_passage
from rag.readers import read_document

from .conftest import CORPUS


@pytest.fixture(scope="module")
def securities_law():  # type: ignore[no-untyped-def]
    path = next((CORPUS / "lawrefbook").rglob("证券法*.md"))
    doc = read_document(path)
    return doc, {c.label: c for c in chunk_document(doc)}


def test_dense_passage_of_an_article_is_title_and_text_without_chapter_path(securities_law) -> None:  # type: ignore[no-untyped-def]
    doc, clauses = securities_law
    article = clauses["第五十条"]
    assert article.path == ("第三章 证券交易", "第三节 禁止的交易行为")
    assert dense_passage(article, doc) == f"中华人民共和国证券法\n{article.text}"


def test_keyword_passage_keeps_the_chapter_path(securities_law) -> None:  # type: ignore[no-untyped-def]
    doc, clauses = securities_law
    article = clauses["第五十条"]
    head, text = keyword_passage(article, doc).split("\n", 1)
    assert head == "中华人民共和国证券法 第三章 证券交易 第三节 禁止的交易行为"
    assert text == article.text


def test_later_parts_of_a_long_article_still_name_the_article(tmp_path: Path) -> None:
    body = "。".join(f"第{i}句说明公司应当履行信息披露义务并承担相应责任" for i in range(60))
    path = tmp_path / "长法.md"
    path.write_text(f"# 长法\n\n<!-- INFO END -->\n\n第一条 {body}。\n", encoding="utf-8")
    doc = read_document(path)
    parts = [c for c in chunk_document(doc, max_chars=300) if c.kind == "article"]
    assert len(parts) > 2 and all(p.label == "第一条" for p in parts)
    assert dense_passage(parts[0], doc) == f"长法\n{parts[0].text}"
    for part in parts[1:]:
        assert dense_passage(part, doc) == f"长法 第一条\n{part.text}"


def test_policy_clauses_keep_their_section_in_both_passages() -> None:
    doc = read_document(next((CORPUS / "seeds").glob("001_*.txt")))
    clause = next(c for c in chunk_document(doc) if c.label == "（二十）")
    for passage in (dense_passage(clause, doc), keyword_passage(clause, doc)):
        assert clause.path[0] in passage.split("\n", 1)[0]


@pytest.mark.parametrize(
    ("cited", "title"),
    [
        ("最高人民法院关于适用《民法典》有关担保制度的解释",
         "最高人民法院关于适用中华人民共和国民法典有关担保制度的解释"),
        ("中华人民共和国证券法", "证券法"),
        ("民 法 典", "中华人民共和国民法典"),
    ],
)
def test_title_key_matches_short_quoted_and_full_forms(cited: str, title: str) -> None:
    assert title_key(cited) == title_key(title)


def test_title_key_keeps_different_laws_apart() -> None:
    assert title_key("中华人民共和国证券法") != title_key("中华人民共和国证券投资基金法")
