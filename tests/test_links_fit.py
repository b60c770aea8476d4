"""Whether a crime or a liability fits a duty: its doer, its conduct and what it is done to.

Real articles of the shipped 证券法 (2019), 公司法 (2023) and 刑法, with the exact links
expected and the near misses that must not link (rag/links/criminal.py's elements of a
crime, rag/links/material.py).
"""

from __future__ import annotations

import os
import subprocess
import sys

from rag.chunking import chunk_documents
from rag.links import LinkTable
from rag.links.conditions import DESCRIBED, SETS_LOCKUP, interests, wrong_named
from rag.links.criminal import restated
from rag.links.failures import failure
from rag.links.liability import ON_REQUEST
from rag.links.material import GRAVITY, about_listed_event, listed_events, read_as_crime
from rag.links.penalties import conducts
from rag.links.score import FEATURES, default_model, with_elided_actors
from rag.links.terms import Weights, with_disposals
from rag.readers import read_document

from .conftest import CORPUS, REPO
from .link_laws import CO, SEC, links, table

# --------------------------------------------------------------- what a crime adds to a penalty

def test_a_crime_narrower_than_its_penalty_fits_only_a_duty_naming_what_it_adds() -> None:
    # 刑法第一百六十一条 punishes false or concealed 财务会计报告 and undisclosed 重要信息;
    # 证券法第一百九十七条 any failure to disclose. A duty about periodic financial
    # reports, material events or true disclosure reaches the crime …
    assert ("art161", "criminal") in links(SEC, 79)  # 年度财务会计报告
    assert ("art161", "criminal") in links(SEC, 80)  # 重大事件 (重大 read as 重要)
    assert ("art161", "criminal") in links(SEC, 78)  # 真实…不得有虚假记载
    # … one on where disclosed information is published, or on voluntary disclosure and
    # a commitment, reaches the administrative penalty only
    assert links(SEC, 86) == [("art197", "implicit"), ("art85", "civil")]
    assert ("art197", "implicit") in links(SEC, 84)
    assert ("art161", "criminal") not in links(SEC, 84)


def test_a_crime_adding_no_gravity_to_its_penalty_needs_nothing_more_of_the_duty() -> None:
    # 刑法第一百六十条 adds to 证券法第一百八十一条 only how it words the same fraud
    # (招股说明书、认股书…): the duty to publish the offering documents reaches it
    assert ("art181", "implicit") in links(SEC, 23)
    assert ("art160", "criminal") in links(SEC, 23)
    assert {"重要", "虚假", "隐瞒"} <= GRAVITY


def test_a_crime_saying_no_more_than_its_penalty_needs_nothing_more_of_the_duty() -> None:
    # 第二百五十六条 (隐匿财产…未清偿债务前分配公司财产) says what 刑法第一百六十二条 says
    # (虚伪记载 is its 虚假记载): the duty to pay debts before distributing reaches both
    assert ("art256", "implicit") in links(CO, 236)
    assert ("art162", "criminal") in links(CO, 236)
    assert "虚伪" in read_as_crime(frozenset({"虚假"}))
    assert "重要" in read_as_crime(frozenset({"重大"}))


def test_an_event_the_statute_lists_as_material_is_important_information() -> None:
    doc = next(d for d in table().documents.values() if d.doc_id == SEC)
    events = listed_events(doc)
    assert any({"合并", "分立"} <= item for item in events)
    said = table().duties_of(f"{SEC}#art77")
    assert [about_listed_event(d, events) for d in said] == [True]  # 分立…合并，应当…报告
    assert ("art161", "criminal") in links(SEC, 77)
    # 作出公开承诺的，应当披露: a commitment is no listed event; 依法披露的信息，应当…发布:
    # what is done with the information, not an event
    assert not any(about_listed_event(d, events) for d in table().duties_of(f"{SEC}#art84"))
    assert not any(about_listed_event(d, events) for d in table().duties_of(f"{SEC}#art86"))


# --------------------------------------------------------------- which civil liability

