"""Penalty provisions, recognised by structure: what conduct each paragraph punishes, and how.

A penalty clause is an article of a 法律责任 / 罚则 chapter, or any article whose words
impose a sanction (处…罚款, 没收违法所得, 依法追究刑事责任, 处…有期徒刑, 罚金). Each of its
paragraphs (款) is split into *conduct* segments: the words before a sanction
(…未按照规定保存有关文件和资料的) — what the paragraph punishes. Articles that only make
someone liable to pay damages (应当承担赔偿责任) are civil liability provisions.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from rag.core.clauses import Clause
from rag.links.duties import ACTOR, DISGORGE, EN_SANCTION, actors_in, body_start

_CHAPTER = re.compile(r"法律责任|罚则|处罚|(?i:\blegal liabilit|\bpenalt|\bsanctions\b)")
# words that impose a sanction; the conduct punished is written before them
SANCTION = re.compile(
    r"责令|处以|(?<![应之判])处(?:[一二三四五六七八九十百千万\d]|罚款|违法所得|非法|所|业务|买卖|"
    r"隐匿|虚报|融资)|没收|给予警告|警告|吊销|撤销[^，。；]{0,8}许可|予以取缔|取缔|"
    r"暂停[^，。；]{0,8}业务|追究[^，。；]{0,4}责任|有期徒刑|拘役|罚金|给予[^，。；]{0,4}处分|"
    r"承担[^，。；]{0,8}赔偿责任|依照[^。；]{0,40}处罚|从重处罚|" + DISGORGE + "|"
    r"应当[^，。；]{0,20}(?:退还|返还|恢复原状)|" + EN_SANCTION, re.I
)
# a sanction strong enough to make an article outside a 法律责任 chapter a penalty clause
_STRONG = re.compile(r"处以?[^。；]{0,30}罚款|有期徒刑|拘役|罚金|追究刑事责任|没收违法所得|"
                     r"(?i:" + EN_SANCTION + ")")
# what a breach earned goes to whom it wronged: 违反本法第一百八十一条至第一百八十四条规定
# 所得的收入应当归公司所有 (disgorgement: civil liability outside a penalty chapter)
_DISGORGES = re.compile(r"(?:违反|违背)[^。；]{0,60}(?:所得|获得|取得)的?(?:收入|收益)" + DISGORGE)
_CRIMINAL = re.compile(r"有期徒刑|拘役|管制|罚金|定罪处罚|(?i:\bimprisonment\b)")
# a crime punished as another article's (挪用…资金的，依照本法第二百七十二条的规定定罪处罚)
_AS_CRIME = re.compile(r"依照[^。；]{0,40}定罪处罚")
_CIVIL = re.compile(
    r"承担[^，。；]{0,8}(?:赔偿|民事)责任|应当[^，。；]{0,20}(?:退还|返还|恢复原状)|" + DISGORGE
    + r"|(?i:\bliable (?:to compensate|for (?:the )?(?:damages|losses|compensation))\b)")
_ADMIN = re.compile(r"罚款|责令|没收|警告|吊销|撤销|取缔|暂停|处分|禁止[^，。；]{0,6}从事"
                    r"|(?i:\b(?:fined?|ordered|confiscat|revok|warning))")
# what follows the conduct inside a penalty: who else is fined, amounts, aggravation
_FOLLOW_ON = re.compile(r"对直接负责|对其直接负责|没有违法所得|没有业务收入|情节较重|情节严重|"
                        r"情节特别严重|数额巨大|数额特别巨大|拒不改正|逾期不")
_ITEM = re.compile(r"\s*（[一二三四五六七八九十]+）")
_LISTS = re.compile(r"有下列[^，。；]{0,8}之一")
# an authority punishing under other articles, as the condition of more sanctions
# (国务院反洗钱行政主管部门…依照本法第五十二条至第五十四条规定对金融机构进行处罚的，还可以…)
PUNISHER = re.compile(r"依照[^。；]{0,40}处罚的[，,]")
# who imposes the sanction, written between the conduct and it: ，由公司登记机关
_AGENT = re.compile(r"[，,]?由[^，。；]*$")
# who is liable, written between the conduct and a civil sanction: …的，股东及负有责任的
# 董事、监事、高级管理人员应当(承担赔偿责任): the one who pays, not the one who acted
_LIABLE = re.compile(
    r"(?<=的)[，,](?:" + ACTOR.pattern + r"|及其|以及|及|和|、|负有责任的)+(?:应当|应)?(?:依法)?$")
# a sentence or a clause of one: up to ；。： (or . ; : and a space in English)
_PIECE = re.compile(r"(?:[^；。：\n.;:]|[.;:](?![ \t]|$))+(?:[；。：]|[.;:](?=[ \t]|$))?",
                    re.M)


@dataclass(frozen=True)
class Conduct:
    """The words before a sanction in one paragraph of a penalty clause.

    ``start``/``end`` are offsets into the document; ``actors`` the actors it names (or,
    when it names none, those of the paragraph's first conduct: 情节严重的 is still
    about the same actor).
    """

    clause_id: str
    paragraph: str  # 第一款 … ('' for a one-paragraph article)
    start: int
    end: int
    text: str
    actors: tuple[str, ...]
    sanction: str  # administrative | criminal | civil
    # the word the paragraph names its doer by when no actor list knows it (金融机构有下列
    # 情形之一的 → 金融机构); '' when it names a known actor or none
    subject: str = ""


def in_penalty_chapter(clause: Clause) -> bool:
    """Whether ``clause`` sits under a 法律责任 / 罚则 heading."""
    return any(_CHAPTER.search(p) for p in clause.path)


def is_penalty(clause: Clause) -> bool:
    """Whether ``clause`` is a penalty (or civil liability) provision."""
    if clause.kind != "article":
        return False
    if in_penalty_chapter(clause):
        return bool(SANCTION.search(clause.text))
    return bool(_STRONG.search(clause.text))


def is_crime(clause: Clause) -> bool:
    """Whether an article of a criminal code defines a crime: it sets a punishment, or
    punishes the conduct it names as another article's crime (依照…的规定定罪处罚)."""
    return is_penalty(clause) or (clause.kind == "article"
                                  and bool(_AS_CRIME.search(clause.text)))


