"""Answers: exact citation look-up, verbatim quotes, citations, versions, filters, refusal.

The look-up and invariant tests run on the hashing-encoder index (fast); the semantic
expectations run with the real default model (``integration``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rag.answer import answer
from rag.core.filters import Filters
from rag.encoders import HashingEncoder
from rag.index import index_paths
from rag.search import Fusion, Index, open_index, retrieve

SEC = "证券法-2019-12-28"
CRIM = "刑法"
OPINION = "001_fac9b76a4238144e"


def ids(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [c.clause_id for c in result.citations]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("《证券法》第一百九十一条", f"{SEC}#art191"),
        ("证券法第191条规定了什么", f"{SEC}#art191"),
        ("中华人民共和国证券法第一百九十一条", f"{SEC}#art191"),
        ("证券法 第 191 条", f"{SEC}#art191"),
        ("刑法第一百二十条之一", f"{CRIM}#art120-1"),
        ("《刑法》第120条之一是什么罪", f"{CRIM}#art120-1"),
        ("《关于依法从严打击证券违法活动的意见》第（十一）项", f"{OPINION}#sec3.c11"),
        ("关于依法从严打击证券违法活动的意见（二十）", f"{OPINION}#sec5.c20"),
        ("Article 56 of the Securities Law", f"{SEC}#art56"),
        ("What does Securities Law Art. 191 say?", f"{SEC}#art191"),
        ("Criminal Law Article 182", f"{CRIM}#art182"),
    ],
)
def test_named_clauses_come_first(shipped_index, hashing_encoder, question, expected) -> None:  # type: ignore[no-untyped-def]
    result = answer(question, index=shipped_index, encoder=hashing_encoder, k=3)
    assert result.answered
    assert result.citations[0].clause_id == expected
    assert result.citations[0].via == "lookup"


def test_a_named_item_is_cited_down_to_the_item(shipped_index, hashing_encoder) -> None:  # type: ignore[no-untyped-def]
    result = answer("证券法第五十一条第（三）项", index=shipped_index, encoder=hashing_encoder)
    first = result.citations[0]
    assert first.clause_id == f"{SEC}#art51"
    assert first.citation == "《中华人民共和国证券法》（2019年修订）第五十一条第（三）项"


@pytest.mark.parametrize(
    ("clause_id", "citation"),
    [
        (f"{SEC}#art191", "《中华人民共和国证券法》（2019年修订）第一百九十一条"),
        (f"{CRIM}#art182", "《中华人民共和国刑法》（2023年修正）第一百八十二条"),
        (f"{OPINION}#sec3.c11",
         "中共中央办公厅、国务院办公厅《关于依法从严打击证券违法活动的意见》（2021年7月6日）第（十一）项"),
        # text after the last article is cited by the heading it sits under
        (f"{CRIM}#tail2", "《中华人民共和国刑法》（2023年修正）附件一"),
        (f"{CRIM}#tail19", "《中华人民共和国刑法》（2023年修正）附件二"),
    ],
)
def test_citation_strings_name_document_version_and_clause(
    shipped_index, hashing_encoder, clause_id, citation  # type: ignore[no-untyped-def]
) -> None:
    clause = shipped_index.clauses[shipped_index.row_of[clause_id]]
    doc = shipped_index.documents[clause.doc_id]
    from rag.core.citations import citation_string

    assert citation_string(clause, doc) == citation


def test_news_citations_carry_outlet_date_paragraph_and_url(shipped_index) -> None:  # type: ignore[no-untyped-def]
    from rag.core.citations import citation_string

    clause = next(c for c in shipped_index.clauses if c.doc_id == "000_f3c2838118472376")
    cite = citation_string(clause, shipped_index.documents[clause.doc_id])
    assert cite == (
        "证券时报《〈上海市关于依法从严打击证券违法活动的方案〉正式出台》（2022年2月28日）第1段，"
        "http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW202202282291428632"
    )


@pytest.mark.parametrize(
    "question",
    ["内幕交易的法律责任", "操纵市场", "What is the penalty for market manipulation?",
     "《证券法》第一百九十一条", "意见对中概股监管的要求"],
)
def test_quotes_are_exact_source_slices(shipped_index, hashing_encoder, question) -> None:  # type: ignore[no-untyped-def]
    result = answer(question, index=shipped_index, encoder=hashing_encoder, k=8)
    assert result.citations
    for cite in [*result.citations, *result.related]:
        doc = shipped_index.documents[cite.doc_id]
        assert doc.text[cite.start:cite.end] == cite.text
        for mark in cite.highlights:
            assert 0 <= mark.start < mark.end <= len(cite.text)


def test_one_unit_appears_once(shipped_index, hashing_encoder) -> None:  # type: ignore[no-untyped-def]
    result = answer("刑法关于操纵证券期货市场罪的规定", index=shipped_index,
                    encoder=hashing_encoder, k=20)
    units = [c.clause_id.split(".part")[0] for c in result.citations]
    assert len(units) == len(set(units))


def test_cross_references_are_resolved_and_offered(shipped_index, hashing_encoder) -> None:  # type: ignore[no-untyped-def]
    result = answer("证券法第一百九十一条", index=shipped_index, encoder=hashing_encoder, k=1)
    assert result.citations[0].related == (f"{SEC}#art53", f"{SEC}#art54")
    assert [c.clause_id for c in result.related] == [f"{SEC}#art53", f"{SEC}#art54"]
    assert all(c.via == "cross_reference" for c in result.related)


CODE_PART = """# 中华人民共和国示范典

