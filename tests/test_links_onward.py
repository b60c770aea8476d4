"""Penalties that punish what other penalty articles punish, and lists after 情节较重."""

from __future__ import annotations

from functools import cache

from rag.chunking import chunk_document
from rag.links import LinkTable
from rag.links.penalties import conducts
from rag.readers import read_document

from .conftest import CORPUS

AML = "反洗钱法-2024-11-08"


@cache
def table() -> LinkTable:
    doc = read_document(CORPUS / "lawrefbook" / "经济法" / "反洗钱法(2024-11-08).md")
    return LinkTable([doc], chunk_document(doc))


def penalties(article: int) -> dict[str, str]:
    return {k.target.removeprefix(f"{AML}#"): k.kind
            for k in table().penalties(f"{AML}#art{article}")}


def test_a_penalty_citing_penalty_articles_enforces_their_duties() -> None:
    # 第二十八条 (不得为身份不明的客户提供服务…) is punished by 第五十四条 (一); 第五十五条
    # (有本法第五十三条、第五十四条规定的行为，致使…) aggravates it and 第五十六条 (依照本法
    # 第五十二条至第五十四条规定对金融机构进行处罚的，还可以…对负有责任的董事…) fines the
    # persons responsible; 第三十四条 (保存制度, punished by 第五十三条 (二) and, since
    # round 10, 第五十四条 (六) 篡改、伪造或者…删除客户身份资料、交易记录) likewise
    assert penalties(28) == {"art54": "implicit", "art55": "implicit", "art56": "implicit"}
    assert penalties(34) == {"art53": "implicit", "art54": "implicit", "art55": "implicit",
                             "art56": "implicit"}
    doc = table().documents[AML]
    onward = [k for k in table().penalties(f"{AML}#art34") if k.target == f"{AML}#art56"]
    (evidence,) = onward[0].evidence
    assert evidence.text.endswith("第五十四条")  # through 第五十三、五十四条 both
    assert doc.text[evidence.start:evidence.end] == evidence.text


def test_a_penalty_borrowing_anothers_sanction_does_not_enforce_its_duties() -> None:
    # 第五十七条第二款: 境外金融机构…不予配合的，由…依照本法第五十四条、第五十六条规定进行
    # 处罚 punishes its own conduct (第四十九条) with 第五十四条's sanction, not 第五十四条's
    assert "art57" not in penalties(28)
    assert "art57" not in penalties(34)
    assert penalties(49) == {"art57": "explicit"}


def test_listed_items_follow_a_lead_in_with_more_serious_circumstances() -> None:
    # 第五十二条: 金融机构有下列情形之一的，…责令限期改正；情节较重的，给予警告…；情节严重或者
    # 逾期未改正的，处…罚款…：（一）…（九）: 情节较重的 is how much, not a conduct; the
    # nine items are what the article punishes
    clause = next(c for c in table().clauses if c.unit_id == f"{AML}#art52"
                  and c.kind == "article")
    said = [c.text for c in conducts(clause)]
    assert "情节较重的" not in said
    assert said[1] == "未按照规定制定、完善反洗钱内部控制制度规范"
    assert said[-1] == "金融机构的负责人未能有效履行反洗钱职责"
    assert len(said) == 10  # the lead-in (金融机构的) and the nine items
