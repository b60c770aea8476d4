"""Round 11: crimes for duties a penalty names only by number, and acts a crime words otherwise.

Real articles of the shipped 证券法 (2019), 证券投资基金法, 期货和衍生品法 and 刑法, linked
together, with exact expected links and the near misses that must not link
(rag/links/direct.py: by_reference, objects, done_through, DEFINITION, wrongs_of).
"""

from __future__ import annotations

from rag.links.direct import DEFINITION, by_reference, done_through, objects, wrongs_of
from rag.links.terms import terms

from .test_links_institutions import CO, FUND, FUT, SEC, crimes, table


def cited(doc_id: str, article: int) -> dict[str, bool]:
    """The explicit links of a duty article: penalty article → whether by reference."""
    return {k.target.split("#")[1]: by_reference(k, table().documents)
            for k in table().penalties(f"{doc_id}#art{article}") if k.kind == "explicit"}


# ------------------------------------------- a penalty saying only who, and the article

def test_a_penalty_naming_only_its_doer_and_the_article_cites_the_acts() -> None:
    # 证券投资基金法第一百二十四条 基金管理人的股东、实际控制人违反本法第二十三条规定的: no
    # act of its own, so 第二十三条's acts ((一) 虚假出资或者抽逃出资) are compared with the
    # crimes themselves: 刑法第一百五十九条 (虚假出资、抽逃出资罪)
    assert cited(FUND, 23) == {"art124": True}
    assert crimes(FUND, 23) == {"art159": ("出资", "虚假")}
    # 第一百二十九条 有本法第七十三条第一款第一项至第五项和第七项所列行为之一 (too long for
    # the 所列行为 form before) and 第一百三十条 (…第六项规定行为的): (六) 从事内幕交易、操纵
    # 证券交易价格 → 刑法第一百八十条 and 第一百八十二条
    assert cited(FUND, 73) == {"art129": True, "art130": True}
    assert crimes(FUND, 73) == {"art180": ("交易", "内幕"),
                                "art182": ("交易", "价格", "操纵", "证券交易")}


def test_a_penalty_naming_its_act_beside_the_article_is_not_by_reference() -> None:
    # near misses: 证券公司承销证券违反本法第二十九条规定的 (承销 is its act); 违反本法第四十二条
    # 的规定买卖证券的 (买卖)
    assert cited(SEC, 29) == {"art184": False}
    assert cited(SEC, 42) == {"art188": False}


def test_a_duty_enforced_by_reference_is_not_compared_by_the_duty_it_names() -> None:
    # near miss: 第七十三条第二款 …并履行信息披露义务 names a duty whose holder's crime is
    # 刑法第一百六十一条, but 第一百二十九条 enforces it (违反本法第七十三条第二款规定的): a duty
    # is matched by name only when nothing administrative enforces it
    assert "art161" not in crimes(FUND, 73)


# ------------------------------------------- what an act is done to, and through

def test_a_verbal_noun_after_another_word_is_what_the_act_is_done_to() -> None:
    assert objects("抽逃出资") == frozenset({"出资"})
    assert objects("虚假出资") == frozenset({"出资"})
    # near misses: a last word that is a verb names no object; nor a verbal noun alone
    assert objects("非法买卖") == frozenset()
    assert objects("出资") == frozenset()


def test_an_act_done_through_a_light_verb_is_its_objects() -> None:
    assert done_through("从事内幕交易", terms("从事内幕交易")) == frozenset({"交易"})
    # near miss: an act with a verb of its own is not read through its object
    assert done_through("买卖证券", terms("买卖证券")) == frozenset()


def test_a_definition_forbids_no_act_a_crime_could_be() -> None:
    # 期货和衍生品法第一百五十条 前款所称期货市场禁入，是指…不得进行期货交易… defines a ban:
    # its 不得 forbids nothing, so no crime (it got 刑法第二百二十五条, and 第一百八十条 through
    # 进行期货交易 once an act done through a light verb was read)
    assert DEFINITION.match("前款所称期货市场禁入，是指在一定期限内直至终身不得进行期货交易")
    assert crimes(FUT, 150) == {}
    assert crimes(SEC, 221) == {}  # 前款所称证券市场禁入，是指…不得从事证券业务
    # near miss: a prohibition that defines nothing is compared (第七十三条 (六) above), and
    # a sentence naming 所称 later is no definition
    assert not DEFINITION.match("禁止证券公司及其从业人员从事下列损害客户利益的行为")
    assert not DEFINITION.match("证券公司不得从事本法所称的违法行为")


# ------------------------------------------- a wrong named as a duty's condition

def test_a_wrong_a_duty_names_as_its_condition_is_compared_with_the_crimes() -> None:
    # 证券法第一百四十一条 证券公司的股东有虚假出资、抽逃出资行为的，国务院证券监督管理机构应当
    # 责令其限期改正: the regulator's duty (enforced by 第二百一十六条), the shareholders' wrong:
    # 刑法第一百五十九条 (公司发起人、股东…虚假出资…抽逃其出资), whoever enforces the duty;
    # 期货和衍生品法第七十五条 says the same of a futures firm's shareholders
    (order, _) = table().duties_of(f"{SEC}#art141")
    assert [(w.actors, act) for w, act in wrongs_of(order, named_only=True)] == [
        (("证券公司", "股东"), "虚假出资"), (("证券公司", "股东"), "抽逃出资")]
    assert crimes(SEC, 141) == {"art159": ("出资", "虚假")}
    assert crimes(FUT, 75) == {"art159": ("出资", "虚假")}


def test_a_condition_that_names_no_wrong_done_is_not_compared() -> None:
    # near misses: 第一百四十条 (治理结构…不符合规定的，…应当责令其限期改正; its measures
    # 限制转让财产… are the regulator's) and 第一百四十二条 (…致使证券公司存在重大违法违规行为的)
    # name no wrong someone 有…行为; 证券投资基金法第二十三条第二款 (…有前款行为…) names one only
    # by reference, so 第二十三条 keeps its one crime from (一)
    assert crimes(SEC, 140) == {}
    assert crimes(SEC, 142) == {}
    assert crimes(FUND, 23) == {"art159": ("出资", "虚假")}


# ------------------------------------------- a duty to disclose, by its act

def test_a_duty_to_disclose_information_is_the_disclosure_duty_by_name() -> None:
    # 公司法第一百六十六条 上市公司应当依照法律、行政法规的规定披露相关信息 (no penalty in 公司法)
    # is the 信息披露义务 刑法第一百六十一条's doer holds (依法负有信息披露义务的公司、企业)
    assert crimes(CO, 166) == {"art161": ("义务", "披露")}
    # near miss: 证券法第八十七条 证券交易场所应当…督促其依法及时、准确地披露信息: the exchange
    # supervises, it is no 公司、企业 holding the duty
    assert "art161" not in crimes(SEC, 87)