def test_a_duty_stating_its_own_liability_is_not_linked_to_a_general_one_by_words() -> None:
    # 证券法第八十四条 says who pays for a broken commitment (不履行承诺给投资者造成损失的，
    # 应当依法承担赔偿责任): 第八十五条 (damages for failed disclosure) is not linked to it;
    # 第八十六条, which states no liability, keeps it
    assert ("art85", "civil") not in links(SEC, 84)
    assert ("art85", "civil") in links(SEC, 86)
    assert ("art85", "civil") in links(SEC, 83)


def test_a_duty_owed_on_request_is_not_the_conduct_of_the_office() -> None:
    # 公司法第一百八十八条: officers pay the company's loss from breaching the law in office.
    # 第一百八十七条 (股东会要求…列席会议的，…应当列席并接受股东的质询) is owed to the
    # meeting that asks; 第一百七十九条 (应当遵守法律) and 第一百八十三条 are the office's
    assert links(CO, 187) == []
    assert ("art188", "civil") in links(CO, 179)
    assert ("art188", "civil") in links(CO, 183)
    assert ON_REQUEST.search("股东会要求董事、监事、高级管理人员列席会议的，")
    assert not ON_REQUEST.search("董事、监事、高级管理人员")


# --------------------------------------------------------------- the wrong a duty names

def test_a_duty_conditioned_on_a_wrong_is_enforced_by_the_penalty_for_that_wrong() -> None:
    # 公司法第三十九条 "虚报注册资本、提交虚假材料或者采取其他欺诈手段隐瞒重要事实取得公司设立
    # 登记的，公司登记机关应当…予以撤销" names the wrong 第二百五十条 fines, and 刑法第一百五十八
    # 条 (虚报注册资本罪) punishes: both, though its sentence binds the registrar
    said = table().duties_of(f"{CO}#art39")
    assert {"虚报", "注册资本", "欺诈", "取得", "登记"} <= wrong_named(said[0])
    assert ("art250", "implicit") in links(CO, 39)
    assert ("art158", "criminal") in links(CO, 39)
    # near misses: a condition that is no wrong a penalty names (申请材料不齐全…的，公司登记
    # 机关应当一次性告知), and a sentence without a condition
    assert not wrong_named(table().duties_of(f"{CO}#art30")[0])  # 申请设立公司，应当提交…
    assert ("art250", "implicit") not in links(CO, 31)  # 不符合…设立条件的，不得登记


def test_a_fine_restating_a_conduct_is_read_as_the_conduct_it_restates() -> None:
    # 第二百五十条 "…虚报注册资本、提交虚假材料…取得公司登记的，…；对提交虚假材料或者采取其他
    # 欺诈手段隐瞒重要事实的公司，处以…": 第三十条 (提交的相关材料应当真实) is linked through the
    # second, which says who is fined; the crime is compared with the whole wrong
    penalty = next(c for c in table().clauses if c.unit_id == f"{CO}#art250")
    second = next(c for c in conducts(penalty) if c.text.startswith("对提交"))
    docs = table().documents
    assert restated(penalty, (second.start, second.end), second.paragraph, docs).startswith(
        "违反本法规定，虚报注册资本")
    first = next(iter(conducts(penalty)))
    assert restated(penalty, (first.start, first.end), first.paragraph, docs) == first.text
    # the rule links 第三十条 to it, and the crime through it; so does the model refit in
    # round 10 (round 8's scored the pair under its threshold, 0.74 < 0.84), by a match
    # the rule makes too
    ruled = LinkTable(list(docs.values()), table().clauses, scorer="rules")
    for linker in (ruled, table()):
        found = [(k.target.split("#")[1], k.kind) for k in linker.penalties(f"{CO}#art30")]
        assert ("art250", "implicit") in found and ("art158", "criminal") in found
    pair = next(c for c in table().candidates_of(CO)
                if (c.source, c.target) == (f"{CO}#art30", f"{CO}#art250"))
    best = pair.best(default_model())
    assert "提交虚假材料" in best.conduct.text and best.features[FEATURES.index("rule")]