# {part}

2020年5月28日 第十三届全国人民代表大会第三次会议通过

<!-- INFO END -->

{body}
"""


def test_references_reach_across_the_parts_a_code_is_published_in(tmp_path: Path) -> None:
    """民法典 is eight files; 民法典第一百四十三条 or 本法第一百四十三条 in 合同编 is in 总则."""
    folder = tmp_path / "laws" / "民法典"
    folder.mkdir(parents=True)
    (folder / "总则.md").write_text(CODE_PART.format(
        part="总则", body="第一百四十三条 具备下列条件的民事法律行为有效。"), encoding="utf-8")
    (folder / "合同编.md").write_text(CODE_PART.format(part="合同编", body=(
        "第五百零二条 依法成立的合同，自成立时生效。效力依照本法第一百四十三条认定。\n\n"
        "第五百零三条 无权代理的合同，依照示范典第一百四十三条处理。")), encoding="utf-8")
    encoder = HashingEncoder(dimension=64)
    index_paths([tmp_path / "laws"], index=tmp_path / "index", encoder=encoder)
    index = open_index(tmp_path / "index", encoder=encoder)
    general = index.row_of["总则#art143"]
    for article in ("合同编#art502", "合同编#art503"):
        assert index.references.rows(index.clauses[index.row_of[article]]) == [general]
    result = answer("示范典第五百零二条", index=index, encoder=encoder, k=1)
    assert result.citations[0].related == ("总则#art143",)


def test_filters_restrict_kinds_and_documents(shipped_index, hashing_encoder) -> None:  # type: ignore[no-untyped-def]
    only_news = answer("打击证券违法活动", index=shipped_index, encoder=hashing_encoder, k=10,
                       filters=Filters(kinds=("news",)))
    assert only_news.citations and {c.kind for c in only_news.citations} == {"news"}
    only_sec = answer("内幕交易", index=shipped_index, encoder=hashing_encoder, k=10,
                      filters=Filters(doc_ids=(SEC,)))
    assert {c.doc_id for c in only_sec.citations} == {SEC}
    dated = answer("证券违法", index=shipped_index, encoder=hashing_encoder, k=10,
                   filters=Filters(date_from="2022-01-01", date_to="2022-12-31"))
    assert dated.citations
    assert all("2022-01-01" <= (c.version or c.date or "") <= "2022-12-31"
               for c in dated.citations)


def test_empty_question_is_an_error(shipped_index, hashing_encoder) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="empty"):
        answer("   ", index=shipped_index, encoder=hashing_encoder)


def test_a_very_long_question_still_answers(shipped_index, hashing_encoder) -> None:  # type: ignore[no-untyped-def]
    question = "内幕交易" * 5000
    result = answer(question, index=shipped_index, encoder=hashing_encoder)
    assert result.question == question  # reported as asked; searched on its first part
    assert result.citations
    assert any("内幕交易" in c.text for c in result.citations[:3])


LAW_V1 = """# 中华人民共和国示范法

2001年1月1日 第九届全国人民代表大会常务委员会通过

<!-- INFO END -->

## 第一章 总则