def is_civil_liability(clause: Clause) -> bool:
    """Whether an article outside a penalty chapter says someone is liable for damages for
    conduct it describes (…致使投资者遭受损失的，…应当承担赔偿责任)."""
    return clause.kind == "article" and bool(
        re.search(r"(?:的，|, )[^。.]{0,40}(?:" + _CIVIL.pattern + ")", clause.text)
        or _DISGORGES.search(clause.text))


def paragraphs(clause: Clause) -> list[tuple[str, int, int]]:
    """(label, start, end) of each 款 of ``clause``, offsets into clause.text."""
    spans = [s for s in clause.spans if s.key.startswith("p") and "." not in s.key]
    if not spans:
        return [("", body_start(clause), len(clause.text))]
    out = []
    for span in spans:
        start = max(span.start - clause.start, 0)
        if start == 0:
            start = body_start(clause)
        out.append((span.label, start, span.end - clause.start))
    return out


def sanction_kind(text: str) -> str:
    """criminal, civil or administrative: what the sanction words of ``text`` impose."""
    if _CRIMINAL.search(text):
        return "criminal"
    if _CIVIL.search(text) and not _ADMIN.search(_CIVIL.sub("", text)):
        return "civil"
    return "administrative"


def conducts(clause: Clause, *, civil_only: bool = False) -> Iterator[Conduct]:
    """The conduct segments of a penalty clause, paragraph by paragraph.

    With ``civil_only`` (an article outside a penalty chapter), only the sentences that
    make someone liable for damages count.
    """
    text = clause.text
    for label, p_start, p_end in paragraphs(clause):
        # who the paragraph is about, for conducts that do not say (情节严重的; 其制作的文件…)
        first = _PIECE.search(text, p_start, p_end)
        first_actors = actors_in(predicate_subject(_before_sanction(first.group()))) \
            if first else ()
        subject = "" if first_actors or first is None else lead_subject(first.group())
        listing: str | None = None  # the sanction of a 有下列行为之一的 lead-in
        for piece in _PIECE.finditer(text, p_start, p_end):
            words = piece.group()
            sanction = SANCTION.search(words)
            if sanction is None:
                item = _ITEM.match(words)
                if listing is not None and item:  # （一）在法定的会计账簿以外另立会计账簿；
                    start = clause.start + piece.start() + item.end()
                    conduct = words[item.end():].rstrip("；。;.， ")
                    yield Conduct(clause.id, label, start, start + len(conduct), conduct,
                                  actors_in(conduct) or first_actors, listing,
                                  "" if actors_in(conduct) else subject)
                continue
            if PUNISHER.match(words, sanction.start()):
                continue  # X依照本法第N条规定…处罚的，还可以…: who punishes, not a conduct
            kind = sanction_kind(words[sanction.start():])
            conduct = _before_sanction(words)
            if listing is not None and _FOLLOW_ON.match(conduct):
                continue  # 有下列…行为之一，情节严重的，处…；情节特别严重的，处…：the items follow
            listing = kind if _LISTS.search(conduct) else None
            if civil_only and kind != "civil":
                continue
            if listing:  # the listed items follow; the lead-in may say what they are
                conduct = _LISTS.sub("", conduct).lstrip("的，, ")
            if len(conduct) < 2 or _FOLLOW_ON.match(conduct):
                continue
            actors = actors_in(predicate_subject(conduct))
            start = clause.start + piece.start() + max(words.find(conduct), 0)
            yield Conduct(
                clause_id=clause.id, paragraph=label, start=start, end=start + len(conduct),
                text=conduct, actors=actors or first_actors, sanction=kind,
                subject="" if actors else subject,
            )