# --------------------------------------------------------------- the act, and who does it

def test_moving_assets_abroad_before_paying_debts_is_disposing_of_them() -> None:
    # 公司法第二百四十九条 "未清偿债务之前，不得将其分支机构的财产转移至…境外" is enforced by
    # 第二百五十六条 ("在未清偿债务前分配公司财产的") and 刑法第一百六十二条 (妨害清算罪), as
    # 第二百三十六条 (不得分配给股东) is
    assert with_disposals(frozenset({"转移", "财产"})) >= {"分配", "转让", "处分"}
    assert with_disposals(frozenset({"保存", "财产"})) == {"保存", "财产"}
    assert ("art256", "implicit") in links(CO, 249)
    assert ("art162", "criminal") in links(CO, 249)
    # near miss: the branch's duty to obey Chinese law (第二百四十八条) is no disposal
    assert ("art256", "implicit") not in links(CO, 248)


def test_a_sentence_without_its_subject_is_bound_as_the_one_before() -> None:
    said = table().duties_of(f"{CO}#art249")
    assert [d.actors for d in said] == [("公司",), ()]  # as written (the register shows it)
    assert [d.actors for d in with_elided_actors(said)] == [("公司",), ("公司",)]
    # a sentence with a subject of its own, though no actor it knows, keeps none
    futures = read_document(CORPUS / "lawrefbook" / "行政法规" / "期货交易管理条例(2017-03-01).md")
    rules = LinkTable([futures], chunk_documents([futures]))
    margin = rules.duties_of(f"{futures.doc_id}#art28")
    assert margin[2].text.startswith("期货交易所向会员收取的保证金") and not margin[2].actors
    assert not with_elided_actors(margin)[2].actors


def test_an_authority_punishing_under_other_articles_is_no_conduct() -> None:
    # 反洗钱法 (2024) 第五十六条 "国务院反洗钱行政主管部门…依照本法第五十二条至第五十四条规定
    # 对金融机构进行处罚的，还可以…": no conduct is read before 处罚, so no duty naming the
    # authority (第二十二条 应当经国务院反洗钱行政主管部门…批准) is linked to it
    law = read_document(CORPUS / "lawrefbook" / "经济法" / "反洗钱法(2024-11-08).md")
    clauses = chunk_documents([law])
    fines = next(c for c in clauses if c.unit_id == f"{law.doc_id}#art56")
    assert not any(c.text.endswith("派出机构") for c in conducts(fines))
    assert not [c for c in conducts(fines) if c.text.startswith("国务院反洗钱")]
    made = LinkTable([law], clauses).penalties(f"{law.doc_id}#art22")
    assert f"{law.doc_id}#art56" not in [k.target for k in made]


def test_forbidding_harm_to_an_interest_is_enforced_by_the_penalty_for_harming_it() -> None:
    # 公司法第二百四十八条 "…不得损害中国的社会公共利益" → 第二百六十二条 "利用公司名义从事危害
    # 国家安全、社会公共利益的严重违法行为的，吊销营业执照"
    assert interests("中国的社会公共") == {"社会公共"}
    assert interests("国家安全、社会公共") == {"国家安全", "社会公共"}
    assert ("art262", "implicit") in links(CO, 248)
    # near miss: harming the company (第二十二条 不得利用关联关系损害公司利益) is no harm to
    # the public interest
    assert ("art262", "implicit") not in links(CO, 22)


def test_a_duty_setting_a_lock_up_is_enforced_by_the_penalty_for_trading_in_one() -> None:
    # 证券法第一百八十六条 "…在限制转让期内转让证券…": 第六十三条 (…至公告后三日内，不得再行
    # 买卖), 第七十条 (收购人在收购期限内，不得卖出) and 第七十五条 (…十八个月内不得转让)
    for article in (63, 70, 75):
        assert ("art186", "implicit") in links(SEC, article), article
    # near misses: a prohibition to trade with no period (…不得买卖股票), a period with no
    # trading forbidden, and a duty no lock-up penalty reaches
    assert not SETS_LOCKUP.search("证券从业人员不得直接或者以化名、借他人名义持有、买卖股票")
    assert not SETS_LOCKUP.search("应当在该事实发生之日起三日内，向国务院证券监督管理机构报告")
    assert ("art186", "implicit") not in links(SEC, 64)