第一条 为了示范，制定本法。

第二条 违反本法的，处一万元以下罚款。
"""

LAW_V2 = LAW_V1.replace(
    "2001年1月1日 第九届全国人民代表大会常务委员会通过",
    "2001年1月1日 第九届全国人民代表大会常务委员会通过\n\n"
    "2020年6月1日 第十三届全国人民代表大会常务委员会修订",
).replace("处一万元以下罚款", "处十万元以上一百万元以下罚款")


@pytest.fixture()
def versioned_index(tmp_path: Path):  # type: ignore[no-untyped-def]
    folder = tmp_path / "laws" / "经济法"
    folder.mkdir(parents=True)
    (folder / "示范法(2001-01-01).md").write_text(LAW_V1, encoding="utf-8")
    (folder / "示范法(2020-06-01).md").write_text(LAW_V2, encoding="utf-8")
    encoder = HashingEncoder(dimension=64)
    index_paths([tmp_path / "laws"], index=tmp_path / "index", encoder=encoder)
    return open_index(tmp_path / "index", encoder=encoder), encoder


def test_an_interpretation_cited_with_the_short_law_name_inside_is_found(tmp_path: Path) -> None:
    """People cite 《最高人民法院关于适用〈民事诉讼法〉的解释》; its title spells the law out."""
    law = LAW_V1  # titled 中华人民共和国示范法
    interpretation = LAW_V1.replace("# 中华人民共和国示范法",
                                    "# 最高人民法院关于适用中华人民共和国示范法的解释")
    interpretation = interpretation.replace("为了示范，制定本法。",
                                            "为正确适用示范法，制定本解释。")
    (tmp_path / "laws" / "司法解释").mkdir(parents=True)
    (tmp_path / "laws" / "示范法.md").write_text(law, encoding="utf-8")
    (tmp_path / "laws" / "司法解释" / "解释.md").write_text(interpretation, encoding="utf-8")
    encoder = HashingEncoder(dimension=64)
    index_paths([tmp_path / "laws"], index=tmp_path / "index", encoder=encoder)
    index = open_index(tmp_path / "index", encoder=encoder)
    titled = "最高人民法院关于适用中华人民共和国示范法的解释"
    for question, title in [
        ("《最高人民法院关于适用〈示范法〉的解释》第一条", titled),
        ("最高人民法院关于适用《示范法》的解释第一条", titled),
        ("《示范法》第一条", "中华人民共和国示范法"),
    ]:
        first = answer(question, index=index, encoder=encoder, k=3).citations[0]
        assert (first.document, first.label, first.via) == (title, "第一条", "lookup"), question


def test_the_version_in_force_is_preferred_and_others_labelled(versioned_index) -> None:  # type: ignore[no-untyped-def]
    index, encoder = versioned_index
    result = answer("示范法第二条", index=index, encoder=encoder, k=5)
    first = result.citations[0]
    assert first.version == "2020-06-01" and "十万元以上" in first.text
    assert first.citation == "《中华人民共和国示范法》（2020年修订）第二条"
    # the 2001 article is the same article (aligned by text): it is not cited again but
    # shown beside the one in force, with the change marked
    assert not [c for c in result.citations if c.version == "2001-01-01"]
    (compared,) = first.versions
    assert (compared.relation, compared.older.version, compared.older.label) == (
        "changed", "2001-01-01", "第二条")
    assert compared.older.status == "superseded" and compared.newer.clause_id == first.clause_id
    deleted = [compared.older.text[m.start:m.end] for m in compared.older.marks]
    inserted = [compared.newer.text[m.start:m.end] for m in compared.newer.marks]
    assert (deleted, inserted) == (["一万元"], ["十万元以上一百万元"])
    doc = index.documents[compared.older.doc_id]
    assert doc.text[compared.older.start:compared.older.end] == compared.older.text


def test_as_of_date_answers_with_the_version_then_in_force(versioned_index) -> None:  # type: ignore[no-untyped-def]
    index, encoder = versioned_index
    result = answer("示范法第二条", index=index, encoder=encoder, k=5,
                    filters=Filters(as_of="2010-01-01"))
    first = result.citations[0]
    assert first.version == "2001-01-01" and "一万元以下" in first.text


def _restated_index(tmp_path: Path) -> tuple[Index, HashingEncoder]:
    """The opinion and a news post restating its clause on 中概股, indexed."""
    from .conftest import CORPUS

    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(CORPUS / "seeds" / "001_fac9b76a4238144e.txt", folder)
    shutil.copy(CORPUS / "seeds" / "001_fac9b76a4238144e.txt.meta.yaml", folder)
    (folder / "restated.md").write_text(
        "---\ntitle: 意见全文解读\ndate: 2021-07-08\nkind: news\n---\n"
        "报道称，意见要求加强中概股监管。切实采取措施做好中概股公司风险及突发情况应对，"
        "推进相关监管制度体系建设。\n", encoding="utf-8")
    encoder = HashingEncoder(dimension=64)
    index_paths([folder], index=tmp_path / "index", encoder=encoder)
    return open_index(tmp_path / "index", encoder=encoder), encoder


def test_near_duplicates_fold_under_the_authoritative_source(tmp_path: Path) -> None:
    index, encoder = _restated_index(tmp_path)
    result = answer("加强中概股监管 中概股公司风险及突发情况应对", index=index,
                    encoder=encoder, k=5)
    kinds = [c.kind for c in result.citations]
    assert "news" not in kinds[:1]
    top = result.citations[0]
    assert top.clause_id == f"{OPINION}#sec5.c20"
    assert any(f.startswith("restated") for f in top.folded)


def test_folding_keeps_the_search_order_where_it_is_not_by_score(tmp_path: Path) -> None:
    """A search order that is not by score (a clause confirmed for the question first, the
    reranker's kept top three) survives folding; the source takes its restatement's place."""
    from dataclasses import replace

    from rag.answer.fold import fold_duplicates

    index, encoder = _restated_index(tmp_path)
    hits = retrieve("加强中概股监管 中概股公司风险及突发情况应对", index=index, encoder=encoder,
                    k=8)
    news = next(h for h in hits if h.clause.doc_id == "restated")
    source = next(h for h in hits if h.clause.unit_id == f"{OPINION}#sec5.c20")
    others = [h for h in hits if h not in (news, source)][:3]
    first = replace(others[0], score=-5.0, via="memory")  # lowest score, first place
    order = [first, news, others[1], others[2], source]
    kept, folded = fold_duplicates(index, order)
    assert folded == {source.clause.unit_id: [news.clause.id]}
    assert [h.clause.id for h in kept] == [
        first.clause.id, source.clause.id, others[1].clause.id, others[2].clause.id]
    assert kept[1].score == max(news.score, source.score) and kept[0].score == -5.0


# ---------------------------------------------------------------- real model

# 刑法第一百九十一条 never says 洗钱 (the word is only in the section's name), so only the
# dense channel can find it, and e5-small ranks 帮助犯罪分子逃避处罚 / 反洗钱法 penalties
# first. The trained adapter finds it for the Chinese question; English questions are
# searched without it. Strict xfail: the test starts failing the day retrieval gets it right.

CHINESE = [
    ("利用内幕消息炒股会被罚多少钱？", {f"{SEC}#art191"}),
    ("操纵股价构成犯罪吗，最多判几年？", {f"{CRIM}#art182"}),
    ("意见里对中概股监管是怎么要求的？", {f"{OPINION}#sec5.c20"}),
    ("哪些人算是证券交易内幕信息的知情人？", {f"{SEC}#art51"}),
    ("什么行为属于非法集资？", {"防范和处置非法集资条例-2021-01-26#art2"}),
    # administrative (证券法) and criminal (刑法) liability both govern this one
    ("在网上编造传播虚假信息影响股价会受到什么处罚？", {f"{SEC}#art193", f"{CRIM}#art181"}),
    # found since the trained query adapter (issue 10); a known miss before it
    ("帮别人把犯罪所得洗白会判什么刑？", {f"{CRIM}#art191", f"{CRIM}#art312"}),
    ("承诺金的数额是怎么确定的？",
     {"证券期货行政执法当事人承诺制度实施办法-2021-10-26#art14"}),
    ("证券公司可以经营哪些业务？", {f"{SEC}#art120"}),
    ("上市公司信息披露造假，投资者能要求谁赔偿？", {f"{SEC}#art85"}),
]
ENGLISH = [
    ("What is the penalty for insider trading?", {f"{SEC}#art191"}),
    ("Is manipulating the securities market a crime?", {f"{CRIM}#art182"}),
    ("Who counts as an insider with access to inside information on securities trading?",
     {f"{SEC}#art51"}),
    ("What counts as illegal fund-raising?", {"防范和处置非法集资条例-2021-01-26#art2"}),
    ("How are whistleblowers rewarded?", {f"{SEC}#art176"}),
    ("What must a listed company disclose when a major event occurs?", {f"{SEC}#art80"}),
    # the base e5-small missed 刑法191 here (README "Known misses"); the fine-tuned default
    # finds it
    ("Is money laundering a crime under the Criminal Law, and what sentence can it carry?",
     {f"{CRIM}#art191", f"{CRIM}#art312"}),
]
OUT_OF_SCOPE = [
    "明天北京天气怎么样？",
    "红烧肉怎么做才好吃？",
    "How do I reverse a linked list in Python?",
    "Who won the 2022 FIFA World Cup?",
    "周末推荐几部好看的科幻电影",
]


@pytest.mark.integration
@pytest.mark.parametrize(("question", "expected"), [*CHINESE, *ENGLISH])
def test_governing_clause_in_top_three(real_index, real_encoder, question, expected) -> None:  # type: ignore[no-untyped-def]
    result = answer(question, index=real_index, encoder=real_encoder, k=3)
    assert result.answered, (question, result.confidence)
    assert expected & {c.clause_id.split(".part")[0] for c in result.citations}, ids(result)


@pytest.mark.integration
def test_a_clause_cited_only_by_a_weak_hit_stays_weak(real_index, real_encoder) -> None:  # type: ignore[no-untyped-def]
    # 刑法第二百四十八条 (监管人员殴打被监管人) matches 监管 weakly and cites 故意伤害 and
    # 故意杀人; those must not be offered as governing China-concept-stock supervision
    result = answer("中概股怎么监管", index=real_index, encoder=real_encoder, k=5)
    assert result.citations[0].clause_id == f"{OPINION}#sec5.c20"
    assert not {f"{CRIM}#art232", f"{CRIM}#art234"} & set(ids(result))


@pytest.mark.integration
@pytest.mark.parametrize("question", OUT_OF_SCOPE)
def test_out_of_scope_questions_are_refused(real_index, real_encoder, question) -> None:  # type: ignore[no-untyped-def]
    result = answer(question, index=real_index, encoder=real_encoder, k=3)
    assert not result.answered, (question, result.confidence, ids(result))
    assert result.citations and all(c.low_confidence for c in result.citations)
    assert "No clause in the corpus answers" in result.message


@pytest.mark.integration
def test_english_question_finds_the_chinese_clause_first(real_index, real_encoder) -> None:  # type: ignore[no-untyped-def]
    result = answer("What is the penalty for market manipulation under the Securities Law?",
                    index=real_index, encoder=real_encoder, k=3)
    assert f"{SEC}#art192" in ids(result)


def test_a_repealed_law_without_successor_is_labelled_and_not_preferred() -> None:
    from rag.core.documents import Document
    from rag.core.versions import version_table

    old = Document(doc_id="合同法", title="中华人民共和国合同法", text="第一条 x", kind="law",
                   source_path="合同法.md", version="1999-03-15", status="repealed")
    live = Document(doc_id="民法典", title="中华人民共和国民法典", text="第一条 x", kind="law",
                    source_path="民法典.md", version="2020-05-28", status="in_force")
    table = version_table([old, live])
    assert not table["合同法"].preferred and table["合同法"].note == "已废止"
    assert table["民法典"].preferred and table["民法典"].note is None



def test_references_inside_an_article_are_resolved(shipped_index, hashing_encoder) -> None:  # type: ignore[no-untyped-def]
    result = answer("刑法第一百八十条", index=shipped_index, encoder=hashing_encoder, k=1)
    quote = result.citations[0]
    doc_text = shipped_index.documents[quote.doc_id].text
    refs = {(r.phrase, r.label) for r in quote.inner}
    # 单位犯前款罪的… / …依照第一款的规定处罚: both name the first 款
    assert refs == {("前款", "第一款"), ("第一款", "第一款")}
    for ref in quote.inner:
        assert quote.text[ref.start:ref.end] == ref.phrase
        assert doc_text[ref.target_start:ref.target_end] == ref.text
        assert ref.text.startswith("证券、期货交易内幕信息的知情人员")


def test_two_preceding_paragraphs_and_no_guessing(tmp_path: Path) -> None:
    body = ("第一条 甲应当登记。\n\n乙应当备案。\n\n违反前两款规定的，处罚款；"
            "依照本条第二款备案的除外。第九款另有规定的，从其规定。\n")
    (tmp_path / "laws").mkdir()
    (tmp_path / "laws" / "示范法.md").write_text(
        LAW_V1.split("## 第一章")[0] + body, encoding="utf-8")
    encoder = HashingEncoder(dimension=64)
    index_paths([tmp_path / "laws"], index=tmp_path / "index", encoder=encoder)
    index = open_index(tmp_path / "index", encoder=encoder)
    quote = answer("示范法第一条", index=index, encoder=encoder, k=1).citations[0]
    assert [(r.phrase, r.label, r.text) for r in quote.inner] == [
        ("前两款", "第一款", "甲应当登记。"),  # a 款 span starts after the article label
        ("前两款", "第二款", "乙应当备案。"),
        ("本条第二款", "第二款", "乙应当备案。"),
    ]  # 第九款 names a 款 the article does not have: left out, not guessed


def test_a_later_part_of_a_long_article_finds_the_paragraph_before_it(tmp_path: Path) -> None:
    first = "第一条 " + "经营者应当履行信息披露义务并保证所披露信息真实准确完整。" * 20
    second = "违反前款规定的，" + "由监督管理机构责令改正并处以罚款。" * 20
    (tmp_path / "laws").mkdir()
    (tmp_path / "laws" / "示范法.md").write_text(
        LAW_V1.split("## 第一章")[0] + f"{first}\n\n{second}\n", encoding="utf-8")
    encoder = HashingEncoder(dimension=64)
    index_paths([tmp_path / "laws"], index=tmp_path / "index", encoder=encoder)
    index = open_index(tmp_path / "index", encoder=encoder)
    parts = answer("示范法第一条", index=index, encoder=encoder, k=5).citations
    later = next(p for p in parts if p.text.startswith("违反前款"))
    assert later.clause_id.endswith(".part2")
    (ref,) = later.inner
    assert (ref.phrase, ref.label, ref.text) == ("前款", "第一款", first.removeprefix("第一条 "))
    assert not later.start <= ref.target_start < later.end  # not in this quote: shown


def test_many_questions_at_once_give_the_answers_one_at_a_time_gives(
    shipped_index, hashing_encoder  # type: ignore[no-untyped-def]
) -> None:
    from rag.answer import answer_many

    questions = ["内幕交易的法律责任", "   ", "《证券法》第一百九十一条", "操纵市场",
                 "What is the penalty for market manipulation?", "火星上的咖啡"] * 7
    many = list(answer_many(questions, index=shipped_index, encoder=hashing_encoder, k=4))
    assert len(many) == len(questions)
    for question, got in zip(questions, many, strict=True):
        if not question.strip():
            assert isinstance(got, ValueError) and "empty" in str(got)
            continue
        one = answer(question, index=shipped_index, encoder=hashing_encoder, k=4)
        assert not isinstance(got, ValueError) and got == one
    with pytest.raises(ValueError, match="k must be between 1 and 100"):
        next(answer_many(questions, index=shipped_index, encoder=hashing_encoder, k=0))


@pytest.mark.integration
def test_a_lay_question_the_old_stack_missed_is_found_by_the_trained_one(real_index,  # type: ignore[no-untyped-def]
                                                                        real_encoder) -> None:
    """"洗白" is a lay word: the statutes say 掩饰、隐瞒…犯罪所得 / 洗钱. The base model's stack
    before the trained adapter (issue 10) found neither governing article in the top three;
    the fine-tuned model finds one with or without its adapter (both trained on STARD's
    training questions only)."""
    question = "帮别人把犯罪所得洗白会判什么刑？"
    governing = {f"{CRIM}#art191", f"{CRIM}#art312"}
    assert real_index.learned is not None and real_index.learned.adapter is not None

    def top_three(fusion: Fusion) -> set[str]:
        result = answer(question, index=real_index, encoder=real_encoder, k=3, fusion=fusion)
        return {c.clause_id.split(".part")[0] for c in result.citations}

    assert governing & top_three(Fusion(use_adapter=False))
    assert governing & top_three(Fusion())
