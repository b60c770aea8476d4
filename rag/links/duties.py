"""Duty sentences: where a clause says who shall, shall not or may do what (应当 / 不得 / 可以).

A duty sentence is one sentence of an article (a lead-in ending in ： keeps its listed
items) whose words carry a modality: *prohibition* (不得, 禁止, 严禁; shall not),
*obligation* (应当, 必须, 须经; shall, must) or *permission* (可以; may). Its offsets are
into the document text, so ``document.text[start:end] == text``. A sentence that only
says who bears liability (应当承担赔偿责任) is not a duty: it is a consequence.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from rag.core.clauses import Clause

MODALITIES = ("obligation", "prohibition", "permission")

_PROHIBITION = re.compile(
    r"不得|禁止|严禁|不准|\bshall not\b|\bmust not\b|\bmay not\b|\bno person shall\b"
    r"|\b(?:is|are) (?:strictly )?prohibited\b", re.I)
_OBLIGATION = re.compile(r"应当|必须|应予|须经|须由|须向|\bshall\b|\bmust\b", re.I)
_PERMISSION = re.compile(r"可以|\bmay\b", re.I)
# English words that impose a sanction (shall be fined, is liable to, criminal liability
# shall be pursued): a consequence, not a duty (penalty provisions are found by them too)
EN_SANCTION = (
    r"\b(?:shall|must|may|will) (?:also )?be (?:fined|ordered to|punished|subject(?:ed)? to "
    r"(?:a |an )?(?:fine|penalty|sanction))|\b(?:is|are|shall be) (?:jointly )?liable (?:to|for)\b"
    r"|\bcriminal liability\b|\bimprisonment\b")
# what a breach earned is given up: …所得的收入应当归公司所有 (a consequence, not a duty)
DISGORGE = r"应当归[^，。；]{0,8}所有"
# liability, not duty: 应当（依法）承担（连带）赔偿责任 / 应当承担相应的法律责任
_LIABILITY = re.compile(
    r"(?:应当|应|须)(?:依法)?(?:与[^，。；]{1,20})?承担[^，。；]{0,8}责任|" + DISGORGE
    + r"|(?:" + EN_SANCTION + r")[^.;]*", re.I)

# Who the duty is on: named actors, longest first so 上市公司 wins over 公司.
ACTORS = (
    "证券监督管理机构", "公司登记机关", "信息披露义务人", "证券登记结算机构", "证券投资咨询机构",
    "证券服务机构", "证券交易场所", "证券交易所", "债券受托管理人", "投资者保护机构",
    "会计师事务所", "律师事务所", "基金管理人", "基金托管人", "基金服务机构",
    "私募基金管理人", "期货公司", "期货交易场所", "高级管理人员", "实际控制人", "控股股东",
    "内幕信息的知情人", "收购人", "保荐人", "承销商", "发行人", "有限责任公司",
    "股份有限公司", "上市公司", "证券公司", "发起人", "清算组", "清算义务人", "董事会",
    "监事会", "股东会", "董事", "监事", "股东", "从业人员", "传播媒介", "投资者", "公司",
)
ACTOR = re.compile("|".join(sorted(ACTORS, key=len, reverse=True)))
# who an English duty is on, as written in the singular (an 's' is allowed after it)
EN_ACTORS = (
    "listed company", "securities company", "financial institution", "stock exchange",
    "controlling shareholder", "actual controller", "senior officer", "supervisor", "director",
    "shareholder", "issuer", "insider", "investor", "auditor", "underwriter", "sponsor",
    "acquirer", "fund manager", "custodian", "commission", "institution", "company",
)
_EN_ACTOR = re.compile(
    r"\b(" + "|".join(sorted(EN_ACTORS, key=len, reverse=True)) + r")(?:s|es)?\b", re.I)
# an actor whose rules, approval or decision a text speaks of is not the one acting:
# 不符合…国务院证券监督管理机构规定的 / 经证券交易所批准
_RULE_MAKER = re.compile(r"(?:的|依法)?(?:有关)?(?:规定|批准|核准|认可|要求|决定|许可)")
_FIRST_PHRASE = re.compile(r"[^，,：:；;]*")
_PHRASE_END = re.compile(r"[，,：:；;]")
# who a phrase is about, when it starts with them: 投资者持有…时 / 由公司登记机关登记…
_LEADS = re.compile(r"(?:由|凡|但|该|各)?(?:国务院)?((?:" + ACTOR.pattern + r")"
                    r"(?:(?:、|和|及其|以及|及|或者)(?:" + ACTOR.pattern + r"))*)")
_SENTENCE_END = re.compile(r"[。！？!?]|(?<=[.;])\s+(?=[A-Z(])|\n")


@dataclass(frozen=True)
class Duty:
    """One duty sentence of a clause: ``document.text[start:end] == text``."""

    clause_id: str
    doc_id: str
    label: str  # the article: 第一百三十七条
    start: int
    end: int
    text: str
    modality: str  # obligation | prohibition | permission
    actors: tuple[str, ...]  # named before the modal word: 证券公司, 发行人 …
    modal: str  # the modal words as written: 应当, 不得, shall not


# an order asked of an authority (申请司法机关禁止其转移…财产): what the authority may order,
# not a prohibition the sentence imposes
_ASKED = re.compile(r"(?:申请|请求|提请)[^，。；：]{0,8}?(?:禁止|不得)")


def modality(sentence: str) -> tuple[str, str] | None:
    """(modality, the modal words) of a sentence, strongest first; None without one."""
    text = _LIABILITY.sub(lambda m: "\0" * len(m.group()), sentence)
    text = _ASKED.sub(lambda m: "\0" * len(m.group()), text)
    for name, pattern in (("prohibition", _PROHIBITION), ("obligation", _OBLIGATION),
                          ("permission", _PERMISSION)):
        match = pattern.search(text)
        if match:
            return name, match.group()
    return None


def actors_in(text: str) -> tuple[str, ...]:
    """The actors ``text`` names, in order, once each."""
    found: list[str] = []
    named = [(m.start(), m.group()) for m in ACTOR.finditer(text)
             if not _RULE_MAKER.match(text, m.end())]
    named += [(m.start(), m.group(1).lower()) for m in _EN_ACTOR.finditer(text)]
    for _, actor in sorted(named):
        if actor not in found:
            found.append(actor)
    return tuple(found)


# an actor's staff (证券监督管理机构的工作人员): persons, not the actor itself
_STAFF_OF = re.compile(r"的?(?:工作人员|从业人员)")


def acts_as(actor: str, text: str) -> bool:
    """Whether ``text`` names ``actor`` as one who acts: not only as the maker of rules
    or approvals (…证券监督管理机构的规定) nor as the employer of staff (证券监督管理机构的
    工作人员)."""
    return any(not _RULE_MAKER.match(text, m.end()) and not _STAFF_OF.match(text, m.end())
               for m in re.finditer(re.escape(actor), text))


def body_start(clause: Clause) -> int:
    """Where the clause's own words start (after 第X条 and its space), in clause.text."""
    text = clause.text
    if clause.label and text.startswith(clause.label):
        at = len(clause.label)
        while at < len(text) and text[at] in " \u3000\t":
            at += 1
        return at
    return 0


