"""Duties that name a wrong, as their condition or as the harm they forbid, and its penalty.

An article may say what follows a wrong without forbidding it in so many words:
公司法第三十九条 "虚报注册资本、提交虚假材料或者采取其他欺诈手段隐瞒重要事实取得公司设立
登记的，公司登记机关应当…予以撤销". The wrong it names is the one 第二百五十条 fines
("虚报注册资本、提交虚假材料或者采取其他欺诈手段隐瞒重要事实取得公司登记的"): the article
is enforced by that penalty against the wrongdoer, whoever its own sentence binds. A
penalty conduct links such a duty when the duty's condition (its words before …的，)
has every term of the conduct, four at least: the same wrong, not a resemblance.

A penalty for trading in a lock-up (证券法第一百八十六条 "在限制转让期内转让证券") enforces
every duty that sets one: a period in which the holder may not sell (收购人在收购期限内，
不得卖出被收购公司的股票; …十八个月内不得转让), whether or not it cites the article.

A prohibition of harming an interest (外国公司分支机构…不得损害中国的社会公共利益) is
enforced by the penalty for harming that interest by name (第二百六十二条 "利用公司名义从事
危害国家安全、社会公共利益的严重违法行为的"): the interest is the one the penalty lists.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from rag.core.clauses import Clause
from rag.links.criminal import REFERENCE
from rag.links.duties import Duty
from rag.links.penalties import Conduct
from rag.links.terms import terms

CONFIDENCE = 0.9  # the duty names the very wrong the penalty punishes
MIN_TERMS = 4  # a wrong named in fewer terms is too common to be the same one
# the condition a duty sentence starts with: …取得公司设立登记的，(公司登记机关应当…)
_CONDITION = re.compile(r"^(?P<wrong>[^。；，,]{6,}?)的[，,]")

# a duty article, the penalty article, the duty sentence, the conduct, the words shown
ConditionMatch = tuple[str, str, Duty, Conduct, frozenset[str]]


def wrong_named(duty: Duty) -> frozenset[str]:
    """The terms of the wrong a duty sentence is conditioned on (empty when it starts
    with no condition or has no modal word after it)."""
    found = _CONDITION.match(duty.text)
    if found is None or duty.text.find(duty.modal) < found.end():
        return frozenset()
    return terms(found.group("wrong"))


def condition_matches(pairs: Sequence[tuple[Clause, Conduct]],
                      duty_units: Mapping[str, Sequence[Duty]], named: set[str]
                      ) -> list[ConditionMatch]:
    """(duty article, penalty article, …) for each administrative penalty conduct whose
    every term (four or more) the condition of a duty sentence of the same document has."""
    out: list[ConditionMatch] = []
    for clause, conduct in pairs:
        if conduct.sanction != "administrative" or REFERENCE.search(conduct.text):
            continue
        wanted = terms(conduct.text)
        if len(wanted) < MIN_TERMS:
            continue
        for unit, said in duty_units.items():
            if unit in named or unit == clause.unit_id:
                continue
            for duty in said:
                if duty.doc_id == clause.doc_id and wanted <= wrong_named(duty):
                    out.append((unit, clause.unit_id, duty, conduct, wanted))
                    break
    return out


HARM_CONFIDENCE = 0.8  # the same interest, harmed: the conduct itself is not described
# 不得损害中国的社会公共利益 / 从事危害国家安全、社会公共利益的: the interests harmed
_FORBIDS_HARM = re.compile(r"不得(?:损害|危害)([^，。；]{1,20}?)利益")
_HARMS = re.compile(r"(?:损害|危害)([^，。；]{1,30}?)利益")
_LISTED = re.compile(r"、|和|或者|及")


def interests(phrase: str) -> frozenset[str]:
    """The interests a phrase before 利益 lists, each without whose it is (中国的社会公共
    → 社会公共; 国家安全、社会公共 → 国家安全 | 社会公共)."""
    return frozenset(p.split("的")[-1] for p in _LISTED.split(phrase) if p.split("的")[-1])


def harm_matches(pairs: Sequence[tuple[Clause, Conduct]],
                 duty_units: Mapping[str, Sequence[Duty]], named: set[str]
                 ) -> list[ConditionMatch]:
    """(duty article, penalty article, …) for each prohibition of harming an interest and
    each administrative penalty conduct of its document that harms the same one."""
    out: list[ConditionMatch] = []
    for clause, conduct in pairs:
        harmed = _HARMS.search(conduct.text)
        if conduct.sanction != "administrative" or harmed is None:
            continue
        listed = interests(harmed.group(1))
        for unit, said in duty_units.items():
            if unit in named or unit == clause.unit_id:
                continue
            for duty in said:
                forbids = _FORBIDS_HARM.search(duty.text)
                if duty.doc_id != clause.doc_id or forbids is None:
                    continue
                shared = interests(forbids.group(1)) & listed
                if shared:
                    out.append((unit, clause.unit_id, duty, conduct,
                                frozenset(terms("、".join(shared)))))
                    break
    return out


LOCKUP_CONFIDENCE = 0.85  # the duty sets the very period the penalty names
# a penalty on trading in a lock-up, and a duty that sets one: 在…期限内 / …个月内 /
# …三日内，不得转让 / 卖出 / 买卖 (the period is the 限制转让期 whatever it is called)
_IN_LOCKUP = re.compile(r"限制(?:转让|买卖|交易)期(?:限)?内")
SETS_LOCKUP = re.compile(r"内[，,]?(?:[^，。；]{0,6}[，,])?(?:也)?不得(?:再行)?(?:转让|卖出|买卖)")


def lockup_matches(pairs: Sequence[tuple[Clause, Conduct]],
                   duty_units: Mapping[str, Sequence[Duty]], named: set[str]
                   ) -> list[ConditionMatch]:
    """(duty article, penalty article, …) for each administrative penalty conduct on
    trading in a lock-up and each prohibition of its document that sets one."""
    out: list[ConditionMatch] = []
    for clause, conduct in pairs:
        if conduct.sanction != "administrative" or not _IN_LOCKUP.search(conduct.text):
            continue
        for unit, said in duty_units.items():
            if unit in named or unit == clause.unit_id:
                continue
            for duty in said:
                lockup = SETS_LOCKUP.search(duty.text)
                if duty.doc_id == clause.doc_id and duty.modality == "prohibition" and lockup:
                    out.append((unit, clause.unit_id, duty, conduct,
                                terms(lockup.group())))
                    break
    return out
