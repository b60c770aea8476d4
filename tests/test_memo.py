"""Memo export: verbatim quotes, citations, bold key sentences, refusals, audit line."""

from __future__ import annotations

import datetime as dt
import random
import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from rag import __version__
from rag.answer.types import Answer, Citation, Highlight
from rag.answer.wording import RELATED
from rag.export.common import split_runs
from rag.export.docx import memo_docx
from rag.export.markdown import md_escape, md_quote, md_unescape, memo_markdown

WHEN = dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.timezone(dt.timedelta(hours=8)))
INDEX = {
    "fingerprint": "f00dfeed", "model": "multilingual-e5-small",
    "model_identity": "sha256:abc123", "created": "2024-05-01T00:00:00+0800",
}
QUOTE = (
    "第一百九十一条 证券交易内幕信息的知情人从事内幕交易的，责令依法处理非法持有的证券，"
    "没收违法所得，并处以违法所得一倍以上十倍以下的罚款；没有违法所得的，处以五十万元以上"
    "五百万元以下的罚款。\n违反本法第五十四条的规定，利用未公开信息进行交易的，依照前款的规定处罚。"
)
KEY = "责令依法处理非法持有的证券，没收违法所得，并处以违法所得一倍以上十倍以下的罚款；"


def make_citation(text: str = QUOTE, **kw) -> Citation:  # type: ignore[no-untyped-def]
    start = text.find(KEY)
    fields: dict[str, object] = {
        "rank": 1, "clause_id": "证券法#art191", "doc_id": "证券法", "document": "证券法",
        "label": "第一百九十一条",
        "citation": "《中华人民共和国证券法》（2019年修订）第一百九十一条",
        "path": ("第十三章 法律责任",), "text": text, "start": 0, "end": len(text),
        "score": 1.0, "scores": {}, "ranks": {},
        "highlights": (
            (Highlight(start, start + len(KEY), "sentence"),) if start >= 0 else ()
        ) + (Highlight(2, 4, "term"),),
        "kind": "law", "date": "2019-12-28", "version": "2019-12-28", "status": "in_force",
        "source": "corpus/lawrefbook/民法商法/证券法(2019-12-28).md",
        "url": "https://example.org/law_191",
    }
    fields.update(kw)
    return Citation(**fields)  # type: ignore[arg-type]


def answered() -> Answer:
    return Answer(question="利用内幕消息炒股会被罚多少钱？", answered=True, confidence=0.91,
                  message="The clauses below govern this question.",
                  citations=(make_citation(),), index=INDEX)


def refused() -> Answer:
    return Answer(question="火星上的证券怎么交易？", answered=False, confidence=0.12,
                  message="No clause in the corpus answers this question.",
                  citations=(make_citation(low_confidence=True, rank=1),), index=INDEX)


def rendered(markdown: str) -> str:
    return MarkdownIt("commonmark").render(markdown)


def test_markdown_memo_quotes_verbatim_with_bold_key_sentence() -> None:
    text = memo_markdown([answered()], title="Memo", generated_at=WHEN)
    assert text.startswith("# Memo\n")
    assert "## 1. 利用内幕消息炒股会被罚多少钱？" in text
    assert "Answered (confidence 0.91)" in text
    assert "《中华人民共和国证券法》（2019年修订）第一百九十一条" in text
    assert "现行有效 · version 2019-12-28 · law" in text
    assert md_escape("corpus/lawrefbook/民法商法/证券法(2019-12-28).md") in text
    assert "URL: https://example.org/law\\_191" in text
    out = rendered(text)
    # the closing "；" sits outside the ** so CommonMark closes the bold before a CJK letter
    assert f"<strong>{KEY[:-1]}</strong>；" in out
    block = re.search(r"<blockquote>\n(.*?)</blockquote>", out, re.S)
    assert block is not None
    paragraphs = re.findall(r"<p>(.*?)</p>", block.group(1), re.S)
    assert "\n".join(re.sub(r"</?strong>", "", p) for p in paragraphs) == QUOTE


def test_markdown_memo_never_interprets_document_markup() -> None:
    evil = (
        "第一条 <script>alert(1)</script> *不是强调* [链接](javascript:x) # 不是标题"
        "\n1. 不是列表"
    )
    item = Answer(question="<b>q</b>", answered=True, confidence=1.0, message="ok",
                  citations=(make_citation(text=evil, highlights=()),), index=INDEX)
    out = rendered(memo_markdown([item], generated_at=WHEN))
    out = out[out.index("<h2>"):]  # after the memo's own header
    assert "<script" not in out and "<em>" not in out and "<a " not in out and "<ol" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "*不是强调*" in out and "&lt;b&gt;q&lt;/b&gt;" in out