# a paragraph's doer named by a word no actor list knows: the words it starts with, up to
# what it does (金融机构有下列情形之一的; 特定非金融机构违反本法规定的)
_LEAD_SUBJECT = re.compile(r"([\u4e00-\u9fff]{2,12}?)(?=有下列|有本法|违反|未|不|拒绝|擅自|以外|"
                           r"[、，,的]|和|或者|及)")


def lead_subject(words: str) -> str:
    """The word a penalty paragraph names its doer by when it starts with one no actor list
    knows (金融机构有下列情形之一的 → 金融机构); '' when it starts otherwise (违反本法…) or
    names who is left out (金融机构、特定非金融机构以外的单位和个人…)."""
    found = _LEAD_SUBJECT.match(words.strip())
    if found is None or "以外" in words.split("，")[0] \
            or found.group(1).startswith(("违反", "未", "不", "对", "在", "为", "有")):
        return ""
    return found.group(1)


def _before_sanction(words: str) -> str:
    """The conduct a piece punishes: its words before the sanction, without who imposes it
    (，由公司登记机关) or who pays for it (的，股东应当)."""
    sanction = SANCTION.search(words)
    if sanction is None:
        return words
    return _LIABLE.sub("", _AGENT.sub("", words[:sanction.start()].rstrip("，, ")))


def conduct_words(clause: Clause, label: str) -> str:
    """The words of one 款 of ``clause`` ('' for the whole clause) without its sanctions:
    each sentence up to its first sanction word, listed items kept."""
    kept = []
    for found, start, end in paragraphs(clause):
        if label and found != label:
            continue
        for piece in _PIECE.finditer(clause.text, start, end):
            sanction = SANCTION.search(piece.group())
            words = piece.group()[:sanction.start()] if sanction else piece.group()
            if not _FOLLOW_ON.match(words):
                kept.append(words)
    return "".join(kept)


def _subject_end(conduct: str) -> int:
    cut = 0
    for match in ACTOR.finditer(conduct):
        if match.end() <= len(conduct) * 0.6:
            cut = match.end()
    return cut


_JOINER = re.compile(r"[、，,\s]|及其|以及|或者|和|及|或|的")


def predicate_subject(conduct: str) -> str:
    """Who does it: the actors a conduct starts with (律师事务所、会计师事务所接受…的委托
    → 律师事务所、会计师事务所); else the words before :func:`predicate`, else all."""
    at = 0
    while True:
        joined = _JOINER.match(conduct, at)
        if joined and at:
            at = joined.end()
            continue
        match = ACTOR.match(conduct, at)
        if not match:
            break
        at = match.end()
    if at:
        return conduct[:at]
    cut = _subject_end(conduct)
    return conduct[:cut] if cut else conduct


def predicate(conduct: str) -> str:
    """A conduct without the description of who does it: 上市公司…的董事、监事、…股东，
    违反本法第四十四条的规定，买卖该公司股票… → 违反本法…买卖该公司股票…. The cut is
    after the last actor named in the first three fifths of the words (none: no cut)."""
    return conduct[_subject_end(conduct):]
