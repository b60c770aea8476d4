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

A penalty that cites the article it enforces and describes its doer (证券法第一百九十一条
"证券交易内幕信息的知情人或者非法获取内幕信息的人违反本法第五十三条的规定从事内幕交易的")
also enforces the general prohibition that names that doer in the same words and its act
(第五十条 "禁止证券交易内幕信息的知情人和非法获取内幕信息的人利用内幕信息从事证券交易
活动"): the cited article details it. A bare actor (证券公司违反本法第…条) describes no one.

A prohibition of harming an interest (外国公司分支机构…不得损害中国的社会公共利益) is
enforced by the penalty for harming that interest by name (第二百六十二条 "利用公司名义从事
危害国家安全、社会公共利益的严重违法行为的"): the interest is the one the penalty lists.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from rag.core.clauses import Clause
from rag.links.approvals import CONFIDENCE as APPROVAL_CONFIDENCE
from rag.links.approvals import approval_matches
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


DOER_CONFIDENCE = 0.85  # the same described doer and its act, the article it details cited
# the doer a citing penalty describes, before its reference: …的人违反本法第五十三条的规定
DESCRIBED = re.compile(r"^(?P<doer>[^，。；]{4,60}?的[^，。；]{0,6}?(?:人|人员|机构))"
                        r"(?:违反|依照)本法")


def doer_matches(pairs: Sequence[tuple[Clause, Conduct]],
                 duty_units: Mapping[str, Sequence[Duty]], named: set[str]
                 ) -> list[ConditionMatch]:
    """(duty article, penalty article, …) for each administrative penalty conduct that
    cites an article and describes its doer, and each prohibition of its document that
    names every doer it describes, word for word, and shares a term of its act."""
    out: list[ConditionMatch] = []
    for clause, conduct in pairs:
        described = DESCRIBED.match(conduct.text)
        if conduct.sanction != "administrative" or described is None:
            continue
        doers = [d for d in _LISTED.split(described.group("doer")) if len(d) >= 4]
        act = terms(REFERENCE.sub("", conduct.text[described.end("doer"):]))
        for unit, said in duty_units.items():
            if unit in named or unit == clause.unit_id:
                continue
            for duty in said:
                if duty.doc_id != clause.doc_id or duty.modality != "prohibition" \
                        or not doers or not all(d in duty.text for d in doers):
                    continue
                shared = act & terms(duty.text)
                if shared:
                    out.append((unit, clause.unit_id, duty, conduct, shared))
                    break
    return out


def wrong_matches(pairs: Sequence[tuple[Clause, Conduct]],
                  duty_units: Mapping[str, Sequence[Duty]], named: set[str]
                  ) -> list[tuple[float, ConditionMatch]]:
    """Every match of the rules above for one document's penalty conducts, each with
    its confidence."""
    rules = ((condition_matches, CONFIDENCE), (harm_matches, HARM_CONFIDENCE),
             (lockup_matches, LOCKUP_CONFIDENCE), (doer_matches, DOER_CONFIDENCE),
             (approval_matches, APPROVAL_CONFIDENCE))
    return [(confidence, match) for rule, confidence in rules
            for match in rule(pairs, duty_units, named)]
