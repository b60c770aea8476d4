"""Versions compared: alignment of the shipped 公司法 pair, word diffs, comparisons in
answers, "what changed" questions, and the chat card that shows them."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from rag.answer import answer
from rag.answer.change_questions import change_question, has_change_wording, without_change_words
from rag.answer.records import CitationRecord, ComparisonRecord
from rag.answer.types import Citation, Comparison, Highlight, VersionSide
from rag.changes import align, align_documents, articles
from rag.changes.diff import diff_articles
from rag.chunking import chunk_document
from rag.core.documents import Document
from rag.readers import read_document
from rag.search import Index
from ui import compare, render

from .conftest import CORPUS

LAWS = CORPUS / "lawrefbook" / "民法商法"
OLD, NEW = "公司法-2018-10-26", "公司法-2023-12-29"


@pytest.fixture(scope="module")
def company_law():  # type: ignore[no-untyped-def]
    old = read_document(LAWS / "公司法(2018-10-26).md")
    new = read_document(LAWS / "公司法(2023-12-29).md")
    return old, new, align_documents(old, chunk_document(old), new, chunk_document(new))


def law(body: str, *, doc_id: str = "示范法") -> Document:
    return Document(doc_id=doc_id, title="示范法", text=body, kind="law", source_path="x.md")


def units(doc: Document):  # type: ignore[no-untyped-def]
    return articles(doc, chunk_document(doc))


# ---------------------------------------------------------------- alignment


@pytest.mark.parametrize(("old", "new", "relation"), [
    ("art28", "art49", "changed"),  # paying capital in full and on time
    ("art26", "art47", "changed"),  # registered capital: the five-year deadline added
    ("art38", "art61", "renumbered"),  # first shareholders' meeting, same words
    ("art178", "art228", "renumbered"),  # capital increase, same words
    ("art13", "art10", "changed"),  # legal representative, rewritten
])
def test_named_company_law_articles_align_by_text(company_law, old, new, relation) -> None:  # type: ignore[no-untyped-def]
    _, _, alignment = company_law
    pair = alignment.of_old(f"{OLD}#{old}")
    assert pair is not None and pair.new is not None
    assert (pair.relation, pair.new.clause_id) == (relation, f"{NEW}#{new}")
    assert alignment.of_new(f"{NEW}#{new}") is pair
    assert pair.renumbered


def test_repealed_and_new_company_law_articles_have_no_counterpart(company_law) -> None:  # type: ignore[no-untyped-def]
    _, _, alignment = company_law
    removed = alignment.of_old(f"{OLD}#art58")  # one natural person, one one-person LLC
    added = alignment.of_new(f"{NEW}#art54")  # accelerated contribution
    assert removed is not None and (removed.relation, removed.new) == ("removed", None)
    assert added is not None and (added.relation, added.old) == ("added", None)
    counts = alignment.counts()
    assert counts["matched"] == 0  # the 2023 revision renumbered every article
    assert sum(counts.values()) == len(alignment.pairs)
    olds = [p.old.clause_id for p in alignment.pairs if p.old]
    news = [p.new.clause_id for p in alignment.pairs if p.new]
    assert len(olds) == len(set(olds)) == 219 and len(news) == len(set(news)) == 267


def test_an_inserted_article_renumbers_the_rest_and_nothing_else() -> None:
    before = law("第一条 甲应当登记。\n\n第二条 乙应当备案。\n\n第三条 违反本法的，处罚款。\n")
    after = law("第一条 本法所称甲，是指公司。\n\n第二条 甲应当登记。\n\n第三条 乙应当备案。\n\n"
                "第四条 违反本法的，处一万元以下罚款。\n", doc_id="示范法2")
    pairs = align(units(before), units(after)).pairs
    shown = [(p.relation, p.old.label if p.old else None, p.new.label if p.new else None)
             for p in pairs]
    assert shown == [("added", None, "第一条"), ("renumbered", "第一条", "第二条"),
                     ("renumbered", "第二条", "第三条"), ("changed", "第三条", "第四条")]


def test_identical_and_empty_versions() -> None:
    doc = law("第一条 甲应当登记。\n\n第二条 乙应当备案。\n")
    same = align(units(doc), units(doc))
    assert [p.relation for p in same.pairs] == ["matched", "matched"] and not same.changes()
    assert align([], units(doc)).counts()["added"] == 2
    assert align(units(doc), []).counts()["removed"] == 2
    assert align([], []).pairs == ()


def test_unrelated_articles_are_not_paired() -> None:
    before = law("第一条 公司应当依法纳税。\n")
    after = law("第一条 外国公司的分支机构不具有中国法人资格。\n", doc_id="示范法2")
    # a removed article with no paired one before it comes first
    assert [p.relation for p in align(units(before), units(after)).pairs] == [
        "removed", "added"]


# ---------------------------------------------------------------- diff


def test_the_capital_contribution_diff_marks_words(company_law) -> None:  # type: ignore[no-untyped-def]
    old_doc, new_doc, alignment = company_law
    pair = alignment.of_new(f"{NEW}#art49")
    diff = diff_articles(pair.old, pair.new)
    assert [pair.old.text[s:e] for s, e in diff.deleted()] == [
        "中", "不按照前款规定", "向已按期足额缴纳出资的股东承担违约责任"]
    assert [pair.new.text[s:e] for s, e in diff.inserted()] == [
        "\n", "未按期足额", "对给公司造成的损失承担赔偿责任"]
    # the edits cover both bodies exactly, as slices of each document's text
    assert "".join(old_doc.text[e.old_start:e.old_end] for e in diff.edits) == pair.old.body
    assert "".join(new_doc.text[e.new_start:e.new_end] for e in diff.edits) == pair.new.body
    redline = "".join({"same": "{}", "deleted": "[-{}-]", "inserted": "{{+{}+}}"}[k].format(p)
                      for p, k in diff.runs())
    assert redline.startswith(
        "[-第二十八条 -]{+第四十九条 +}股东应当按期足额缴纳公司章程[-中-]规定")
    assert "还应当[-向已按期足额缴纳出资的股东承担违约责任-]{+对给公司造成的损失承担赔偿责任+}。" \
        in redline


def test_the_deadline_added_in_2023_is_an_insertion_only(company_law) -> None:  # type: ignore[no-untyped-def]
    _, _, alignment = company_law
    pair = alignment.of_new(f"{NEW}#art47")
    diff = diff_articles(pair.old, pair.new)
    assert diff.deleted() == []
    assert [pair.new.text[s:e] for s, e in diff.inserted()] == [
        "。全体股东认缴的出资额由股东按照公司章程的规定自公司成立之日起五年内缴足",
        "、股东出资期限"]


def test_a_short_unchanged_run_joins_two_edits() -> None:
    before, after = law("第一条 甲处一万元罚款。\n"), law("第一条 甲处十万元的罚金。\n", doc_id="b")
    (old,), (new,) = units(before), units(after)
    diff = diff_articles(old, new)
    assert [old.text[s:e] for s, e in diff.deleted()] == ["一万元罚款"]
    assert [new.text[s:e] for s, e in diff.inserted()] == ["十万元的罚金"]
    assert not diff_articles(old, old).changed


# ---------------------------------------------------------------- answers


def sides_are_slices(index: Index, compared: Comparison) -> None:
    for side in (compared.older, compared.newer):
        assert index.documents[side.doc_id].text[side.start:side.end] == side.text
        for mark in side.marks:
            assert 0 <= mark.start < mark.end <= len(side.text)


def test_a_cited_article_comes_with_its_2018_version(shipped_index, hashing_encoder) -> None:  # type: ignore[no-untyped-def]
    result = answer("公司法第四十九条", index=shipped_index, encoder=hashing_encoder, k=3)
    first = result.citations[0]
    assert (first.clause_id, first.via) == (f"{NEW}#art49", "lookup")
    (compared,) = first.versions
    assert (compared.relation, compared.older.label, compared.newer.label) == (
        "changed", "第二十八条", "第四十九条")
    assert compared.older.citation == "《中华人民共和国公司法》（2018年修正）第二十八条"
    assert (compared.older.status, compared.newer.status) == ("superseded", "in_force")
    assert [compared.newer.text[m.start:m.end] for m in compared.newer.marks] == [
        "\n", "未按期足额", "对给公司造成的损失承担赔偿责任"]
    assert {m.kind for m in compared.older.marks} == {"deleted"}
    sides_are_slices(shipped_index, compared)
    record = ComparisonRecord.model_validate(compared).model_dump(mode="json")
    assert record["older"]["marks"][0] == {"start": 20, "end": 21, "kind": "deleted"}
    assert (record["older"]["status_label"], record["newer"]["status_label"]) == (
        "已被修订", "现行有效")
    assert CitationRecord.model_validate(first).model_dump(mode="json")["versions"] == [record]


def test_an_old_article_number_finds_what_it_became(shipped_index, hashing_encoder) -> None:  # type: ignore[no-untyped-def]
    """2023 第二十八条 is another article; 2018 第二十八条 is quoted too, beside 第四十九条."""
    result = answer("公司法第二十八条", index=shipped_index, encoder=hashing_encoder, k=3)
    lookups = [(c.clause_id, c.status) for c in result.citations if c.via == "lookup"]
    assert lookups == [(f"{NEW}#art28", "in_force"), (f"{OLD}#art28", "superseded")]
    old = result.citations[1]
    assert [(c.relation, c.newer.label) for c in old.versions] == [("changed", "第四十九条")]
    new = result.citations[0]
    assert [(c.relation, c.older.clause_id) for c in new.versions] == [("added", None)]


QUESTIONS = ["公司法第四十九条", "股东出资期限", "董事会的职权", "公司合并应当通知债权人",
             "反洗钱法第三条", "洗钱 客户身份识别"]


@pytest.mark.parametrize("question", QUESTIONS)
def test_an_old_version_never_outranks_the_article_it_became(shipped_index, hashing_encoder,  # type: ignore[no-untyped-def]
                                                              question) -> None:
    result = answer(question, index=shipped_index, encoder=hashing_encoder, k=10)
    cited = {c.clause_id for c in result.citations}
    for citation in result.citations:
        # an old number named outright (反洗钱法第三条: 2006 第三条 is now 第六条) is quoted
        if citation.status == "superseded" and citation.via == "search":
            twins = {c.newer.clause_id for c in citation.versions}
            assert not twins & cited, (question, citation.clause_id)
        for compared in citation.versions:
            sides_are_slices(shipped_index, compared)


def test_laws_with_one_version_have_no_comparison(shipped_index, hashing_encoder) -> None:  # type: ignore[no-untyped-def]
    result = answer("《证券法》第一百九十一条", index=shipped_index, encoder=hashing_encoder, k=1)
    assert result.citations[0].versions == ()
    assert CitationRecord.model_validate(result.citations[0]).versions == []


# ---------------------------------------------------------------- what changed


@pytest.mark.parametrize(("question", "expected"), [
    ("公司法修订后股东出资期限有什么变化？", "公司法 股东出资期限"),
    ("What changed in the Company Law's capital contribution rules?",
     "the Company Law's capital contribution rules"),
    ("新公司法与2018年版相比，股东会职权有哪些不同？", "新公司法，股东会职权"),
    ("反洗钱法修改了哪些内容", "反洗钱法 内容"),
])
def test_change_wording_is_recognised_and_removed(question, expected) -> None:  # type: ignore[no-untyped-def]
    assert has_change_wording(question)
    assert without_change_words(question) == expected


@pytest.mark.parametrize("question", [
    "内幕交易和操纵市场有什么区别？",  # a difference between concepts, not versions
    "公司变更登记需要什么材料", "What is the penalty for insider trading?",
    "修改公司章程需要多少表决权",
])
def test_other_questions_are_not_about_change(shipped_index, question) -> None:  # type: ignore[no-untyped-def]
    assert change_question(question, index=shipped_index) is None


def pairs_follow_their_article(citations: tuple[Citation, ...]) -> list[tuple[str, str]]:
    """(newer, older) clause ids of each pair; fails unless each older one directly
    follows the newer one whose comparison names it."""
    pairs = []
    for n, citation in enumerate(citations):
        if citation.via == "version":
            newer = citations[n - 1]
            older_ids = {c.older.clause_id for c in newer.versions}
            assert citation.clause_id in older_ids and citation.versions == ()
            pairs.append((newer.clause_id, citation.clause_id))
    return pairs


def test_what_changed_answers_with_the_pair_current_first(shipped_index, hashing_encoder) -> None:  # type: ignore[no-untyped-def]
    result = answer("公司法修订后股东出资期限有什么变化？", index=shipped_index,
                    encoder=hashing_encoder, k=3)
    assert result.question == "公司法修订后股东出资期限有什么变化？"
    assert {c.doc_id for c in result.citations} <= {OLD, NEW}
    assert (f"{NEW}#art47", f"{OLD}#art26") in pairs_follow_their_article(result.citations)
    assert "修订前的版本" in result.message and result.filters == {}
    assert [c.rank for c in result.citations] == list(range(1, len(result.citations) + 1))


def test_what_changed_in_english(shipped_index, hashing_encoder) -> None:  # type: ignore[no-untyped-def]
    result = answer("What changed in the Company Law's capital contribution rules?",
                    index=shipped_index, encoder=hashing_encoder, k=5)
    assert {c.doc_id for c in result.citations} <= {OLD, NEW}
    pairs = pairs_follow_their_article(result.citations)
    # which contribution articles rank first is the encoder's business (a hashing one
    # here); each found in the 2023 law is followed by its 2018 counterpart
    assert pairs and all(new.startswith(NEW) and old.startswith(OLD) for new, old in pairs)
    text = {c.clause_id: c.text for c in result.citations}
    assert all("出资" in text[new] for new, _ in pairs), pairs


def test_a_question_about_concepts_is_answered_as_usual(shipped_index, hashing_encoder) -> None:  # type: ignore[no-untyped-def]
    result = answer("内幕交易和操纵市场有什么区别？", index=shipped_index,
                    encoder=hashing_encoder, k=3)
    assert not [c for c in result.citations if c.via == "version"]
    assert "修订前的版本" not in result.message


@pytest.mark.integration
def test_what_changed_with_the_real_model(real_index, real_encoder) -> None:  # type: ignore[no-untyped-def]
    result = answer("公司法修订后股东出资期限有什么变化？", index=real_index,
                    encoder=real_encoder, k=3)
    assert result.answered, result.confidence
    assert (f"{NEW}#art47", f"{OLD}#art26") in pairs_follow_their_article(result.citations)


# ---------------------------------------------------------------- the chat card


def visible(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def test_the_card_offers_the_2018_version_with_marks(shipped_index, hashing_encoder) -> None:  # type: ignore[no-untyped-def]
    result = answer("公司法第四十九条", index=shipped_index, encoder=hashing_encoder, k=1)
    card = render.turn_html(result, number=1)
    box = card[card.index('<details class="compare"'):]
    box = box[:box.index("</details>")]
    assert "对照2018年版本 Compare with the 2018 version · 第二十八条 → 第四十九条" in box
    assert "<del>中</del>" in box and "<ins>未按期足额</ins>" in box
    assert "<del>向已按期足额缴纳出资的股东承担违约责任</del>" in box
    assert box.index('class="version newer"') < box.index('class="version older"')
    compared = result.citations[0].versions[0]
    assert compared.newer.text in visible(box) and compared.older.text in visible(box)


def test_markup_in_a_compared_text_is_escaped() -> None:
    evil, img = "第一条 <script>alert(1)</script>罚款。", "第一条 <img src=x onerror=alert(1)>。"
    older = VersionSide("a", "2001-01-01", "superseded", "a#art1", "第一条", "《法》第一条",
                        evil, 0, len(evil), (Highlight(4, 12, "deleted"),))
    newer = VersionSide("b", "2020-01-01", "in_force", "b#art1", "第一条", "《法》第一条",
                        img, 0, len(img), (Highlight(4, len(img) - 1, "inserted"),))
    citation = render_citation(newer)
    out = compare.comparison_html(citation, Comparison("changed", older, newer, 0.5))
    assert "<script" not in out and "<img" not in out
    assert "<del>&lt;script&gt;</del>" in out and visible(out).count("alert(1)") == 2


def render_citation(side: VersionSide) -> Citation:
    return Citation(rank=1, clause_id=str(side.clause_id), doc_id=side.doc_id, document="法",
                    label="第一条", citation="《法》第一条", path=(), text=side.text, start=0,
                    end=len(side.text), score=1.0, scores={}, ranks={})


def test_a_new_article_says_so_instead_of_comparing(shipped_index, hashing_encoder) -> None:  # type: ignore[no-untyped-def]
    result = answer("公司法第五十四条", index=shipped_index, encoder=hashing_encoder, k=1)
    card = render.turn_html(result)
    assert "2018年版本无对应条文 · not in the 2018 version" in card
    assert "<details class=\"compare\"" not in card


def test_what_changed_opens_the_comparison(shipped_index, hashing_encoder) -> None:  # type: ignore[no-untyped-def]
    result = answer("公司法修订后股东出资期限有什么变化？", index=shipped_index,
                    encoder=hashing_encoder, k=3)
    assert '<details class="compare" open>' in render.turn_html(result)


def test_shipped_corpus_holds_both_company_laws(shipped_index: Index) -> None:
    titles = sorted(d.version or "" for d in shipped_index.documents.values()
                    if d.title == "中华人民共和国公司法")
    assert titles == ["2018-10-26", "2023-12-29"]
    assert shipped_index.versions()[OLD].preferred is False
    assert isinstance(LAWS, Path)
