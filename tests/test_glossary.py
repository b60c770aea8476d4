"""The English glossary: which terms expand to which statutory Chinese, and where it must not.

Also the English question set's integrity (every gold clause exists in the shipped
corpus) and the fusion weights a question written without Chinese gets.
"""

from __future__ import annotations

import json

import pytest

from rag.core.titles import title_aliases
from rag.search import Fusion, Index, find_named, prepare, resolve
from rag.search.glossary import (
    ENGLISH_TITLES,
    TERMS,
    chinese_terms,
    expand,
    translated_words,
    written_in_chinese,
)

from .conftest import REPO

QUESTIONS = REPO / "benchmarks" / "data" / "english_questions.jsonl"


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What is the penalty for insider trading?", ["处罚", "罚款", "内幕交易"]),
        # the longest phrase wins: not 洗钱 as well
        ("What does the anti-money laundering law require?", ["反洗钱法"]),
        ("Duties under anti-money laundering rules", ["职责", "义务", "反洗钱"]),
        # plural and verb forms of a term
        ("Who was fined for disclosing false statements?",
         ["罚款", "罚金", "信息披露", "披露", "虚假陈述"]),
        ("How are whistleblowers rewarded?", ["举报人", "举报", "奖励"]),
        # a hyphen and a space are the same; case does not matter
        ("Illegal Fund Raising by organisers", ["非法集资", "发起", "组织"]),
        ("Is the CSRC a regulator?", ["证券监督管理机构", "证监会", "监督管理机构"]),
        # a law's English name expands to the name its Chinese title is known by
        ("Under the Futures and Derivatives Law, what is a derivatives transaction?",
         ["期货和衍生品法", "衍生品交易"]),
    ],
)
def test_english_terms_expand_to_statutory_chinese(question: str, expected: list[str]) -> None:
    assert chinese_terms(question) == expected


@pytest.mark.parametrize(
    "question",
    [
        "The refined proposal was confined to the stockroom",  # fine, stock inside words
        "Bankers' cashiers unbanked",  # bank, cash inside words
        "Is the fundamental issuer-less?",  # fund inside fundamental; issuer- is a word
    ],
)
def test_terms_inside_other_words_do_not_expand(question: str) -> None:
    expected = ["发行人"] if "issuer" in question else []
    assert chinese_terms(question) == expected


def test_chinese_questions_are_left_as_they_are() -> None:
    question = "利用内幕消息炒股会被罚多少钱？"
    assert expand(question) == question
    assert written_in_chinese(question)
    assert not written_in_chinese("What is the penalty for insider trading?")


def test_expansion_appends_each_term_once() -> None:
    question = "Insider trading and insider trading again"
    assert expand(question) == f"{question} 内幕交易"


def test_every_term_maps_to_chinese_once() -> None:
    meanings: dict[str, set[str]] = {}
    for english, chinese in TERMS.items():
        assert english == english.strip() and chinese.split(), english
        assert all(written_in_chinese(term) for term in chinese.split()), english
        meanings.setdefault(" ".join(english.lower().replace("-", " ").split()), set()).add(
            chinese)
    # "fund-raising" and "fund raising" are one entry: they may not mean two things
    assert {key: found for key, found in meanings.items() if len(found) > 1} == {}


def test_english_titles_name_shipped_documents(shipped_index: Index) -> None:
    names = set().union(*(title_aliases(d.title) for d in shipped_index.documents.values()))
    unknown = {en: zh for en, zh in ENGLISH_TITLES.items() if zh not in names}
    assert unknown == {"civil code": "民法典"}  # the one law named that is not shipped


def test_a_clause_named_by_an_english_law_name_is_looked_up(shipped_index: Index) -> None:
    refs = find_named("Article 25 of the Regulations on the Administration of Futures Trading",
                      shipped_index.documents.values())
    found = resolve(refs, shipped_index.by_label)
    assert [c.id for c in found] == ["期货交易管理条例-2017-03-01#art25"]


def test_a_question_without_chinese_weights_bm25_up(shipped_index: Index) -> None:
    assert prepare("Who is prohibited from trading futures?", index=shipped_index).cross_lingual
    assert not prepare("哪些人不得从事期货交易？", index=shipped_index).cross_lingual
    fusion = Fusion()
    assert fusion.cross_lingual().bm25_weight == pytest.approx(2.0 * fusion.bm25_weight)
    assert fusion.cross_lingual().dense_weight == fusion.dense_weight
    assert Fusion(cross_lingual_bm25_factor=1.0).cross_lingual() == Fusion(
        cross_lingual_bm25_factor=1.0, use_adapter=False, use_reranker=False)
    with pytest.raises(ValueError, match="cross_lingual_bm25_factor must be positive"):
        Fusion(cross_lingual_bm25_factor=0.0)


def test_english_question_set_is_well_formed(shipped_index: Index) -> None:
    rows = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 48
    assert len({r["id"] for r in rows}) == len(rows)
    assert sum(bool(r.get("held_out")) for r in rows) >= 10
    units = {c.unit_id for c in shipped_index.clauses}
    for row in rows:
        assert not written_in_chinese(row["question"]), row["id"]
        assert written_in_chinese(row["question_zh"]), row["id"]
        assert 1 <= len(row["gold"]) <= 3, row["id"]
        missing = [g for g in row["gold"] if g not in shipped_index.row_of and g not in units]
        assert not missing, (row["id"], missing)


def test_translated_english_words_are_not_unknown_to_refusal(shipped_index: Index) -> None:
    from rag.search.lexical import UNKNOWN_TERM_WEIGHT, query_terms

    question = "What time does the bank open on Sunday?"
    assert translated_words(question) == {"bank"}
    weights, unknown = query_terms(prepare(question, index=shipped_index), shipped_index)
    assert {"银行", "金融机构"} <= set(weights)  # known through its Chinese terms
    assert unknown == 3 * UNKNOWN_TERM_WEIGHT  # time, open, sunday: nothing translates them
