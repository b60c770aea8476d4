"""Round 5: crimes through one listed wrong, by reference, by force; approvals cheated.

Real articles of the shipped 证券法 (2019), 公司法 (2023) and 刑法, linked together, with
exact expected links and the near misses that must not link (rag/links/wrongs.py,
criminal.py, direct.py, approvals.py and penalties.is_crime).
"""

from __future__ import annotations

from rag.core.clauses import Clause
from rag.links.approvals import approvals
from rag.links.direct import breached_duties
from rag.links.duties import Duty
from rag.links.penalties import is_crime, is_penalty
from rag.links.terms import terms
from rag.links.wrongs import alternatives

from .link_laws import CO, SEC, table


def crimes(doc_id: str, article: int) -> dict[str, str | None]:
    """The criminal links of a duty article: crime article → the penalty it came through."""
    return {k.target.split("#")[1]: (k.via or "").split("#")[-1] or None
            for k in table().penalties(f"{doc_id}#art{article}") if k.kind == "criminal"}


def clause(doc_id: str, article: str) -> Clause:
    return next(c for c in table().clauses if c.unit_id == f"{doc_id}#art{article}")


# --------------------------------------------------------------- crimes by reference

def test_a_crime_punished_as_another_articles_is_a_crime() -> None:
    # 刑法第一百八十五条 "…证券公司…的工作人员利用职务上的便利，挪用本单位或者客户资金的，
    # 依照本法第二百七十二条的规定定罪处罚": it sets no punishment of its own
    misuse = clause("刑法", "185")
    assert not is_penalty(misuse) and is_crime(misuse)
    assert is_crime(clause("刑法", "272"))
    # 刑法第一百八十四条 says whose taking is 受贿 ("依照本法第一百六十三条…的规定定罪处罚") —
    # a crime too; 第九十一条 defines 公共财产 and punishes nothing
    assert is_crime(clause("刑法", "184"))
    assert not is_crime(clause("刑法", "91"))


# --------------------------------------------------------------- one wrong of several

def test_each_wrong_a_penalty_lists_is_read_with_its_act() -> None:
    # 证券法第二百零二条 lists three wrongs; each may be a crime of its own
    words = ("擅自设立证券公司、非法经营证券业务或者未经批准以证券公司名义开展证券业务活动的")
    found = dict(alternatives(words, terms(words)))
    assert found[terms("擅自设立证券公司")] == {"设立"}
    assert found[terms("非法经营证券业务")] == {"非法经营"}
    assert "批准" not in found[terms("未经批准以证券公司名义开展证券业务活动")]  # the leave
    # a failure to act names no crime of doing it (未报送、提供 / 未…或者履行…义务)
    assert alternatives("证券公司，未报送、提供信息和资料", frozenset()) == []
    assert alternatives("信息披露义务人未按照本法规定报送有关报告或者履行信息披露义务的",
                        frozenset()) == []
    # a list of who is punished or of what was obtained is no wrong (it starts with a noun)
    assert alternatives("期货公司、期货结算机构骗取业务许可", frozenset()) == []


def test_a_crime_of_one_listed_wrong_is_linked_through_the_penalty() -> None:
    # 证券法第一百一十八条 (设立证券公司…经批准) → 第二百零二条 擅自设立证券公司 → 刑法第一百
    # 七十四条 (擅自设立…证券公司), and 非法经营证券业务 → 刑法第二百二十五条（三）
    assert crimes(SEC, 118) == {"art174": "art202", "art225": "art202"}
    # 第一百三十一条 (禁止…挪用客户的交易结算资金) → 第二百零八条 挪用客户的资金 → 刑法第一
    # 百八十五条 (…证券公司…的工作人员…挪用…客户资金: a crime by reference)
    assert crimes(SEC, 131).get("art185") == "art208"


def test_a_listed_wrong_the_duty_does_not_name_is_not_its_crime() -> None:
    # 第二百零二条 cites 第一百二十条 too, but 120 says nothing of setting a company up:
    # 擅自设立 is 118's wrong; its 非法经营证券业务 is 120's
    assert "art174" not in crimes(SEC, 120) and crimes(SEC, 120).get("art225") == "art202"
    # 第二百一十一条 "…报送、提供的信息和资料有虚假记载…": false content is not 刑法第一百
    # 七十七条之一's 非法提供他人信用卡信息资料 (a short wrong is matched whole)
    assert "art177-1" not in crimes(SEC, 138)
    # 第一百九十七条 punishes not disclosing (未…或者履行信息披露义务): not 刑法第二百一十九条's
    # 披露…商业秘密
    assert "art219" not in crimes(SEC, 83)