@pytest.mark.parametrize("text", [QUOTE, "a*b_c<d>&e[f]`g`\\h\n- i\n+ j\n12. k\n# l|m~n"])
def test_md_escape_round_trips(text: str) -> None:
    assert md_unescape(md_escape(text)) == text


def test_refused_question_lists_low_confidence_candidates() -> None:
    text = memo_markdown([refused()], generated_at=WHEN)
    assert "NOT ANSWERED (confidence 0.12)" in text
    assert "Nearest candidates (low confidence" in text
    assert "\\[low confidence\\]" in text


def test_a_failed_question_without_citations_says_so() -> None:
    failed = Answer(question="(question 3)", answered=False, confidence=0.0,
                    message="The question could not be run: the question is empty",
                    citations=())
    text = memo_markdown([answered(), failed], generated_at=WHEN)
    assert "## 2. \\(question 3)" in text or "## 2. (question 3)" in text
    assert "NOT ANSWERED. The question could not be run" in text


def test_audit_line_names_index_model_dates_and_version() -> None:
    text = memo_markdown([answered()], generated_at=WHEN)
    audit = [line for line in text.splitlines() if line.startswith("Audit:")]
    assert audit, text
    line = md_unescape(audit[-1])
    for part in ("f00dfeed", "multilingual-e5-small", "sha256:abc123",
                 "2024-05-01T00:00:00+0800", "2024-05-06 07:08:09 +0800", f"rag {__version__}"):
        assert part in line


def test_docx_memo_runs_concatenate_to_the_quote(tmp_path: Path) -> None:
    import docx

    path = memo_docx([answered(), refused()], tmp_path / "memo.docx", generated_at=WHEN)
    document = docx.Document(str(path))
    texts = [p.text for p in document.paragraphs]
    assert "1. 利用内幕消息炒股会被罚多少钱？" in texts
    assert any("《中华人民共和国证券法》（2019年修订）第一百九十一条" in t for t in texts)
    quotes = [p for p in document.paragraphs if p.text == QUOTE]
    assert len(quotes) == 2
    for paragraph in quotes:
        assert "".join(r.text for r in paragraph.runs) == QUOTE
        assert "".join(r.text for r in paragraph.runs if r.bold) == KEY
    assert any("[low confidence]" in t for t in texts)
    assert any(t.startswith("NOT ANSWERED") for t in texts)
    assert any("f00dfeed" in t and f"rag {__version__}" in t for t in texts)


def test_docx_memo_of_a_real_answer(tmp_path: Path, shipped_index, hashing_encoder) -> None:  # type: ignore[no-untyped-def]
    import docx

    from rag.answer import answer

    result = answer("《证券法》第一百九十一条", index=shipped_index, encoder=hashing_encoder)
    path = memo_docx([result], tmp_path / "real.docx")
    texts = [p.text for p in docx.Document(str(path)).paragraphs]
    for citation in result.citations:
        assert citation.text in texts
        assert any(citation.citation in t for t in texts)


@pytest.mark.parametrize("seed", range(25))
def test_split_runs_always_concatenates_to_the_text(seed: int) -> None:
    rng = random.Random(seed)
    spans = [tuple(sorted(rng.randint(-5, len(QUOTE) + 5) for _ in range(2)))
             for _ in range(rng.randint(0, 5))]
    runs = split_runs(QUOTE, spans)  # type: ignore[arg-type]
    assert "".join(piece for piece, _ in runs) == QUOTE
    assert all(piece for piece, _ in runs)


def test_memos_carry_cross_references_and_references_inside_articles(
    tmp_path: Path, shipped_index, hashing_encoder  # type: ignore[no-untyped-def]
) -> None:
    import docx

    from rag.answer import answer

    named = answer("证券法第一百九十一条", index=shipped_index, encoder=hashing_encoder, k=1)
    crime = answer("刑法第一百八十条", index=shipped_index, encoder=hashing_encoder, k=1)
    assert named.related and crime.citations[0].inner
    text = memo_markdown([named, crime])
    related = text.split(RELATED, 1)[1]
    for citation in named.related:  # 本法第五十三条 → the article it names, quoted verbatim
        assert f"[→] {citation.citation}" in md_unescape(related)
        assert md_quote(citation) in related
    assert "- 前款 → 本条第一款: (quoted above)" in text
    path = memo_docx([named, crime], tmp_path / "refs.docx")
    texts = [p.text for p in docx.Document(str(path)).paragraphs]
    assert RELATED in texts
    assert all(c.text in texts for c in named.related)
    assert "前款 → 本条第一款: (quoted above)" in texts
