"""Penalty links by how statutes name actors and conduct: roles, failed duties, authorities.

Real articles of the shipped 证券法 (2019) and 公司法 (2023), each law linked on its own
(implicit links compare a document's own articles), with exact expected links and the
near misses that must not link.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache

import pytest

from rag.chunking import chunk_document
from rag.links import LinkTable, duties
from rag.links.duties import actors_in, acts_as, leading_actors, modality
from rag.links.failures import CONFIDENCE, Failure, failure
from rag.links.model import actors_meet
from rag.links.score import OWN_DUTY, stands_alone
from rag.links.terms import spans_of
from rag.readers import read_document

from .conftest import CORPUS

LAWS = CORPUS / "lawrefbook" / "民法商法"
SEC = "证券法-2019-12-28"
CO = "公司法-2023-12-29"


@cache
def table(doc_id: str) -> LinkTable:
    path = {SEC: LAWS / "证券法(2019-12-28).md", CO: LAWS / "公司法(2023-12-29).md"}[doc_id]
    doc = read_document(path)
    return LinkTable([doc], chunk_document(doc))


def targets(doc_id: str, article: int) -> list[tuple[str, str]]:
    return [(k.target.removeprefix(f"{doc_id}#"), k.kind)
            for k in table(doc_id).penalties(f"{doc_id}#art{article}")]


# --------------------------------------------------------------- who a duty binds

def test_the_actor_a_phrase_starts_with_is_the_one_bound() -> None:
    # 证券法第六十三条: "通过证券交易所的证券交易，投资者持有…达到百分之五时，应当…":
    # the exchange is what the trade goes through; the investor is bound
    doc = table(SEC).documents[SEC]
    clause = next(c for c in table(SEC).clauses if c.unit_id == f"{SEC}#art63")
    first = duties(clause)[0]
    assert doc.text[first.start:first.end] == first.text
    assert first.actors == ("投资者",)
    assert leading_actors("由公司登记机关分别登记为有限责任公司；不符合本法规定的设立条件的，") \
        == ("公司登记机关",)
    assert leading_actors("设立公司，") == ()  # no phrase starts with an actor


def test_an_actor_whose_rules_are_named_is_not_the_one_acting() -> None:
    assert actors_in("转让股票不符合法律、行政法规和国务院证券监督管理机构规定的") == ()
    assert actors_in("经证券交易所批准，证券公司可以") == ("证券公司",)
    assert actors_in("证券公司违反规定") == ("证券公司",)


def test_a_role_covers_a_holder_only_when_its_duty_does_the_roles_act() -> None:
    holder = "投资者持有…达到百分之五时，应当…作出书面报告，通知该上市公司，并予以公告"
    assert actors_meet(("信息披露义务人",), ("投资者",), holder)
    assert not actors_meet(("信息披露义务人",), ("投资者",), "投资者应当使用实名开立的账户进行交易")
    # an exchange announcing a delisting is not a 信息披露义务人
    assert not actors_meet(("信息披露义务人",), ("证券交易所",), "证券交易所…应当及时公告")
    assert actors_meet(("收购人",), ("投资者",), "投资者持有…百分之三十时，继续进行收购的，应当…")
    assert not actors_meet(("收购人",), ("投资者",), holder)


# --------------------------------------------------------------- failed duties named

def test_a_penalty_names_the_duty_whose_failure_it_punishes() -> None:
    offer = failure("收购人未按照本法规定履行上市公司收购的公告、发出收购要约义务的")
    assert offer is not None and offer.whole and not offer.every_duty
    assert offer.acts == (frozenset({"公告", "披露"}), frozenset({"发出", "收购", "要约"}))
    registrar = failure("公司登记机关违反法律、行政法规规定未履行职责或者履行职责不当的，"
                        "对负有责任的领导人员和直接责任人员依法")
    assert registrar is not None and registrar.every_duty and registrar.acts == ()
    sponsor = failure("保荐人出具有虚假记载、误导性陈述或者重大遗漏的保荐书，"
                      "或者不履行其他法定职责的")
    assert sponsor is not None and sponsor.every_duty and not sponsor.whole


@pytest.mark.parametrize("conduct", [
    "发行人、证券登记结算机构、证券公司、证券服务机构未按照规定保存有关文件和资料的",  # a conduct
    "证券公司违反本法第八十八条的规定未履行或者未按照规定履行投资者适当性管理义务的",  # cites
    "公司在合并、分立、减少注册资本或者进行清算时，不依照本法规定通知或者公告债权人的",
])
def test_a_conduct_or_a_cited_article_is_not_a_named_failure(conduct: str) -> None:
    assert failure(conduct) is None


def test_a_penalty_naming_who_fails_in_its_own_words_links_only_their_duties() -> None:
    # 防范和处置非法集资条例第三十五条: 金融机构、非银行支付机构 are no actor the linker
    # knows; only a duty those words bind (第十三条) is theirs, not the government's (第五条)
    rules = LAWS.parent / "行政法规" / "防范和处置非法集资条例(2021-01-26).md"
    doc = read_document(rules)
    found = LinkTable([doc], chunk_document(doc))
    named = failure("金融机构、非银行支付机构未履行防范非法集资义务的")
    assert named is not None and named.who == ("金融机构", "非银行支付机构")
    assert [k.target for k in found.penalties(f"{doc.doc_id}#art13")] == [f"{doc.doc_id}#art35"]
    assert found.penalties(f"{doc.doc_id}#art5") == []


def test_a_sponsor_failing_its_other_duties_and_a_report_that_is_a_document() -> None:
    # 证券法第一百八十二条 "…或者不履行其他法定职责的" reaches each duty of 保荐人 (第十条);
    # 第十二条 (…财务会计报告被出具无保留意见审计报告) reports nothing: no 197
    assert targets(SEC, 10) == [("art182", "implicit")]
    assert targets(SEC, 12) == []


def test_a_failure_to_register_names_the_duty_to_register() -> None:
    change = failure("公司登记事项发生变更时，未依照本法规定办理有关变更登记的")
    assert change is not None and change.whole  # when something happens, only this
    assert change.acts == (frozenset({"变更", "登记"}),)  # 办理 X is doing X
    posing = failure("未依法登记为有限责任公司或者股份有限公司，而冒用有限责任公司或者股份有限"
                     "公司名义的")
    assert posing is not None and posing.anyone and posing.acts == (frozenset({"设立", "登记"}),)
    # 公司法第二十九条 (设立公司，应当依法…申请设立登记) and 第三十八条 (公司设立分公司，
    # 应当…申请登记): 第二百五十九条; a change of registration (第三十四条) is 第二百六十条's
    assert targets(CO, 29) == [("art259", "implicit")]
    assert targets(CO, 38) == [("art259", "implicit")]
    assert targets(CO, 34) == [("art260", "implicit")]


def test_a_5_percent_holder_is_a_disclosure_party_and_an_acquirer_is_a_takeover_party() -> None:
    # 投资者 … 报告 … 公告; and …三日内，不得再行买卖 (a lock-up: tests/test_links_fit.py)
    assert targets(SEC, 63) == [("art197", "implicit"), ("art186", "implicit")]
    assert targets(SEC, 77) == [("art197", "implicit")]  # 上市公司 … 报告 … 公告
    assert targets(SEC, 65) == [("art196", "implicit")]  # 投资者 … 继续进行收购 … 发出要约
    link = table(SEC).penalties(f"{SEC}#art65")[0]
    assert link.confidence == CONFIDENCE
    assert {e.text for e in link.evidence} == {"收购", "发出", "要约"}
    assert all(table(SEC).documents[SEC].text[e.start:e.end] == e.text for e in link.evidence)


def test_the_penalty_naming_the_duty_s_own_actor_is_the_one_that_applies() -> None:
    # 第六十六条: 收购人必须公告上市公司收购报告书: 196 (收购人), not also 197, which
    # reaches a 收购人 only as a 信息披露义务人
    assert targets(SEC, 66) == [("art196", "implicit")]


@pytest.mark.parametrize("article", [
    70,  # 收购人…不得卖出: a prohibition, not a failure to announce or to offer
    74,  # delisting after a takeover: no announcement, no offer made by the one bound
    48,  # 证券交易所决定终止…的，应当及时公告: an exchange is not a disclosure party
])
def test_near_misses_of_a_named_failure_are_not_linked(article: int) -> None:
    assert ("art196", "implicit") not in targets(SEC, article)
    assert ("art197", "implicit") not in targets(SEC, article)


def test_an_authority_failing_its_duties_is_punished_for_each_of_its_own() -> None:
    assert targets(CO, 32) == [("art258", "implicit")]  # 公司登记机关应当…公示
    assert targets(CO, 31) == [("art258", "implicit")]  # 由公司登记机关…；…不得登记
    link = table(CO).penalties(f"{CO}#art32")[0]
    assert {e.text for e in link.evidence} == {"公司登记机关"}
    # near misses: a policy the registrar pursues (应当优化…、提高…), and a company's duty
    assert targets(CO, 41) == []
    assert "art258" not in dict(targets(CO, 34))


# --------------------------------------------------------------- alternatives, evidence

def test_an_alternative_naming_its_own_norm_does_not_share_the_cited_article() -> None:
    # 证券法第一百八十六条: "违反本法第三十六条的规定，在限制转让期内转让证券，或者转让股票
    # 不符合法律、行政法规和国务院证券监督管理机构规定的"
    assert stands_alone("转让股票不符合法律、行政法规和国务院证券监督管理机构规定的")
    assert not stands_alone("违反本法第三十六条的规定，在限制转让期内转让证券，")
    assert not stands_alone("在限制转让期内转让证券")  # names no norm: the cited article's


def test_evidence_is_whole_words() -> None:
    text = "公司、企业的工作人员，利用职务上的便利，利用内幕信息买卖证券"
    shown = [text[a:b] for a, b in spans_of(["作人", "工作", "利用", "买卖证券"], text, 0)]
    assert shown == ["利用", "买卖证券"]  # 作人 and 工作 are pieces of 工作人员
    at = 100
    assert spans_of(["利用"], text, at) == [(at + 11, at + 13)]


# --------------------------------------------------------------- round 5: own duties, asked orders

def test_an_order_asked_of_an_authority_is_not_a_prohibition() -> None:
    # 证券法第一百四十四条 "…经国务院证券监督管理机构批准，可以对…采取以下措施：…（二）申请
    # 司法机关禁止其转移、转让或者以其他方式处分财产…": a power of the regulator (可以), the
    # 禁止 the court's; it is no prohibition and 第二百一十六条 does not enforce it
    said = table(SEC).duties_of(f"{SEC}#art144")
    assert [d.modality for d in said] == ["permission"]
    assert "art216" not in dict(targets(SEC, 144))
    # near miss: a prohibition the sentence imposes stays one (第一百三十一条 禁止…挪用)
    assert "prohibition" in {d.modality for d in table(SEC).duties_of(f"{SEC}#art131")}
    assert modality("申请人民法院禁止其转移财产") is None
    assert modality("禁止任何人申请") == ("prohibition", "禁止")


def test_a_liability_for_its_own_articles_duty_covers_no_other_article() -> None:
    # 公司法第五十一条 "…未及时履行前款规定的义务，给公司造成损失的，负有责任的董事应当承担
    # 赔偿责任": the duty is its own first paragraph's (核查、催缴), not 第一百六十二条's
    # 履行信息披露义务 nor 第五十二条's forfeiture
    assert ("art51", "civil") not in targets(CO, 162)
    assert ("art51", "civil") not in targets(CO, 52)
    assert OWN_DUTY.search("董事会未及时履行前款规定的义务，给公司造成损失的")
    assert not OWN_DUTY.search("未履行本法规定的义务")  # the law's: any article's


def test_the_regulators_duties_are_enforced_by_its_failure_to_perform_them() -> None:
    # 证券法第二百一十六条（五）"其他不依法履行职责的行为": every duty of the regulator, named
    # 国务院证券监督管理机构 (the 国务院 before the actor is no other phrase's)
    assert failure("其他不依法履行职责的行为") == Failure((), True, False)
    said = table(SEC).duties_of(f"{SEC}#art141")
    assert said[0].actors == ("证券监督管理机构",)  # not 证券公司的股东…的 before it
    assert ("art216", "implicit") in targets(SEC, 141)
    # near miss: a limit on the regulator's power (可以调整注册资本最低限额，但不得少于前款
    # 规定的限额) is exceeded, not failed
    assert "art216" not in dict(targets(SEC, 121))


def test_the_regulators_staff_are_not_the_regulator() -> None:
    # 证券法第四十条 "…证券监督管理机构的工作人员…不得…持有、买卖股票": a duty of the staff;
    # with no penalty citing it, 216's failure of the regulator's duties still does not
    # reach it (第一百七十九条 国务院证券监督管理机构工作人员必须忠于职守 likewise)
    doc = read_document(LAWS / "证券法(2019-12-28).md")
    uncited = replace(doc, text=doc.text.replace("违反本法第四十条的规定",
                                                 "违反本法第四十二条的规定"))
    found = LinkTable([uncited], chunk_document(uncited))
    assert found.penalties(f"{SEC}#art40") == []
    assert "art216" not in dict(targets(SEC, 179))
    assert ("art216", "implicit") in targets(SEC, 178)  # 应当依法将案件移送司法机关
    assert acts_as("证券监督管理机构", "国务院证券监督管理机构应当依法将案件移送司法机关")
    assert not acts_as("证券监督管理机构", "证券监督管理机构的工作人员不得买卖股票")
    assert not acts_as("证券监督管理机构", "按照国务院证券监督管理机构的规定持有")
