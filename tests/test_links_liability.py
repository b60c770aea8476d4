"""Civil liability of an office, approvals, and crimes by who commits them and what is done.

Real articles of the shipped 证券法 (2019), 公司法 (2023) and 刑法, linked together, with
exact expected links and the near misses that must not link (rag/links/liability.py,
the approval and registration rules of rag/links/failures.py, the doers and direct
comparison of rag/links/criminal.py).
"""

from __future__ import annotations

import pytest

from rag.core.clauses import Clause
from rag.links.criminal import crime_actors, doers_meet, names_some
from rag.links.direct import covered_by, manner, objects, prohibited_acts
from rag.links.failures import failure, lacks_approval
from rag.links.liability import generic
from rag.links.penalties import conducts, is_civil_liability

from .link_laws import CO, CRIMES, SEC, links, table


def clause(doc_id: str, article: int) -> Clause:
    return next(c for c in table().clauses if c.unit_id == f"{doc_id}#art{article}")


# --------------------------------------------------------------- civil liability of an office

def test_disgorgement_is_civil_liability_not_a_duty_and_a_range_cites_every_article() -> None:
    # 第一百八十六条 "董事、监事、高级管理人员违反本法第一百八十一条至第一百八十四条规定所得的
    # 收入应当归公司所有": 182 and 183 are cited only through 至
    assert is_civil_liability(clause(CO, 186))
    assert table().duties_of(f"{CO}#art186") == []
    for article in (181, 182, 183, 184):
        made = [k for k in table().penalties(f"{CO}#art{article}") if k.target.endswith("art186")]
        assert [(k.kind, k.confidence) for k in made] == [("civil", 1.0)]
    middle = next(k for k in table().penalties(f"{CO}#art182") if k.target.endswith("art186"))
    assert [e.text for e in middle.evidence] == ["本法第一百八十一条至第一百八十四条"]
    doc = table().documents[CO]
    assert all(doc.text[e.start:e.end] == e.text for e in middle.evidence)
    # a list joined by 、 is not a range: 第一百八十五条 cites 182 to 184 for a vote, not
    # a liability, and 180 is not between anything 186 cites
    assert ("art186", "civil") not in links(CO, 180)
    assert ("art186", "civil") not in links(CO, 185)


def test_a_roles_general_liability_covers_the_roles_duties_in_its_chapter() -> None:
    # 第一百八十八条 "董事、监事、高级管理人员执行职务违反法律、行政法规或者公司章程的规定，
    # 给公司造成损失的，应当承担赔偿责任"
    for article in (179, 180, 181, 182, 183, 184):
        assert ("art188", "civil") in links(CO, article), article
    # near misses: the board's duties (185 关联董事 in a 董事会 vote, 193 董事会应当报告),
    # the company's (178 公司应当解除其职务), and the chapter's liability articles themselves
    for article in (178, 185, 186, 188, 193):
        assert ("art188", "civil") not in links(CO, article), article
    # only the chapter's duties of those roles (no 董事 duty of 第十二章 清算 or elsewhere),
    # not 187's, owed on the meeting's request (应当列席并接受股东的质询: tests/test_links_fit.py)
    covered = [k.source for k in table().enforces(f"{CO}#art188")]
    assert sorted(covered) == sorted(f"{CO}#art{a}" for a in (179, 180, 181, 182, 183, 184))


@pytest.mark.parametrize(("conduct", "kind"), [
    ("董事、监事、高级管理人员执行职务违反法律、行政法规或者公司章程的规定，给公司造成损失的，应当",
     "breach"),
    ("董事、高级管理人员执行职务，给他人造成损害的", "office"),
    ("清算组成员因故意或者重大过失给公司或者债权人造成损失的", None),
    ("公司违反本法规定向股东分配利润的", None),
])
def test_a_liability_naming_only_a_breach_or_the_office_names_no_conduct(
        conduct: str, kind: str | None) -> None:
    assert generic(conduct) == kind


def test_a_liability_naming_only_the_office_links_nothing_by_shared_words() -> None:
    # 第一百九十一条 (执行职务，给他人造成损害的) shares 执行职务 with 第一百八十条 but
    # names no duty: it was linked to 180 by the model before
    assert ("art191", "civil") not in links(CO, 180)
    assert table().enforces(f"{CO}#art191") == []


# --------------------------------------------------------------- approval and registration

