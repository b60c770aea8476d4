"""Round 10: a penalty's doer named by a word no actor list knows (反洗钱法's 金融机构).

Real articles of the shipped 反洗钱法 (2024), linked by the shipped model, with the exact
expected links and the near misses that must not link (rag/links/penalties.lead_subject,
duties.subject_leads, score's actor features and only_its_doer).
"""

from __future__ import annotations

from functools import cache

from rag.chunking import chunk_documents
from rag.core.clauses import Clause
from rag.links import LinkTable
from rag.links.duties import Duty, duties, subject_leads
from rag.links.penalties import conducts, lead_subject
from rag.links.score import FEATURES, only_its_doer
from rag.readers import read_document

from .conftest import CORPUS

AML = "反洗钱法-2024-11-08"


@cache
def clauses() -> tuple[Clause, ...]:
    doc = read_document(CORPUS / "lawrefbook" / "经济法" / "反洗钱法(2024-11-08).md")
    return tuple(chunk_documents([doc]))


@cache
def table() -> LinkTable:
    said = list(clauses())
    docs = [read_document(CORPUS / "lawrefbook" / "经济法" / "反洗钱法(2024-11-08).md")]
    return LinkTable(docs, said)


def article(number: int) -> Clause:
    return next(c for c in clauses() if c.unit_id == f"{AML}#art{number}" and c.kind == "article")


def implicit(number: int) -> dict[str, float]:
    return {k.target.split("#")[1]: k.confidence for k in table().penalties(f"{AML}#art{number}")
            if k.kind == "implicit"}


def duty_saying(number: int, words: str) -> Duty:
    return next(d for d in duties(article(number)) if words in d.text)


def test_a_penalty_names_its_doer_by_the_word_it_starts_with() -> None:
    assert lead_subject("金融机构有下列情形之一的，由国务院反洗钱行政主管部门…") == "金融机构"
    assert lead_subject("特定非金融机构违反本法规定的，由有关主管部门") == "特定非金融机构"
    # near misses: who is left out is not the doer; a paragraph that starts with its act
    # names none
    assert lead_subject("金融机构、特定非金融机构以外的单位和个人未依照本法第四十条规定") == ""
    assert lead_subject("违反本法规定，构成犯罪的，依法追究刑事责任。") == ""
    assert lead_subject("有下列行为之一的，由县级以上人民政府财政部门") == ""
    # every item of 第五十三条's list carries its lead-in's doer
    items = [k for k in conducts(article(53)) if k.text.startswith("未按照规定")]
    assert [k.subject for k in items] == ["金融机构"] * 4


def test_a_duty_is_the_doers_when_its_subject_starts_with_the_word() -> None:
    assert subject_leads("金融机构", duty_saying(29, "应当开展客户尽职调查"))
    assert subject_leads("金融机构", duty_saying(32, "应当评估第三方的风险状况"))
    # near misses: the authority that supports the check, and the customer who cooperates
    assert not subject_leads("金融机构", duty_saying(33, "相关部门应当依法予以支持"))
    assert not subject_leads("金融机构", duty_saying(38, "应当配合金融机构的客户尽职调查"))
    assert not subject_leads("", duty_saying(29, "应当开展客户尽职调查"))


def test_the_list_lead_in_that_only_names_the_doer_is_not_compared() -> None:
    lead_in, *items = [k for k in conducts(article(52)) if k.sanction == "administrative"]
    assert lead_in.text == "金融机构的" and only_its_doer(lead_in)
    assert not any(only_its_doer(k) for k in items)


def test_the_doers_duties_link_the_list_item_that_names_them() -> None:
    # 第三十五条 (large and suspicious transaction reports): 第五十二条（五） 未按照规定制定、
    # 完善可疑交易监测标准 and 第五十三条（四） 未按照规定报告可疑交易, then 第五十五、五十六条
    # through them; 第二十七条 (internal controls): 第五十二条（六） 内部审计或者社会审计
    assert {"art52", "art53", "art55", "art56"} <= set(implicit(35))
    assert {"art52", "art56"} <= set(implicit(27))
    assert "art53" not in implicit(27)
    # near misses: the same words in a duty of someone else (the authorities', 第三十三条;
    # the customers', 第三十八条) link nothing
    assert implicit(33) == {} and implicit(38) == {}
    candidate = next(c for c in table().candidates_of(AML)
                     if c.source == f"{AML}#art33" and c.target == f"{AML}#art53")
    assert all(o.features[FEATURES.index("actor_named")] == 0.0 for o in candidate.options)
