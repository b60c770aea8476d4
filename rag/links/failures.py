"""Penalties that name the duty whose failure they punish, by what it obliges, not by number.

A penalty paragraph may say which duty was not performed instead of citing its article:
收购人未按照本法规定履行上市公司收购的公告、发出收购要约义务的 (证券法第一百九十六条)
punishes a takeover party that does not announce or does not make the offer, whatever
article obliges it to; 公司登记机关…未履行职责或者履行职责不当的 (公司法第二百五十八条)
punishes the registrar for any duty of its own (its prohibitions too); 未依照本法规定办理
有关变更登记 the duty to register a change; 未依法登记为有限责任公司…，而冒用…名义 the
duty to register one's establishment (设立…登记), whoever poses. Such a paragraph links
the obligations (应当 / 必须: a failure to act breaches an obligation, not a prohibition)
of an actor it reaches (:func:`rag.links.model.actors_meet`; who fails in words no actor
names, 金融机构、非银行支付机构, must be the duty's own) whose words do what it names
(公告; 发出…收购…要约); a duty that only sets a policy (应当优化…、提高…) is not one a
penalty can be applied to. When the paragraph is only such a failure, nothing else is
compared: what it punishes is said by the duty it names, not by other shared words.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rag.core.clauses import Clause
from rag.links.criminal import REFERENCE
from rag.links.duties import ACTOR, Duty, acts_as
from rag.links.model import DISCLOSES, actors_meet
from rag.links.penalties import Conduct
from rag.links.terms import terms

# 未按照本法规定履行X义务 / 未履行职责 / 不履行其他法定职责 / 未按照本法规定报送有关报告或者…
_FAILURE = re.compile(
    r"(?:未|不)(?:依法|依照[^，。；]{0,12}规定|按照[^，。；]{0,12}规定)?"
    r"(?P<acts>(?:履行|报送|办理)[^，。；]*?)(?P<tail>义务|职责)?(?:不当)?(?:的(?:行为)?)?$")
# 未依法登记为有限责任公司…，而冒用有限责任公司…名义的: using a name one was not registered
# under fails the duty to register one's establishment
_NOT_REGISTERED = re.compile(r"^未(?:依法|经)?(?:登记|注册)为(?P<what>[^，,]+)[，,]而冒用")
# each status one posed as: 未依法登记为有限责任公司或者股份有限公司的分公司 → 分公司
_REGISTERED_AS = re.compile(r"(?:登记|注册)为(?:[^，,]*的)?([^，,的]+)[，,]而冒用")
# who the sanction falls on, written after the conduct: ，对负有责任的领导人员…依法
_SANCTIONED = re.compile(r"(?<=的)[，,]对[^，,]*$")
# who fails, written before 未 when it is no actor of ACTORS: 金融机构、非银行支付机构未履行…
_UNKNOWN_SUBJECT = re.compile(r"^((?!违反|未|不|在|对|其他)[^，,；。未不]{2,30}?)(?=未|不)")
_OBLIGED = re.compile(r"应当|必须|应予|须")
_ACT_SPLIT = re.compile(r"、|或者|和|及")
_DUTY_WORD = re.compile(r"^(?:履行)?(?:其他)?(?:法定|本法规定的)?(?:职责|义务)?(?:不当)?$")
# reporting and announcing: one act, however the duty words it (信息披露义务 is done by
# 公告 / 披露 / 报告 / 报送)
DISCLOSE = re.compile(r"公告|披露|报送|报告|公布|发布")
# a duty that sets a policy rather than an act: 应当优化…流程，提高…效率
_POLICY = re.compile(r"^(?:依法)?(?:进一步)?(?:优化|提高|加强|推行|提升|完善|促进|鼓励|支持)")
# a conduct done without the approval a duty requires: 擅自设立 / 未经批准 / 未经核准
_UNAUTHORISED = re.compile(r"擅自|未经(?:[^，。；]{0,12})?(?:批准|核准|许可|同意|注册)")
_APPROVAL = re.compile(r"批准|核准|许可|同意|注册|审批|申请")
# what was approved, described (经批准设立的外国公司分支机构): not an approval required
_APPROVED = re.compile(r"经[^，。；]{0,8}(?:批准|核准|许可)[^，。；]{0,6}的")
# a power and its limit (可以调整注册资本最低限额，但不得少于…): exceeding a power is not
# failing a duty (未履行职责), whoever's it is
_LIMITED_POWER = re.compile(r"可以[^。；]*[，,]但不得")
CONFIDENCE = 0.9  # the penalty names the duty's act (or every duty of its actor)


@dataclass(frozen=True)
class Failure:
    """What one penalty conduct says was not done: the acts it names (term sets), or
    none when it names any duty of its actor (未履行职责)."""

    acts: tuple[frozenset[str], ...]
    every_duty: bool
    whole: bool  # the conduct is only this failure (else it names other conduct too)
    anyone: bool = False  # whoever does it (the actors it names are a status it lacks)
    who: tuple[str, ...] = ()  # who fails it, when not an actor :data:`ACTORS` knows
    # what was to be set up, for a registration whoever poses (有限责任公司, 分公司): a
    # duty to register setting up something else (外国公司…设立分支机构) is not failed
    founded: tuple[str, ...] = ()


def failure(conduct: str) -> Failure | None:
    """The failed duty a conduct names (``None`` when it names no failure to act, or
    cites the article it enforces: that is an explicit link)."""
    if REFERENCE.search(conduct):
        return None
    subject = ACTOR.match(conduct)
    unknown = _UNKNOWN_SUBJECT.match(conduct) if subject is None else None
    who = tuple(unknown.group(1).split("、")) if unknown else ()
    text = re.sub(r"违反法律、行政法规(?:的)?规定", "", conduct[subject.end() if subject else 0:])
    text = _SANCTIONED.sub("", text)
    registered = _NOT_REGISTERED.match(text)
    if registered is not None:
        # each status and its kind (有限责任公司 is a 公司)
        founded = tuple(dict.fromkeys(
            k for what in _REGISTERED_AS.findall(conduct) for w in _ACT_SPLIT.split(what)
            for k in (w, w[-2:]) if k))
        return Failure((frozenset({"设立", "登记"}) | terms(registered.group("what")),), False,
                       True, anyone=True, founded=founded)
    match = _FAILURE.search(text.rstrip("，, "))
    if match is None or not (match.group("tail") or match.group("acts").startswith(("报送",
                                                                                     "办理"))):
        return None
    acts = []
    for item in _ACT_SPLIT.split(match.group("acts")):
        item = re.sub(r"^(?:履行)", "", item)
        item = item.split("的")[-1]  # 上市公司收购的公告 → 公告
        if _DUTY_WORD.match(item):
            continue
        # 办理 X is doing X (办理有关变更登记: registering the change), not an act of its own
        found = terms(item) - {"办理"} \
            | (frozenset({"披露"}) if DISCLOSE.search(item) else frozenset())
        if found:
            acts.append(found)
    every = not acts
    if every and match.group("tail") != "职责":
        return None  # 未履行义务 without saying which: too vague to link
    # only this failure, perhaps when something happens (公司登记事项发生变更时，未…)
    whole = match.start() == 0 or bool(re.fullmatch(r"[^，,]*时[，,]", text[:match.start()]))
    return Failure(tuple(acts), every, whole, who=who)


def performs(failed: Failure, duty: Duty, penalty_actors: tuple[str, ...]) -> frozenset[str] | None:
    """The words of ``duty`` that show it is the one ``failed`` names (empty when the
    penalty names every duty of its actor), or ``None`` when it is not."""
    modal = _OBLIGED.search(duty.text)
    if failed.every_duty and modal is None and duty.modality == "prohibition" \
            and not _LIMITED_POWER.search(duty.text):
        modal = re.search(re.escape(duty.modal), duty.text)  # 不得登记: also its duty
    if modal is None:
        return None
    act = duty.text[modal.end():]
    if _POLICY.match(act):
        return None
    if failed.anyone:
        penalty_actors = ()
        if failed.founded and not re.search(
                r"设立(?:[^，。；、]{0,4})(?:" + "|".join(map(re.escape, failed.founded)) + ")",
                duty.text):
            return None  # it sets up something other than what one posed as
    if failed.who and not any(w in duty.text[:modal.start()] for w in failed.who):
        return None  # it names who fails; this duty binds someone else
    if failed.every_duty:
        # a named actor's own duties only: the penalty says who failed (its staff's are
        # theirs: 证券监督管理机构的工作人员…不得…买卖股票)
        if penalty_actors and any(acts_as(a, duty.text)
                                  for a in set(penalty_actors) & set(duty.actors)):
            return frozenset()
        return None
    if not actors_meet(penalty_actors, duty.actors, duty.text):
        return None
    # what the duty is about: its act, and for disclosure what it says before the modal
    # word too (依照前条规定所作的公告，应当包括下列内容)
    have = terms(duty.text[:modal.start()]) | terms(act) \
        | (frozenset({"披露"}) if DISCLOSES.search(duty.text) else frozenset())
    for wanted in failed.acts:
        if "披露" in wanted and "披露" in have:
            return frozenset(w for w in terms(duty.text) if DISCLOSE.search(w))
        if wanted <= have:
            return wanted
    return None


# a duty article, the penalty article, the duty sentence, the conduct, the words shown
FailureMatch = tuple[str, str, Duty, Conduct, frozenset[str]]


def failure_matches(penalty_conducts: Mapping[str, Sequence[tuple[Clause, Conduct]]],
                    duty_units: Mapping[str, Sequence[Duty]], named: set[str]
                    ) -> list[FailureMatch]:
    """The duties (articles no penalty cites by number) each penalty conduct that names a
    failed duty punishes, per document; a penalty naming the duty's own actor (收购人)
    is the one that applies, not one that reaches it through a role (信息披露义务人)."""
    found: dict[str, list[tuple[bool, FailureMatch]]] = {}
    for doc_id, pairs in penalty_conducts.items():
        for clause, conduct in pairs:
            failed = failure(conduct.text)
            if failed is None or conduct.sanction == "civil":
                continue
            for unit, said in duty_units.items():
                if unit in named or unit == clause.unit_id:
                    continue
                for duty in said:
                    shown = performs(failed, duty, conduct.actors) \
                        if duty.doc_id == doc_id else None
                    if shown is None:
                        continue
                    direct = frozenset(conduct.actors) & set(duty.actors)
                    # the act named, or (any duty of its actor) the actor
                    found.setdefault(unit, []).append(
                        (bool(direct), (unit, clause.unit_id, duty, conduct, shown or direct)))
                    break
    return [match for made in found.values()
            for direct, match in made if direct or not any(d for d, _ in made)]


def lacks_approval(conduct: str, duty: str) -> bool:
    """Whether ``conduct`` is done without an approval (擅自…) that ``duty`` does not
    require: such a penalty enforces the duty to seek approval, not others about the
    same act (外国公司…擅自…设立分支机构 → 经批准后…登记, not …应当指定代表人)."""
    return bool(_UNAUTHORISED.search(conduct)) and not _APPROVAL.search(_APPROVED.sub("", duty))