def test_a_penalty_for_acting_without_approval_links_the_duty_to_seek_it() -> None:
    # 第二百六十一条 "外国公司违反本法规定，擅自在中华人民共和国境内设立分支机构的"
    assert links(CO, 244) == [("art261", "implicit")]  # 应当…申请…经批准后…登记
    assert links(CO, 245) == []  # 应当指定代表人…拨付资金: same act, no approval
    # 经批准设立的…应当遵守中国的法律: approval only described (its 不得损害…社会公共利益 is
    # 第二百六十二条's: tests/test_links_fit.py)
    assert links(CO, 248) == [("art262", "implicit")]
    assert lacks_approval("擅自在中华人民共和国境内设立分支机构的", "应当在境内指定代表人")
    assert not lacks_approval("擅自在中华人民共和国境内设立分支机构的",
                              "经批准后，向公司登记机关依法办理登记")
    assert not lacks_approval("未按照规定保存有关文件和资料的", "应当妥善保存")


def test_posing_as_a_company_fails_the_duty_to_register_setting_one_up_only() -> None:
    named = failure("未依法登记为有限责任公司或者股份有限公司，而冒用有限责任公司或者股份有限公司"
                    "名义的，或者未依法登记为有限责任公司或者股份有限公司的分公司，而冒用有限责任"
                    "公司或者股份有限公司的分公司名义的")
    assert named is not None and named.anyone
    assert named.founded == ("有限责任公司", "公司", "股份有限公司", "分公司")
    assert links(CO, 29) == [("art259", "implicit")]  # 设立公司，应当…申请设立登记
    assert links(CO, 38) == [("art259", "implicit")]  # 公司设立分公司，应当…申请登记
    assert ("art259", "implicit") not in links(CO, 244)  # 外国公司…设立分支机构


# --------------------------------------------------------------- crimes: who and what

@pytest.mark.parametrize(("words", "doers"), [
    ("依法负有信息披露义务的公司、企业向股东和社会公众提供虚假的", ("公司",)),
    ("公司、企业或者其他单位的工作人员，利用职务上的便利", ("从业人员",)),
    ("上市公司的董事、监事、高级管理人员违背对公司的忠实义务",
     ("上市公司", "董事", "监事", "高级管理人员")),
    ("证券、期货交易内幕信息的知情人员", ()),
    ("在招股说明书、认股书、公司、企业债券募集办法等发行文件中", ()),
])
def test_a_crime_names_its_doer_only_by_the_words_it_starts_with(
        words: str, doers: tuple[str, ...]) -> None:
    assert crime_actors(words) == doers


def test_a_companys_crime_is_not_an_investors() -> None:
    # 证券法第六十三条 (投资者持有…百分之五) is enforced by 第一百九十七条, whose crime
    # 刑法第一百六十一条 is the company's (依法负有信息披露义务的公司、企业): not the investor's
    assert links(SEC, 63) == [("art197", "implicit"), ("art186", "implicit")]  # no crime
    assert ("art161", "criminal") in links(SEC, 77)  # 上市公司…报告，予公告
    said = table().duties_of(f"{SEC}#art63")
    assert not doers_meet(("公司",), said[:1])
    assert doers_meet(("公司",), table().duties_of(f"{SEC}#art77"))
    assert doers_meet(("公司",), [d for d in said if not d.actors])  # names no one


def test_a_prohibition_enforced_only_civilly_is_compared_with_crimes_act_by_act() -> None:
    found = {k.target.split("#")[1]: k for k in table().penalties(f"{CO}#art181")
             if k.kind == "criminal"}
    # 侵占公司财产; 挪用公司资金; 收受其他非法收入 (收受他人财物); 擅自披露公司秘密
    assert sorted(found) == ["art163", "art219", "art271", "art272"]
    assert [e.text for e in found["art271"].evidence] == ["财物", "占为己有"]  # as 刑法 writes
    assert found["art272"].via is None
    assert {e.text for e in found["art272"].evidence} == {"挪用", "资金"}
    crimes = table().documents[found["art271"].target.split("#")[0]]
    assert all(crimes.text[e.start:e.end] == e.text for e in found["art271"].evidence)
    assert [t for t, kind in links(CO, 184) if kind == "criminal"] == ["art165"]  # 同类营业
    duty = table().duties_of(f"{CO}#art181")[0]
    assert prohibited_acts(duty)[:2] == ["侵占公司财产", "挪用公司资金"]