# --------------------------------------------------------------- approvals obtained by fraud

def test_a_penalty_names_the_approvals_obtained_by_fraud() -> None:
    assert approvals("提交虚假证明文件或者采取其他欺诈手段骗取证券公司设立许可、业务许可或者"
                     "重大事项变更核准的") == [("设立", ("证券公司",)), ("业务", ("证券公司",)),
                                                ("变更", ("证券公司",))]
    # whom the approval is for, when the items name no one: who cheated
    assert approvals("期货公司及其他期货经营机构…骗取期货业务许可的") == [("业务", ("期货公司",))]
    assert approvals("未经批准，擅自设立证券公司的") == []  # acting without leave: not fraud


def test_fraud_on_an_approval_enforces_the_duties_requiring_it() -> None:
    # 第二百零三条 骗取证券公司设立许可、业务许可或者重大事项变更核准: 118 (设立证券公司…经…
    # 批准), 120 (经…核准…证券公司可以经营…证券业务) and 122 (变更…应当经…核准), each also
    # cited by the penalty for acting without leave (202 / 204)
    for article, cited in ((118, "art202"), (120, "art202"), (122, "art204")):
        found = {k.target.split("#")[1]: k for k in table().penalties(f"{SEC}#art{article}")}
        assert found["art203"].kind == "implicit" and found[cited].kind == "explicit"
        assert all(e.text == table().documents[SEC].text[e.start:e.end]
                   for e in found["art203"].evidence)
    # 119 obliges the company to apply for the licence (申请经营证券业务许可证: 经营 is no
    # 经…许可) and the regulator to decide: no approval is required in its words
    assert "art203" not in {k.target.split("#")[1] for k in table().penalties(f"{SEC}#art119")}


# --------------------------------------------------------------- crimes done by force

def test_a_crime_done_by_force_is_not_that_of_an_act_forbidden_without_it() -> None:
    # 公司法第一百六十二条 "公司不得收购本公司股份": 刑法第二百二十六条 (以暴力、威胁手段…强迫
    # 他人转让或者收购公司、企业的股份) names the act and its object, but only by force
    assert "art226" not in crimes(CO, 162)
    # near miss: force in one listed act of a crime (219（一）以…胁迫…获取) is not the
    # others' — 公司法第一百八十一条（五）擅自披露公司秘密 is still 219's 披露…商业秘密
    assert "art219" in crimes(CO, 181)


# --------------------------------------------------------------- a crime of a duty's holder

def test_a_duty_imposed_by_name_links_the_crime_of_its_holder() -> None:
    # 公司法第一百六十二条 "上市公司收购本公司股份的，应当依照《中华人民共和国证券法》的规定
    # 履行信息披露义务" → 刑法第一百六十一条 "依法负有信息披露义务的公司、企业…不按照规定披露"
    found = {k.target.split("#")[1]: k for k in table().penalties(f"{CO}#art162")}
    assert found["art161"].kind == "criminal" and found["art161"].via is None
    assert {e.text for e in found["art161"].evidence} >= {"义务"}
    # near misses: the same duty on one who is no company (an investor) is not the
    # company's crime; a duty only described (应当披露相关信息) names none
    matcher = table()._crime_matcher()

    def linked(text: str, actors: tuple[str, ...], modality: str = "obligation") -> set[str]:
        duty = Duty("x", CO, "第一条", 0, len(text), text, modality, actors, "应当")
        return {crime.clause_id.split("#")[1] for _, crime, _, _ in
                breached_duties(matcher, {"x": [duty]})}

    assert linked("上市公司应当依照证券法的规定履行信息披露义务。", ("上市公司",)) == {"art161"}
    assert linked("投资者应当依照证券法的规定履行信息披露义务。", ("投资者",)) == set()
    assert linked("上市公司可以履行信息披露义务。", ("上市公司",), "permission") == set()