def sentences(clause: Clause) -> Iterator[tuple[int, int]]:
    """(start, end) of each sentence of ``clause`` in clause.text; a lead-in ending in ：
    runs to the end of the items listed after it."""
    text, at, n = clause.text, body_start(clause), len(clause.text)
    while at < n:
        match = _SENTENCE_END.search(text, at)
        end = match.end() if match else n
        if text[at:end].rstrip().endswith(("：", ":")):
            # the list of items runs while lines start with （一） / (a) / 1.
            while end < n:
                line_end = text.find("\n", end + 1)
                line_end = n if line_end < 0 else line_end
                line = text[end:line_end].strip()
                if not re.match(r"（[一二三四五六七八九十]+）|\([a-z0-9]+\)|\d+[.、]", line):
                    break
                end = line_end
        piece = text[at:end]
        lead = len(piece) - len(piece.lstrip())
        tail = len(piece.rstrip())
        if tail > lead:
            yield at + lead, at + tail
        at = end


def duties(clause: Clause) -> list[Duty]:
    """The duty sentences of one clause, in order."""
    found = []
    for start, end in sentences(clause):
        text = clause.text[start:end]
        modal = modality(text)
        if modal is None:
            continue
        # who is bound: named before the modal word in the first phrase (证券公司应当…),
        # else in that phrase (禁止证券公司及其从业人员从事…：)
        cut = text.find(modal[1])
        phrase = _FIRST_PHRASE.match(text)
        first = phrase.end() if phrase else len(text)
        subject = text[:cut] if 0 < cut <= first else text[:first]
        found.append(Duty(
            clause_id=clause.id, doc_id=clause.doc_id, label=clause.label,
            start=clause.start + start, end=clause.start + end, text=text,
            modality=modal[0], modal=modal[1],
            actors=leading_actors(text[:max(cut, 0)]) or actors_in(subject) or actors_in(text),
        ))
    return found


def leading_actors(before: str) -> tuple[str, ...]:
    """Who a duty binds, from its words before the modal word: the actors the nearest
    phrase that starts with one names (投资者持有…达到百分之五时，应当… → 投资者; not
    通过证券交易所的…, where the actor is what the phrase is done through); () when no
    phrase before the modal word starts with an actor."""
    phrases = _PHRASE_END.split(before)
    for phrase in reversed(phrases):
        match = _LEADS.match(phrase.strip())
        if match:
            return actors_in(match.group(1))
    return ()


def subject_leads(subject: str, duty: Duty) -> bool:
    """Whether the nearest phrase before a duty's modal word starts with ``subject`` (a
    doer no actor list knows: 金融机构依托第三方开展客户尽职调查的，应当… → 金融机构; not
    …，相关部门应当依法予以支持, nor 与金融机构存在业务关系的单位和个人应当…)."""
    cut = duty.text.find(duty.modal)
    for phrase in reversed(_PHRASE_END.split(duty.text[:max(cut, 0)])):
        phrase = phrase.strip()
        if phrase:
            return bool(subject) and phrase.lstrip("由凡但该各").startswith(subject)
    return False