@pytest.mark.parametrize(("doc_id", "article"), [
    (CO, 178),  # 有下列情形之一的，不得担任…: its items (因…侵占财产…被判处刑罚) are not acts
    (CO, 183),  # 不得利用职务便利…谋取属于公司的商业机会: no crime for it
    (CO, 185),  # 关联董事不得参与表决
    (SEC, 41),  # 不得非法买卖、提供或者公开投资者的信息: 刑法253之一 is outside the chapters
])
def test_near_misses_of_a_direct_crime_are_not_linked(doc_id: str, article: int) -> None:
    assert [t for t, kind in links(doc_id, article) if kind == "criminal"] == []


# ------------------------------------------------- how 刑法 names the conduct of an office

def test_bribe_taking_and_disclosing_secrets_are_the_crimes_of_a_companys_staff() -> None:
    # 公司法第一百八十一条 （三）…收受其他非法收入 → 刑法第一百六十三条 (公司、企业…的工作人员…
    # 非法收受他人财物): 财物 read as 收入, 非法收入 covered by 非法 + 收入; （五）擅自披露
    # 公司秘密 → 第二百一十九条 (…披露…商业秘密): 擅自 says how, not what
    found = {k.target.split("#")[1]: k for k in table().penalties(f"{CO}#art181")
             if k.kind == "criminal"}
    assert {e.text for e in found["art163"].evidence} == {"非法", "收受", "人财物"}
    assert {e.text for e in found["art219"].evidence} == {"披露", "商业秘密"}
    assert (found["art163"].confidence, found["art219"].confidence) == (0.8, 0.8)
    assert manner("擅自披露公司秘密") == {"擅自"}
    assert objects("收受其他非法收入") == {"非法收入"}  # the word it ends on
    assert objects("非法买卖") == frozenset()  # a verb is no object
    act = frozenset({"收受", "非法", "收入", "非法收入"})  # terms("收受其他非法收入")
    assert covered_by(act, frozenset({"收受", "非法", "收入"})) == act
    assert covered_by(frozenset({"非法收入"}), frozenset({"非法"})) == frozenset()


def test_a_listed_crime_with_graded_sanctions_keeps_its_items() -> None:
    # 刑法第二百一十九条 "有下列侵犯商业秘密行为之一，情节严重的，处…；情节特别严重的，处…："
    # the second sanction does not end the list: its three items are its conducts
    crime = next(c for c in table().clauses if c.unit_id == f"{CRIMES}#art219")
    found = [c.text for c in conducts(crime)]
    assert found[0].startswith("以盗窃、贿赂、欺诈、胁迫、电子侵入")
    assert found[2].startswith("违反保密义务或者违反权利人有关保守商业秘密的要求")
    assert len(found) == 3  # 明知前款所列行为…以侵犯商业秘密论 states no sanction of its own


def test_a_named_duty_links_the_crime_of_breaching_it_by_its_doers() -> None:
    # 公司法第一百八十条 "董事、监事、高级管理人员对公司负有忠实义务" → 刑法第一百六十九条之一
    # (上市公司的董事、监事、高级管理人员违背对公司的忠实义务): the duty named, the doer met
    made = [k for k in table().penalties(f"{CO}#art180") if k.kind == "criminal"]
    assert [(k.target, k.paragraph, k.confidence) for k in made] == [
        (f"{CRIMES}#art169-1", "第一款", 0.8)]
    assert [e.text for e in made[0].evidence] == ["忠实", "义务"]


@pytest.mark.parametrize(("doc_id", "article"), [
    (CO, 182),  # 与本公司订立合同…应当报告: names no duty it owes, shares no act
    (CO, 187),  # 列席并接受股东的质询: no crime
    (SEC, 42),  # 证券服务机构…不得买卖该证券: 负有 no named duty, 刑法第一百八十条 is 内幕
])
def test_near_misses_of_a_named_duty_are_not_linked_to_a_breach(doc_id: str,
                                                               article: int) -> None:
    assert "art169-1" not in [t for t, kind in links(doc_id, article) if kind == "criminal"]


def test_a_crime_through_a_penalty_must_name_something_the_duty_says() -> None:
    # 证券法第六十四条 "依照前条规定所作的公告，应当包括下列内容：（一）持股人的名称、住所…"
    # is enforced by 第一百九十七条, whose words are 刑法第一百六十一条's (信息披露义务, 报告),
    # but the duty says none of the crime's words: no crime; 第七十七条 (…报告，予公告) keeps it
    assert links(SEC, 64) == [("art197", "implicit")]
    assert ("art161", "criminal") in links(SEC, 77)
    assert names_some(frozenset({"出资"}), frozenset({"出资额"}))  # inside a longer word
    assert not names_some(frozenset({"信息", "披露"}), frozenset({"持股人", "名称", "住所"}))