def test_registering_a_change_is_the_act_whatever_handles_it() -> None:
    # 公司法第二百六十条 "…未依照本法规定办理有关变更登记的": 办理 (handling) is no act of its
    # own; 第三十五条 (公司申请变更登记，应当…提交…变更登记申请书) is the duty, as 第三十四条 is
    named = failure("公司登记事项发生变更时，未依照本法规定办理有关变更登记的")
    assert named is not None and named.acts == (frozenset({"变更", "登记"}),)
    assert ("art260", "implicit") in links(CO, 34)
    assert ("art260", "implicit") in links(CO, 35)
    # near miss: the registrar's duty to publish what it registered (第三十二条) is its own
    assert ("art260", "implicit") not in links(CO, 32)


def test_a_citing_penalty_describing_its_doer_enforces_the_prohibition_naming_them() -> None:
    # 证券法第一百九十一条 "证券交易内幕信息的知情人或者非法获取内幕信息的人违反本法第五十三条
    # 的规定从事内幕交易的" also enforces 第五十条 ("禁止证券交易内幕信息的知情人和非法获取内幕
    # 信息的人利用内幕信息从事证券交易活动"), and the crime follows (刑法第一百八十条)
    assert ("art191", "implicit") in links(SEC, 50)
    assert ("art180", "criminal") in links(SEC, 50)
    # near misses: a bare actor describes no one; the article defining who knows inside
    # information (第五十一条) forbids nothing
    assert DESCRIBED.match("证券公司违反本法第一百二十九条的规定从事证券自营业务的") is None
    assert ("art191", "implicit") not in links(SEC, 51)


# --------------------------------------------------------------- the same links on every run

def test_a_weight_total_does_not_depend_on_the_order_of_its_terms() -> None:
    class Fixed(Weights):
        def weight(self, term: str) -> float:
            return {"a": 0.1, "b": 0.2, "c": 0.3}[term]

    fixed = Fixed([])
    assert fixed.total(["a", "b", "c"]) == fixed.total(["c", "b", "a"]) == 0.6


_FUTURES_CRIMES = """
import sys
from rag.chunking import chunk_documents
from rag.links import LinkTable
from rag.readers import read_document
docs = [read_document(p) for p in sys.argv[1:]]
table = LinkTable(docs, chunk_documents(docs))
print(" ".join(k.target for k in table.penalties(docs[0].doc_id + "#art39")))
"""


def test_the_links_are_the_same_whatever_the_hash_seed() -> None:
    # 期货交易管理条例第三十九条 (不得编造、传播…虚假信息) → 刑法第一百八十一条 sits at 0.6 of
    # its act's term weight: a sum in set order dropped it under one hash seed in six.
    # Since round 10 the article is enforced by 第六十七条's third paragraph (任何单位或者个人
    # 编造并且传播…虚假信息…), the doer 任何单位 its subject too, and reaches 181 through it
    # (刑法第一百八十二条, 操纵, through 第七十条 is then missed: 0.765 < 0.779)
    futures = CORPUS / "lawrefbook" / "行政法规" / "期货交易管理条例(2017-03-01).md"
    crimes = CORPUS / "lawrefbook" / "刑法" / "刑法.md"
    seen = set()
    for seed in ("1", "3"):
        done = subprocess.run(
            [sys.executable, "-c", _FUTURES_CRIMES, str(futures), str(crimes)],
            env={**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(REPO)},
            capture_output=True, text=True, check=True, timeout=120)
        seen.add(done.stdout.strip())
    assert seen == {"期货交易管理条例-2017-03-01#art67 刑法#art181"}
