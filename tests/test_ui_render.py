"""The chat's HTML: document text is always escaped, highlights wrap the right slices."""

from __future__ import annotations

import html
import re

import pytest

from rag.answer.types import Answer, Citation, Highlight, InnerReference
from ui import render

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
EVIL = f"第一条 内幕交易的，没收违法所得。{SCRIPT}并处罚款。{IMG}单位从事内幕交易的，从重处罚。"


def make_citation(text: str = EVIL, highlights: tuple[Highlight, ...] = (), **kw) -> Citation:  # type: ignore[no-untyped-def]
    fields: dict[str, object] = {
        "rank": 1, "clause_id": "doc#art1", "doc_id": "doc", "document": "测试法",
        "label": "第一条", "citation": "《测试法》（2020年）第一条", "path": ("第一章 总则",),
        "text": text, "start": 0, "end": len(text), "score": 0.5, "scores": {}, "ranks": {},
        "highlights": highlights, "kind": "law", "date": "2020-01-01",
        "version": "2020-01-01", "status": "in_force", "source": "corpus/测试法.md",
    }
    fields.update(kw)
    return Citation(**fields)  # type: ignore[arg-type]


def visible_text(fragment: str) -> str:
    """What a browser shows for an HTML fragment made only of our tags and escaped text."""
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def test_markup_in_a_quote_is_escaped() -> None:
    out = render.quote_html(EVIL)
    assert "<script" not in out and "<img" not in out
    assert html.escape(SCRIPT) in out
    assert html.escape(IMG) in out
    assert visible_text(out) == EVIL


def test_highlights_that_cut_through_markup_still_escape_each_slice() -> None:
    at = EVIL.index("<script>")
    marks = (
        Highlight(at + 2, at + 12, "sentence"),  # starts inside "<script>"
        Highlight(at + 1, at + 4, "term"),
        Highlight(EVIL.index("<img") + 1, EVIL.index("<img") + 8, "term"),
    )
    out = render.quote_html(EVIL, marks)
    assert "<script" not in out and "<img" not in out and "onerror=alert(1)>" not in out
    assert visible_text(out) == EVIL


def test_key_sentence_and_terms_wrap_the_right_substrings() -> None:
    text = "甲乙丙。内幕交易的，没收违法所得。丁戊。"
    sentence = (text.index("内幕"), text.index("丁"))
    term = (text.index("违法"), text.index("违法") + 2)
    out = render.quote_html(text, (Highlight(*sentence, "sentence"), Highlight(*term, "term")))
    assert out == (
        "甲乙丙。"
        '<mark class="key">内幕交易的，没收<b class="term">违法</b>所得。</mark>'
        "丁戊。"
    )


def test_term_outside_the_sentence_and_bad_offsets() -> None:
    text = "<b>罚款</b>之外"
    marks = (Highlight(3, 5, "term"), Highlight(-4, 2, "sentence"), Highlight(50, 60, "term"))
    out = render.quote_html(text, marks)
    assert out == '<mark class="key">&lt;b</mark>&gt;<b class="term">罚款</b>&lt;/b&gt;之外'


@pytest.mark.parametrize("seed", range(20))
def test_any_highlights_keep_the_quote_verbatim(seed: int) -> None:
    import random

    rng = random.Random(seed)
    marks = []
    for _ in range(rng.randint(0, 6)):
        a, b = sorted(rng.randint(-3, len(EVIL) + 3) for _ in range(2))
        marks.append(Highlight(a, b, rng.choice(["sentence", "term"])))
    out = render.quote_html(EVIL, tuple(marks))
    assert "<script" not in out and "<img" not in out
    assert visible_text(out) == EVIL
    assert out.count("<mark") == out.count("</mark>")


def test_card_escapes_every_document_field_and_refuses_script_urls() -> None:
    citation = make_citation(
        citation='《恶意"><script>alert(2)</script>》第一条',
        path=("<i>第一章</i>",),
        source='corpus/"><img src=x onerror=alert(3)>.md',
        url="javascript:alert(4)",
        status="<b>in_force</b>",  # an unknown code is shown as itself, escaped
        version_note="<u>note</u>",
    )
    card = render.citation_card_html(citation)
    for tag in ("<script", "<img", "<i>", "<b>in_force", "<u>"):
        assert tag not in card
    assert 'href="javascript' not in card
    assert "javascript:alert(4)" in card  # shown as text only
    # the copy payload is an attribute: its quotes are escaped too
    copy = re.search(r'data-copy="([^"]*)"', card)
    assert copy is not None
    assert html.unescape(copy.group(1)) == render.copy_text(citation)


def test_copy_text_is_the_citation_then_the_quote() -> None:
    citation = make_citation()
    assert render.copy_text(citation) == f"《测试法》（2020年）第一条\n{EVIL}"


