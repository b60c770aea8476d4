"""Duties that name a wrong as their condition, linked to the penalty for that wrong.

An article may say what follows a wrong without forbidding it in so many words:
公司法第三十九条 "虚报注册资本、提交虚假材料或者采取其他欺诈手段隐瞒重要事实取得公司设立
登记的，公司登记机关应当…予以撤销". The wrong it names is the one 第二百五十条 fines
("虚报注册资本、提交虚假材料或者采取其他欺诈手段隐瞒重要事实取得公司登记的"): the article
is enforced by that penalty against the wrongdoer, whoever its own sentence binds. A
penalty conduct links such a duty when the duty's condition (its words before …的，)
has every term of the conduct, four at least: the same wrong, not a resemblance.
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
