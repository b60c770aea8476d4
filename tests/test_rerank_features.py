"""The reranker's liability and implied-law features: exact values on small inputs."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from rag.learned import Learned
from rag.learned.artifacts import LearnedError
from rag.search import Index, prepare
from rag.search.liability import (
    admin_sanction,
    asks_crime,
    asks_fine,
    criminal_law,
    criminal_sanction,
    implied_families,
    implied_law,
    liability_match,
)
from rag.search.query import Hit
from rag.search.rerank import FEATURES, TOP, check_features, enforces_top, features, rerank

SEC = "证券法-2019-12-28"


def test_implied_families_from_lay_and_english_words() -> None:
    assert implied_families("利用内幕消息炒股会被罚多少钱？") == ("证券",)
    assert implied_families("What is the penalty for insider trading?") == ("证券",)
    assert implied_families("私募基金管理人跑路了怎么办") == ("基金",)
    assert implied_families("公司拖欠工资怎么办") == ("劳动",)
    assert implied_families("期货公司挪用保证金") == ("期货",)
    assert implied_families("离婚后孩子归谁") == ()
    assert implied_families("") == ()


def test_implied_law_against_the_candidate_title() -> None:
    securities = ("证券",)
    assert implied_law(securities, "中华人民共和国证券法") == 1.0
    assert implied_law(securities, "证券公司监督管理条例") == 1.0
    assert implied_law(securities, "中华人民共和国刑法") == 0.0
    assert implied_law(("期货", "证券"), "中华人民共和国期货和衍生品法") == 1.0
    assert math.isnan(implied_law((), "中华人民共和国证券法"))


def test_what_the_question_asks_about_liability() -> None:
    assert asks_fine("利用内幕消息炒股会被罚多少钱？")
    assert not asks_crime("利用内幕消息炒股会被罚多少钱？")
    assert asks_crime("操纵股价构成犯罪吗，最多判几年？")
    assert not asks_fine("操纵股价构成犯罪吗，最多判几年？")
    assert asks_crime("挪用公款会坐牢吗") and asks_crime("要负刑事责任吗")
    assert asks_crime("Is manipulating the securities market a crime?")
    assert asks_fine("What is the penalty for insider trading?")
    assert not asks_fine("哪些人算是证券交易内幕信息的知情人？")
    assert not asks_crime("哪些人算是证券交易内幕信息的知情人？")
    assert not asks_fine("How does the law define an insider?")  # "define" is no fine


def test_what_a_clause_sanctions_and_whose_law_it_is() -> None:
    criminal = "情节严重的，处五年以下有期徒刑或者拘役，并处或者单处违法所得一倍以上五倍以下罚金"
    administrative = "责令依法处理非法持有的证券，没收违法所得，并处以违法所得一倍以上十倍以下罚款"
    duty = "禁止证券交易内幕信息的知情人利用内幕信息从事证券交易活动。"
    assert criminal_sanction(criminal) and not admin_sanction(criminal)
    assert admin_sanction(administrative) and not criminal_sanction(administrative)
    assert not criminal_sanction(duty) and not admin_sanction(duty)
    assert criminal_law("中华人民共和国刑法")
    assert criminal_law("中华人民共和国刑法修正案（七）")
    assert criminal_law("最高人民法院、最高人民检察院关于办理内幕交易、泄露内幕信息刑事案件"
                        "具体应用法律若干问题的解释")
    assert not criminal_law("中华人民共和国证券法")
    assert not criminal_law("中华人民共和国刑事诉讼法")  # procedure states no liability


def test_liability_match_crosses_the_question_with_the_clause() -> None:
    for crime, fine, criminal, administrative, expected in [
        (False, True, False, True, 1.0),    # a fine asked, an administrative penalty
        (False, True, True, False, -1.0),   # a fine asked, a criminal clause
        (False, True, True, True, -1.0),    # a criminal clause with 罚金 and 罚款 words
        (False, True, False, False, 0.0),   # a fine asked, a duty clause
        (True, False, True, False, 1.0),    # a crime asked, a criminal clause
        (True, True, False, True, -1.0),    # a crime asked, an administrative one
        (True, False, False, False, 0.0),
    ]:
        assert liability_match(crime=crime, fine=fine, criminal=criminal,
                               administrative=administrative) == expected
    assert math.isnan(liability_match(crime=False, fine=False, criminal=True,
                                      administrative=True))


def _hit(index: Index, clause_id: str, score: float) -> Hit:
    clause = index.clauses[index.row_of[clause_id]]
    return Hit(clause=clause, score=score, scores={"fused": score}, parts=(clause,))


def test_enforces_top_marks_the_penalty_of_a_duty_that_ranks_high(shipped_index: Index) -> None:
    duty, penalty, other = f"{SEC}#art53", f"{SEC}#art191", f"{SEC}#art51"
    hits = [_hit(shipped_index, duty, 1.0), _hit(shipped_index, other, 0.9),
            _hit(shipped_index, penalty, 0.8)]
    # 第一百九十一条: 违反本法第五十三条的规定从事内幕交易的…罚款; 第五十三条 is first
    assert enforces_top(hits, index=shipped_index, sanctions=[False, False, True]) \
        == [0.0, 0.0, 1.0]
    # not a sanction clause: nothing, whatever it cites
    assert enforces_top(hits, index=shipped_index, sanctions=[False, False, False]) \
        == [0.0, 0.0, 0.0]
    # the duty second: 1/(1 + 1)
    swapped = [hits[1], hits[0], hits[2]]
    assert enforces_top(swapped, index=shipped_index, sanctions=[False, False, True]) \
        == [0.0, 0.0, 0.5]
    # the duty below the top TOP units: not "ranking high"
    filler = [_hit(shipped_index, f"{SEC}#art{n}", 0.5) for n in range(1, TOP + 1)]
    low = [*filler, hits[0], hits[2]]
    assert enforces_top(low, index=shipped_index, sanctions=[False] * TOP + [False, True])[-1] \
        == 0.0


def test_features_of_the_insider_fine_question(shipped_index: Index) -> None:
    query = prepare("利用内幕消息炒股会被罚多少钱？", index=shipped_index)
    hits = [_hit(shipped_index, f"{SEC}#art53", 1.0), _hit(shipped_index, "刑法#art180", 0.9),
            _hit(shipped_index, f"{SEC}#art191", 0.8)]
    rows = features(query, hits, index=shipped_index)
    assert rows.shape == (3, len(FEATURES))
    names = ("implied_law", "criminal_law", "criminal_sanction", "admin_sanction",
             "asks_crime", "asks_fine", "liability_match", "enforces_top")
    got = rows[:, [FEATURES.index(n) for n in names]]
    np.testing.assert_array_equal(got, [
        [1, 0, 0, 0, 0, 1, 0, 0],   # 证券法第五十三条: the duty
        [0, 1, 1, 0, 0, 1, -1, 0],  # 刑法第一百八十条: criminal, not what is asked
        [1, 0, 0, 1, 0, 1, 1, 1],   # 证券法第一百九十一条: the fine, enforcing the top duty
    ])


def test_a_reranker_trained_on_other_features_is_refused(shipped_index: Index) -> None:
    query = prepare("内幕交易", index=shipped_index)
    hits = [_hit(shipped_index, f"{SEC}#art53", 1.0)]
    old = Learned("x", reranker_model="tree", features=FEATURES[:-1])
    with pytest.raises(LearnedError, match=r"trained with 37 features.*missing from it: "
                       r"\['enforces_top'\].*train_retrieval\.py"):
        rerank(query, hits, index=shipped_index, learned=old, k=1)
    with pytest.raises(LearnedError, match="their order differs"):
        check_features(replace(old, features=tuple(reversed(FEATURES))))
    check_features(replace(old, features=FEATURES))  # the same list, in order: accepted