def test_http_urls_become_links() -> None:
    card = render.citation_card_html(make_citation(url="https://example.org/a?b=1&c=2"))
    assert 'href="https://example.org/a?b=1&amp;c=2"' in card
    assert 'rel="noopener noreferrer nofollow"' in card


def test_refused_answer_says_so_and_marks_candidates() -> None:
    result = Answer(
        question="<b>火星上的证券法？</b>", answered=False, confidence=0.1,
        message="No clause", citations=(make_citation(low_confidence=True),),
    )
    out = render.transcript_html([result])
    assert render.NOT_FOUND in out
    assert "low confidence" in out
    assert 'class="card low"' in out
    assert "&lt;b&gt;火星上的证券法？&lt;/b&gt;" in out
    text = render.answer_text(result)
    assert "[low confidence]" in text and EVIL in text


def test_answered_transcript_and_empty_state() -> None:
    assert "Compliance Q&amp;A" in render.transcript_html([])
    result = Answer(question="问题", answered=True, confidence=0.9, message="found",
                    citations=(make_citation(),))
    out = render.transcript_html([result, result])
    assert out.count('class="turn"') == 2
    assert "现行有效" in out and "版本 2020-01-01" in out
    assert "<script" not in out


@pytest.mark.parametrize(("code", "label", "css"), [
    ("in_force", "现行有效", "ok"), ("repealed", "已废止", "bad"),
    ("superseded", "已被修订", "warn"), ("not_yet_in_force", "尚未施行", "info")])
def test_status_badge_shows_the_label_and_keys_its_style_on_the_code(
        code: str, label: str, css: str) -> None:
    card = render.citation_card_html(make_citation(status=code))
    assert f'<span class="badge {css}" data-status="{code}">{label}</span>' in card


def test_answer_text_is_the_cli_text() -> None:
    from rag.export.text import format_answer

    result = Answer(question="问题", answered=True, confidence=0.9, message="found",
                    citations=(make_citation(),))
    assert render.answer_text(result) == format_answer(result, color=False)


def test_real_answer_renders_verbatim(shipped_index, hashing_encoder) -> None:  # type: ignore[no-untyped-def]
    from rag.answer import answer

    result = answer("《证券法》第一百九十一条", index=shipped_index, encoder=hashing_encoder, k=3)
    out = render.answer_html(result)
    first = result.citations[0]
    assert html.escape(first.citation) in out
    block = re.search(r'<blockquote class="quote">(.*?)</blockquote>', out, re.S)
    assert block is not None and visible_text(block.group(1)) == first.text


def test_references_inside_the_article_are_listed_and_escaped() -> None:
    outside = InnerReference(phrase="前款", start=0, end=2, label="第一款", text=SCRIPT,
                             target_start=100, target_end=100 + len(SCRIPT))
    inside = InnerReference(phrase="第一款", start=3, end=6, label="第一款", text=EVIL[:5],
                            target_start=0, target_end=5)
    card = render.citation_card_html(make_citation(inner=(outside, inside)))
    assert SCRIPT not in card and html.escape(SCRIPT) in card
    listed = re.findall(r"<li>(.*?)</li>", card, re.S)
    # a 款 outside the quote is shown verbatim; one inside it is only named
    assert [visible_text(item) for item in listed] == [
        f"前款 → 本条第一款{SCRIPT}", "第一款 → 本条第一款",
    ]


def test_feedback_buttons_carry_each_clause_id_escaped_and_the_question() -> None:
    evil_id = 'doc#art1"><img src=x onerror=alert(1)>'
    asked = '内幕交易"><script>alert(2)</script>'
    result = Answer(question=asked, answered=True, confidence=0.9, message="found",
                    citations=(make_citation(clause_id=evil_id),
                               make_citation(clause_id="证券法-2019-12-28#art191", rank=2)))
    out = render.turn_html(result, number=1, with_feedback=True)
    assert "<img" not in out and "<script" not in out
    assert f'data-question="{html.escape(asked)}"' in out
    for clause in (html.escape(evil_id), "证券法-2019-12-28#art191"):
        for verdict in ("governs", "not_relevant"):
            assert f'data-verdict="{verdict}" data-clause="{clause}"' in out
    assert out.count("👍 governs this") == 2 and out.count("👎 not relevant") == 2
    # one "the right clause is …" per answer: a text box and a send button without a clause
    assert out.count('class="right"') == 1
    assert re.search(r'<input type="text" class="right" maxlength="\d+"', out)
    assert out.count('<button type="button" data-verdict="governs">send</button>') == 1


def test_no_feedback_controls_unless_asked_for() -> None:
    result = Answer(question="问题", answered=True, confidence=0.9, message="found",
                    citations=(make_citation(),))
    out = render.turn_html(result)
    assert "data-verdict" not in out and "data-question" not in out
    assert 'class="right"' not in out
    assert out == render.turn_html(result, with_feedback=False)
