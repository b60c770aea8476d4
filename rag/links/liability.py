"""Civil liability a statute states for a role's duties in their own chapter, and ranges.

Chinese statutes enforce the duties of an office (董事、监事、高级管理人员的忠实、勤勉义务)
less by fines than by liability written beside them: a general clause that whoever holds
the role and breaches the law in office pays the company's loss (公司法第一百八十八条
"董事、监事、高级管理人员执行职务违反法律、行政法规或者公司章程的规定，给公司造成损失的，
应当承担赔偿责任"), and disgorgement of what a breach earned (第一百八十六条 "违反本法第一
百八十一条至第一百八十四条规定所得的收入应当归公司所有"). Such a general clause names no
conduct, only a breach; it applies to the obligations and prohibitions of that role in
the chapter it is written in (a duty that binds only actors it names). A liability that
names only the office (执行职务，给他人造成损害的) says nothing about which duty, and is
not compared word by word. A reference "第A条至第B条" cites every article from A to B.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from itertools import pairwise

from rag.core.clauses import Clause
from rag.core.numbering import article_label, cn_to_int
from rag.links.duties import Duty
from rag.links.penalties import Conduct, predicate

CONFIDENCE = 0.9  # the clause names the role and a breach of any of its duties
_NORM = r"(?:法律|行政法规|公司章程|本法|章程|国家有关|国务院[^，。；、]{0,12})"
# 执行职务违反法律、行政法规或者公司章程的规定 / 执行职务 (in office) / nothing more
_GENERIC = re.compile(
    r"^(?:在)?(?:执行(?:公司)?职务|履行职责)?(?:时)?[，,]?"
    r"(?P<breach>(?:违反|不遵守)" + _NORM + r"(?:(?:、|或者|和|及|以及)" + _NORM + r")*"
    r"的?(?:有关)?规定)?$")
# harm any breach can do, which names no conduct: 给公司造成损失的 / 致使…遭受损失的
HARM = re.compile(r"[，,]?(?:给|致使)[^，。；]{0,30}(?:造成|遭受)[^，。；]{0,6}(?:损失|损害)的?")
_TAIL = re.compile(r"[，,]?(?:应当|应)?(?:依法)?$")
_CHAPTER = re.compile(r"第[一二三四五六七八九十百零]+章")
_RANGE = re.compile(r"^(?:至|到)$")
# a duty owed on another's request (股东会要求…列席会议的，…应当列席并接受股东的质询):
# owed to whoever asks, to account to them, not a way of conducting the company's business
ON_REQUEST = re.compile(r"要求[^。；，]{0,40}的[，,]")

# a duty article, the liability article, the duty sentence, the conduct, the words shown
BreachMatch = tuple[str, str, Duty, Conduct, frozenset[str]]


def generic(conduct: str) -> str | None:
    """'breach' when a conduct names only a breach of the law in office (执行职务违反
    法律…的规定), 'office' when only the office (执行职务), else ``None`` (it names a
    conduct)."""
    said = _TAIL.sub("", HARM.sub("", predicate(conduct)).strip())
    match = _GENERIC.match(said)
    if match is None or not said:
        return None
    return "breach" if match.group("breach") else "office"


def chapter(clause: Clause) -> str | None:
    """The 章 heading a clause sits under, if any."""
    return next((p for p in clause.path if _CHAPTER.match(p)), None)


def breach_matches(pairs: Sequence[tuple[Clause, Conduct]],
                   duty_units: Mapping[str, Sequence[Duty]],
                   chapter_of: Callable[[str], str | None]) -> list[BreachMatch]:
    """The duties a general civil liability of a role (:func:`generic` 'breach') covers:
    each obligation or prohibition, in the liability's chapter, binding only actors the
    liability names; the actors are the words shown."""
    out: list[BreachMatch] = []
    for clause, conduct in pairs:
        if conduct.sanction != "civil" or not conduct.actors \
                or generic(conduct.text) != "breach":
            continue
        where = chapter(clause)
        if where is None:
            continue
        for unit, said in duty_units.items():
            if unit == clause.unit_id or chapter_of(unit) != where:
                continue
            for duty in said:
                if duty.modality in ("obligation", "prohibition") and duty.actors \
                        and set(duty.actors) <= set(conduct.actors) \
                        and not ON_REQUEST.search(duty.text[:duty.text.find(duty.modal)]):
                    out.append((unit, clause.unit_id, duty, conduct, frozenset(duty.actors)))
                    break
    return out


def with_ranges(clause: Clause, mentions: Sequence[tuple[int, int, int]],
                clauses: Sequence[Clause], rows: Mapping[tuple[str, str], int]
                ) -> list[tuple[int, int, int]]:
    """``mentions`` (row, start, end in clause.text) and every article between two that
    a 至 joins (第一百八十一条至第一百八十四条 → 182, 183), spanning the range's words."""
    out = list(mentions)
    ordered = sorted(mentions, key=lambda m: m[1])
    for (first, start, end), (last, begin, stop) in pairwise(ordered):
        if not _RANGE.match(clause.text[end:begin]):
            continue
        low, high = clauses[first], clauses[last]
        if low.doc_id != high.doc_id:
            continue
        try:
            lo, hi = (cn_to_int(c.label.removeprefix("第").removesuffix("条"))
                      for c in (low, high))
        except ValueError:
            continue
        for number in range(lo + 1, min(hi, lo + 50)):
            row = rows.get((low.doc_id, article_label(str(number))))
            if row is not None:
                out.append((row, start, stop))
    return out
