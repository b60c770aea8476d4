"""Penalties for obtaining by fraud an approval, linked to the duties that require it.

证券法第二百零三条 "提交虚假证明文件或者采取其他欺诈手段骗取证券公司设立许可、业务许可或者
重大事项变更核准的" punishes a wrong of its own: not the unapproved act (第二百零二条, which
cites 第一百一十八条), but cheating the approval the duty requires. It enforces every
duty sentence of its document that requires that approval — the regulator's leave for
the act the approval is named by (经…批准 设立证券公司; 经…核准 to do 证券业务; 变更…应当
经…核准) — of the one the approval is for (证券公司), whether or not another penalty cites
the article: the fraud is another wrong than acting without leave. A duty to apply for a
licence (申请经营证券业务许可证) requires no approval of its own words; the regulator's
duty to decide (作出批准或者不予批准的决定) is not the applicant's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from rag.core.clauses import Clause
from rag.links.duties import ACTOR, Duty
from rag.links.penalties import Conduct

CONFIDENCE = 0.85  # the approval's act and holder named, the duty requiring it
# what was obtained by fraud: 骗取证券公司设立许可、业务许可或者重大事项变更核准
_CHEATED = re.compile(r"骗取(?P<what>[^，。；]+?)(?:的|$)")
_ITEM = re.compile(r"、|或者|和")
# an approval, by the word it ends on; what comes before says for what (设立, 业务, 变更)
_APPROVAL = re.compile(r"(?P<act>[\u4e00-\u9fff]{2})(?:许可证|许可|核准|批准|注册)$")
# a duty that requires the regulator's leave: (并)经…批准 / 应当经…核准 (未经…批准 too:
# the prohibition of acting without it); not 经批准设立的 (what was approved, described),
# nor 经营…许可证 (a word with 经 in it)
_REQUIRES = re.compile(
    r"经(?!营|济|纪|常)[^，。；：]{0,20}?(?:批准|核准|许可)(?![^，。；：]{0,6}的)")

# a duty article, the penalty article, the duty sentence, the conduct, the words shown
ApprovalMatch = tuple[str, str, Duty, Conduct, frozenset[str]]


def approvals(conduct: str) -> list[tuple[str, tuple[str, ...]]]:
    """(act, holders) of each approval a conduct says was obtained by fraud: the act the
    approval is named by (设立许可 → 设立; 重大事项变更核准 → 变更) and whom it is for
    (证券公司: every item's, when one names it; else who cheated: 期货公司…骗取)."""
    found = _CHEATED.search(conduct)
    if found is None:
        return []
    holders = tuple(dict.fromkeys(ACTOR.findall(found.group("what"))
                                  or ACTOR.findall(conduct[:found.start()])))
    out = []
    for item in _ITEM.split(found.group("what")):
        approval = _APPROVAL.search(item.strip())
        if approval is not None:
            out.append((approval.group("act"), holders))
    return out


def approval_matches(pairs: Sequence[tuple[Clause, Conduct]],
                     duty_units: Mapping[str, Sequence[Duty]], named: set[str]
                     ) -> list[ApprovalMatch]:
    """(duty article, penalty article, …) for each administrative penalty conduct that
    punishes obtaining an approval by fraud, and each duty sentence of its document that
    requires that approval for that act of its holder (cited by another penalty or not:
    ``named`` is not consulted)."""
    out: list[ApprovalMatch] = []
    for clause, conduct in pairs:
        cheated = approvals(conduct.text) if conduct.sanction == "administrative" else []
        for unit, said in duty_units.items() if cheated else ():
            if unit == clause.unit_id:
                continue
            for duty in said:
                required = _REQUIRES.search(duty.text)
                if duty.doc_id != clause.doc_id or required is None:
                    continue
                acts = [act for act, holders in cheated if act in duty.text
                        and (not holders or any(h in duty.text for h in holders))]
                if acts:
                    out.append((unit, clause.unit_id, duty, conduct,
                                frozenset({*acts, required.group()[-2:]})))
                    break
    return out
