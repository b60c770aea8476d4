"""Round 7: crimes of financial institutions, and penalties that name acts by reference.

Real articles of the shipped 证券法 (2019), 公司法 (2023), 证券投资基金法, 期货和衍生品法 and
刑法, linked together, with exact expected links and the near misses that must not link
(rag/links/criminal.py's institutions; direct.by_reference).
"""

from __future__ import annotations

from functools import cache

from rag.chunking import chunk_documents
from rag.links import LinkTable
from rag.links.criminal import crime_actors, institutions
from rag.links.direct import by_reference
from rag.readers import read_document

from .conftest import CORPUS

LAWS = CORPUS / "lawrefbook"
SEC = "证券法-2019-12-28"
CO = "公司法-2023-12-29"
FUND = "证券投资基金法-2015-04-24"
FUT = "期货和衍生品法-2022-04-20"


@cache
def table() -> LinkTable:
    docs = [read_document(LAWS / "民法商法" / "证券法(2019-12-28).md"),
            read_document(LAWS / "民法商法" / "公司法(2023-12-29).md"),
            read_document(LAWS / "民法商法" / "证券投资基金法(2015-04-24).md"),
            read_document(LAWS / "经济法" / "期货和衍生品法(2022-04-20).md"),
            read_document(LAWS / "刑法" / "刑法.md")]
    return LinkTable(docs, chunk_documents(docs))


def crimes(doc_id: str, article: int) -> dict[str, tuple[str, ...]]:
    """The criminal links of a duty article: crime article → its evidence, sorted."""
    return {k.target.split("#")[1]: tuple(sorted(e.text for e in k.evidence))
            for k in table().penalties(f"{doc_id}#art{article}") if k.kind == "criminal"}


# ------------------------------------------------- the institutions a crime is done by

def test_a_crime_of_financial_institutions_is_done_by_the_institutions_the_laws_bind() -> None:
    # 刑法第一百八十五条之一: 商业银行、证券交易所、期货交易所、证券公司、期货经纪公司、保险公司
    # 或者其他金融机构，违背受托义务…: 期货经纪公司 is what 期货和衍生品法 calls 期货公司 and
    # 期货经营机构; 其他金融机构 covers a 基金管理人 too
    named = institutions("商业银行、证券交易所、期货交易所、证券公司、期货经纪公司、保险公司或者"
                         "其他金融机构，违背受托义务")
    assert {"期货公司", "期货经营机构", "证券公司", "基金管理人", "期货交易场所"} <= set(named)
    assert "从业人员" not in named
    # a crime starting otherwise names no institution: its doers are read as before
    assert institutions("编造并且传播影响证券、期货交易的虚假信息") == ()
    # their staff's crime is read as any staff's, as before (刑法第一百八十一条第二款 …期货
    # 经纪公司的从业人员): 期货和衍生品法第一百零六条 (the regulator's powers, its sentence read
    # as binding 期货交易场所) gets no 刑法第一百八十条第四款 through 第一百二十六条
    assert institutions("证券交易所、期货交易所、证券公司、期货经纪公司的从业人员") == ()
    assert crime_actors("证券交易所、期货交易所、证券公司、期货经纪公司的从业人员") == ("从业人员",)
    assert "art180" not in crimes(FUT, 106)
    assert crime_actors("公司、企业或者其他单位的工作人员，利用职务上的便利") == ("从业人员",)


def test_a_futures_firms_breach_of_trust_is_the_crime_of_financial_institutions() -> None:
    # 期货和衍生品法第六十七条 期货经营机构…不得违背受托义务 (no administrative penalty):
    # 刑法第一百八十五条之一 (…期货经纪公司…违背受托义务，擅自运用客户资金), now that its doers
    # are known; no longer 第一百六十九条之一 (上市公司的董事…违背对公司的忠实义务), preferred
    # before only because it named a doer
    assert crimes(FUT, 67) == {"art185-1": ("义务", "受托", "违背")}


def test_the_crime_of_an_institutions_staff_is_not_a_companys_officers() -> None:
    # near miss: 公司法第一百八十一条 (董事…挪用公司资金) keeps 刑法第二百七十二条 (挪用资金罪),
    # not 第一百八十五条 (金融机构的工作人员…挪用本单位或者客户资金)
    found = crimes(CO, 181)
    assert found["art272"] == ("挪用", "资金")
    assert "art185" not in found


# ------------------------------------------------- a penalty naming acts by reference

def test_a_penalty_naming_acts_by_the_article_it_cites_leaves_them_to_the_crimes() -> None:
    # 证券投资基金法第一百二十三条 …有本法第二十条所列行为之一的: its words name no act, so
    # 第二十条's acts are compared with the crimes themselves: (六) 泄露因职务便利获取的未公开
    # 信息…明示、暗示他人从事相关的交易活动 → 刑法第一百八十条 (第四款, 利用未公开信息交易罪)
    (cited,) = [k for k in table().penalties(f"{FUND}#art20") if k.kind == "explicit"]
    assert cited.target == f"{FUND}#art123"
    assert by_reference(cited, table().documents)
    assert crimes(FUND, 20) == {"art180": ("交易", "暗示", "活动")}
    (cited,) = [k for k in table().penalties(f"{FUT}#art78") if k.kind == "explicit"]
    assert by_reference(cited, table().documents)  # …或者有第七十八条损害交易者利益行为的


def test_a_penalty_that_names_the_act_it_punishes_is_not_by_reference() -> None:
    # near miss: 证券法第二百零八条 违反本法第一百三十一条的规定，将客户的资金和证券归入自有
    # 财产，或者挪用… names the act: 第一百三十一条 is compared through it, not directly
    (cited,) = [k for k in table().penalties(f"{SEC}#art131") if k.kind == "explicit"]
    assert not by_reference(cited, table().documents)
    (cited,) = [k for k in table().penalties(f"{SEC}#art118") if k.kind == "explicit"]
    assert not by_reference(cited, table().documents)
