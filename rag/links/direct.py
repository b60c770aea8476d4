"""Crimes compared with the acts a prohibition forbids, or the duty it names, directly.

For a prohibition no administrative penalty enforces (or only a civil one, or one that
names its acts only by citing it: :func:`by_reference`), the crime is found from the
prohibited act itself (挪用公司资金 → 挪用资金罪) or from the duty the
sentence names and a crime names the breach of (负有忠实义务 → 违背对公司的忠实义务). A
wrong any duty names as its condition (股东有虚假出资、抽逃出资行为的，…应当责令…) is
compared the same way, as done by those it names, however the duty is enforced.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace

from rag.core.clauses import Clause
from rag.core.documents import Document
from rag.links.criminal import REFERENCE, CrimeMatcher, crime_link, doers_meet
from rag.links.duties import ACTOR, Duty, actors_in
from rag.links.model import Link
from rag.links.penalties import Conduct
from rag.links.terms import terms, verbs


def direct_links(matcher: CrimeMatcher, duty_units: Mapping[str, Sequence[Duty]],
                 made: Sequence[Link], *, clauses: Sequence[Clause], row_of: Mapping[str, int],
                 documents: Mapping[str, Document]) -> list[Link]:
    """Crimes for prohibitions no administrative penalty enforces in words of its own
    (``made``: the document's links; enforced only civilly, by reference or not at all),
    compared with the prohibited acts themselves (:func:`direct_matches`), or, for a duty
    nothing administrative enforces, with the duty it names (:func:`breached_duties`);
    and for any duty, the wrong it names as its condition (:func:`wrongs_of`)."""
    worded = {k.source for k in made if k.kind != "civil" and k.source != k.target
              and not by_reference(k, documents)}
    cited = {k.source for k in made if k.kind != "civil" and k.source != k.target}
    units = {u: d for u, d in duty_units.items() if u not in worded}
    found = direct_matches(matcher, duty_units, named_only=worded)
    made_crimes = {(unit, crime.clause_id) for unit, crime, _, _ in found}
    found += [m for m in breached_duties(matcher, {
        u: d for u, d in units.items() if u not in cited}) if (m[0], m[1].clause_id)
        not in made_crimes]
    return [crime_link(unit, crime, shared, DIRECT_CONFIDENCE * score, clauses=clauses,
                       row_of=row_of, documents=documents)
            for unit, crime, score, shared in found]


# a penalty that names what it punishes only by the article it cites (有本法第二十条所列行为
# 之一的; 有第七十八条损害交易者利益行为的) punishes the acts that article lists: they are
# compared with the crimes themselves, its own words name none
_HAS = re.compile(r"有(?:本法)?$")
_ITS_ACTS = re.compile(r"(?:规定的|所列|规定)?[^，。；]{0,12}?行为")


def by_reference(link: Link, documents: Mapping[str, Document]) -> bool:
    """Whether an explicit link's penalty names the duty's acts only by citing it: 有本法
    第二十条所列行为之一的, or a conduct that, the reference aside, says no act of its own
    (基金管理人的股东、实际控制人违反本法第二十三条规定的: only who; not 证券公司承销证券
    违反本法第二十九条规定的, nor …违反本法第四十二条的规定买卖证券的)."""
    if link.kind != "explicit" or not link.evidence:
        return False
    cited = link.evidence[0]
    text = documents[cited.doc_id].text
    if _HAS.search(text[max(0, cited.start - 3):cited.start]) \
            and _ITS_ACTS.match(text, cited.end):
        return True
    if link.conduct is None:
        return False
    own = ACTOR.sub("", REFERENCE.sub("", text[slice(*link.conduct)]))
    return len(terms(own)) < 2 and not verbs(own)


def by_force(matcher: CrimeMatcher, crime: Conduct) -> bool:
    """Whether every act of a crime's paragraph is done by force (:data:`FORCE`)."""
    return all(FORCE.search(c.text) for c in matcher.crimes
               if (c.clause_id, c.paragraph) == (crime.clause_id, crime.paragraph))


# how 刑法 words a conduct a regulatory statute words otherwise: a crime's words are
# also read as these (非法占为己有 is 侵占; 本单位财物 are 财产; 收受他人财物 is 收受…收入)
CRIME_SYNONYMS: dict[str, tuple[str, ...]] = {
    "占为己有": ("侵占",), "财物": ("财产", "收入"), "营业": ("业务",)}
# the circumstance every crime in office names (利用职务上的便利): not its conduct
_IN_OFFICE = re.compile(r"利用(?:职务|职权)(?:上的)?(?:便利)?")
_ITEM = re.compile(r"（[一二三四五六七八九十]+）")
_PIECE_SPLIT = re.compile(r"、|或者|；|\n")
DIRECT_MIN = 0.6  # share of a prohibited act's term weight the crime must have
DIRECT_CONFIDENCE = 0.8
# a crime done by force (以暴力、威胁手段，实施下列行为之一：…强迫他人…收购…股份): not that of
# the act a duty forbids unless it speaks of force too; force in one listed act only
# (以…胁迫…获取商业秘密) is that act's, not the others' (披露…商业秘密)
FORCE = re.compile(r"暴力|威胁|胁迫|强迫")


def prohibited_acts(duty: Duty) -> list[str]:
    """What a prohibition forbids, act by act: each listed item (（一）侵占公司财产、挪用
    公司资金) and each alternative of it, else the words after the modal word."""
    at = duty.text.find(duty.modal)
    if at < 0:
        return []
    said = duty.text[at + len(duty.modal):]
    if re.search(r"情形|情况", _ITEM.split(duty.text)[0]):
        said = _ITEM.split(said)[0]  # 有下列情形之一的，不得担任…：its items are not acts
    parts = _ITEM.split(said)  # the lead-in (不得有下列行为：) and its items, if any
    items = [i for i in parts[1:] if i.strip()] if len(parts) > 1 else parts
    out: list[str] = []
    for item in items:
        item = _IN_OFFICE.sub("", item).strip("：:；;。，, \n")
        pieces = [p for p in _PIECE_SPLIT.split(item) if p.strip()]
        out.extend(pieces if len(pieces) > 1 else [item])  # each alternative on its own
    return out


def as_written(shared: frozenset[str], words: str) -> frozenset[str]:
    """Shared terms as the crime writes them (侵占 → 占为己有), to show as its evidence."""
    return frozenset(w for t in shared for w in (
        [t] if t in words else [k for k, v in CRIME_SYNONYMS.items() if t in v and k in words]))


def objects(act: str) -> frozenset[str]:
    """The nouns of an act (what it is done to: 资金, 财产, 秘密, 业务), else the word it
    ends on (收受其他非法收入 → 非法收入: a verb comes before its object), a verbal noun
    after another word too (抽逃出资 → 出资)."""
    from jieba import posseg


    words = [(w, tag) for w, tag in posseg.lcut(act) if len(w) > 1]
    found = frozenset(w for w, tag in words if tag.startswith("n"))
    # a last word that is a verb (非法买卖, 提供) names no object: the act has none; a
    # verbal noun after another word is what is done (抽逃出资, 虚假出资: the contribution)
    if found or not words:
        return found
    last, tag = words[-1]
    thing = (tag == "vn" and len(words) > 1) or (not tag.startswith("v") and not verbs(last))
    return frozenset({last}) if thing else frozenset()


# a sentence saying what a word means (前款所称期货市场禁入，是指…不得进行期货交易…的制度):
# its 不得 describes what the word names, it forbids no act a crime could be
DEFINITION = re.compile(r"^(?:前款|本条|本法|本章|本条例)?所称[^，。；]{1,30}?，?是指")
# a verb that only says an act is done (从事内幕交易, 进行…交易): the act is its object's
_THROUGH = re.compile(r"^(?:从事|进行|实施)")


def done_through(act: str, wanted: frozenset[str]) -> frozenset[str]:
    """The act of a verbless act done through a light verb (从事内幕交易 → 交易: the word
    its object ends on), else none."""
    return frozenset(w for w in wanted if act.endswith(w)) if _THROUGH.match(act) \
        else frozenset()


def manner(act: str) -> frozenset[str]:
    """The adverbs of an act (擅自, 直接): how it is done, not what is done."""
    from jieba import posseg

    return frozenset(w for w, tag in posseg.lcut(act) if tag in ("d", "ad") and len(w) > 1)


def covered_by(wanted: frozenset[str], have: frozenset[str]) -> frozenset[str]:
    """The terms of ``wanted`` that ``have`` has, a compound of two of them too (非法收入
    when it has 非法 and 收入)."""
    shared = wanted & have
    return shared | {t for t in wanted - shared
                     if any(t.startswith(a) and t[len(a):] in shared for a in shared)}


# a wrong a duty names as its condition, done by whom: 证券公司的股东有虚假出资、抽逃出资
# 行为的，国务院证券监督管理机构应当责令其限期改正 (the regulator's duty; the shareholders' wrong)
_WRONG_DONE = re.compile(r"([^，。；]{2,30}?)有([^，。；]{2,30}?)行为的，")


def wrongs_of(duty: Duty, *, named_only: bool = False) -> list[tuple[Duty, str]]:
    """(whose, act) of each act a duty sentence forbids (:func:`prohibited_acts`; not with
    ``named_only``) and of each wrong it names as its condition (…的股东有虚假出资、抽逃出资
    行为的，: the duty read as binding those the condition names, whoever enforces it)."""
    out = [] if named_only or duty.modality != "prohibition" or DEFINITION.match(duty.text) \
        else [(duty, act) for act in prohibited_acts(duty)]
    for match in _WRONG_DONE.finditer(duty.text):
        whose = replace(duty, actors=actors_in(match.group(1)))
        out.extend((whose, p) for p in _PIECE_SPLIT.split(match.group(2)) if p.strip())
    return out


def direct_matches(matcher: CrimeMatcher, duty_units: Mapping[str, Sequence[Duty]], *,
                   named_only: Collection[str] = ()
                   ) -> list[tuple[str, Conduct, float, frozenset[str]]]:
    """(duty article, crime, score, shared terms) for prohibitions compared with the
    crimes directly: an act whose terms the crime has (≥ :data:`DIRECT_MIN` of their
    weight, two terms, a verb of the act), by a doer it names (or names none), the
    crime naming a doer that meets preferred."""

    if not matcher.crimes:
        return []
    table, weights = matcher._crime_table()
    read = [(crime, have | {w for t in have for w in CRIME_SYNONYMS.get(t, ())})
            for crime, have in table]
    out: list[tuple[str, Conduct, float, frozenset[str]]] = []
    for unit, said in duty_units.items():
        found: dict[Conduct, tuple[float, frozenset[str]]] = {}
        only = unit in named_only
        for duty, act in [pair for d in said for pair in wrongs_of(d, named_only=only)]:
            wanted = terms(act) - manner(act)  # 擅自披露: 披露
            acts = verbs(act) or done_through(act, wanted)
            things = objects(act) - {"公司"}  # what it is done to (公司资金: 本单位资金)
            if len(wanted) < 2 or not acts or not things & wanted:
                continue
            total = weights.total(wanted)
            best: tuple[tuple[bool, float], Conduct, frozenset[str]] | None = None
            for crime, have in read:
                if by_force(matcher, crime) and not FORCE.search(duty.text):
                    continue
                shared = covered_by(wanted, have)
                named = sum(t in shared or t in have or t in matcher.words[crime]
                            for t in things)
                if len(shared) < 2 or not shared & acts or 3 * named < 2 * len(things):
                    continue  # it must be done to what the crime names (two thirds)
                covered = weights.total(shared) / total
                doers = matcher._doers[crime]
                if covered < DIRECT_MIN or not doers_meet(doers, [duty]):
                    continue
                rank = (bool(doers), covered)
                if best is None or rank > best[0]:
                    best = (rank, crime, shared)
            if best is not None and best[0][1] > found.get(best[1], (0.0,))[0]:
                found[best[1]] = (best[0][1], best[2])
        out.extend((unit, crime, score, as_written(shared, matcher.words[crime]))
                   for crime, (score, shared) in found.items())
    return out


# a duty a statute names (董事…对公司负有忠实义务) and the crime of breaching it by name
# (上市公司的董事…违背对公司的忠实义务: 刑法第一百六十九条之一)
_OWED = re.compile(r"负有(?:对[^，。；]{1,8}?的?)?([\u4e00-\u9fff]{2})义务")
_BREACHED = re.compile(r"(?:违背|违反)(?:对[^，。；]{1,8}?的?)?([\u4e00-\u9fff]{2})义务")
# a duty a sentence imposes by name (应当依照《证券法》的规定履行信息披露义务), or by its
# act (上市公司应当依照法律、行政法规的规定披露相关信息: a duty to disclose information) …
_PERFORMED = re.compile(r"履行[^，。；]{0,8}?([\u4e00-\u9fff]{2})义务"
                        r"|应当[^，。；]{0,16}?(披露)[^，。；]{0,6}信息")
# … and a crime whose doer is the holder of that duty (依法负有信息披露义务的公司、企业…不按照
# 规定披露: 刑法第一百六十一条), its failure the crime
_HOLDER = re.compile(r"^(?:依法)?负有[^，。；]{0,8}?([\u4e00-\u9fff]{2})义务的")


def breached_duties(matcher: CrimeMatcher, duty_units: Mapping[str, Sequence[Duty]]
                    ) -> list[tuple[str, Conduct, float, frozenset[str]]]:
    """(duty article, crime, score, shared terms) where a duty sentence names the duty it
    owes or imposes (负有忠实义务; 履行信息披露义务) and a crime names its breach (违背…
    忠实义务) or is its holder's (依法负有信息披露义务的公司、企业…), by a doer the crime
    names that the sentence binds; a crime naming no doer (违反保密义务, anyone's) is
    not linked this way."""
    if not matcher.crimes:
        return []
    table, _ = matcher._crime_table()
    out: dict[tuple[str, Conduct], frozenset[str]] = {}
    for unit, said in duty_units.items():
        for duty in said:
            owed = {m.group(1) for m in _OWED.finditer(duty.text)}
            performed = {m.group(1) or m.group(2) for m in _PERFORMED.finditer(duty.text)} \
                if duty.modality == "obligation" else set()
            for crime, _ in table if (owed or performed) and duty.actors else ():
                words = matcher.words[crime]
                named = {m.group(1) for m in _BREACHED.finditer(words)} & owed \
                    | {m.group(1) for m in _HOLDER.finditer(words)} & (owed | performed)
                doers = matcher._doers[crime]
                if named and doers and doers_meet(doers, [duty]):
                    out.setdefault((unit, crime), frozenset({*named, "义务"}))
    return [(unit, crime, 1.0, shared) for (unit, crime), shared in out.items()]
