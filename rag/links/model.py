"""Links as plain data (a duty, the clause that enforces it, why) and the rules about who."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rag.core.clauses import Clause
from rag.core.documents import Document
from rag.core.titles import criminal_code
from rag.links.duties import Duty
from rag.links.penalties import Conduct

KINDS = ("explicit", "implicit", "criminal", "civil")

# A penalty that names a role rather than an actor binds every actor holding it.
ROLES = {
    "信息披露义务人": ("发行人", "上市公司", "公司", "收购人", "控股股东", "实际控制人",
                "董事", "监事", "高级管理人员", "基金管理人", "基金托管人"),
    "证券服务机构": ("会计师事务所", "律师事务所", "证券投资咨询机构"),
    "从业人员": ("董事", "监事", "高级管理人员"),
    "公司": ("有限责任公司", "股份有限公司", "上市公司", "清算组"),
}


@dataclass(frozen=True)
class Evidence:
    """A verbatim slice that made a link: ``documents[doc_id].text[start:end] == text``."""

    doc_id: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Link:
    """``source`` (a duty clause) is enforced by ``target`` (a penalty clause)."""

    source: str  # clause id of the duty
    target: str  # clause id of the penalty
    kind: str  # explicit | implicit | criminal | civil
    confidence: float
    evidence: tuple[Evidence, ...]
    paragraph: str = ""  # the 款 of the target that punishes it (第二款), '' for all
    via: str | None = None  # criminal: the administrative penalty clause it came through
    # where the target says what it punishes: offsets into the target's document text
    conduct: tuple[int, int] | None = None


def is_criminal_code(doc: Document) -> bool:
    """A criminal code (刑法 and its amendments): its articles define crimes, not duties."""
    return criminal_code(doc.title)


ORDER = {"explicit": 0, "implicit": 1, "criminal": 2, "civil": 3}


def ordered(links: Iterable[Link]) -> list[Link]:
    """Administrative (explicit, implicit), then criminal, then civil; surest first."""
    return sorted(links, key=lambda k: (ORDER[k.kind], -k.confidence, k.target))


def own_article(clause: Clause, said: list[Duty], found: list[Conduct]) -> list[Link]:
    """A duty and its sanction in one article: the article enforces the duty itself, with
    the sanctioned conduct as evidence (an explicit link: the law says it in place)."""
    if not said:
        return []
    return [Link(clause.unit_id, clause.unit_id, "civil" if c.sanction == "civil" else
                 "explicit", 1.0, (Evidence(clause.doc_id, c.start, c.end, c.text),),
                 paragraph=c.paragraph, conduct=(c.start, c.end))
            for c in found[:1]]


# A role the law defines by what its holder must do also covers an investor or
# shareholder a duty obliges to do it: one bound to report or announce is a 信息披露义务人
# (a 5 % holder, 证券法第六十三条), one bound in a takeover (收购) a 收购人 (an 投资者
# crossing 30 %, 第六十五条).
# a duty that reports or announces: 报告 as an act (向…报告, 作出书面报告), not a document
# the duty speaks of (无保留意见审计报告)
DISCLOSES = re.compile(r"公告|披露|报送|公布|发布|(?:向[^，。；]{1,30}|作出(?:书面)?|书面)报告")
ROLE_ACTS = {
    "信息披露义务人": (DISCLOSES, ("投资者", "股东")),
    "收购人": (re.compile(r"收购"), ("投资者", "股东")),
}


def actors_meet(penalty: Sequence[str], duty: Sequence[str], duty_text: str = "") -> bool:
    """Whether a penalty on ``penalty`` reaches a duty on ``duty`` (a duty that names no
    one binds whoever acts; a penalty that names no one punishes whoever acts); a role of
    :data:`ROLE_ACTS` reaches its holders when their duty sentence ``duty_text`` does
    its act."""
    if not penalty or not duty:
        return True
    wanted = set(penalty)
    for actor in penalty:
        wanted.update(ROLES.get(actor, ()))
        act, holders = ROLE_ACTS.get(actor, (None, ()))
        if act is not None and act.search(duty_text):
            wanted.update(holders)
    return bool(wanted & set(duty))
