"""How a penalty words the wrongs it punishes: restated to say who pays, listed one by one."""

from __future__ import annotations

import re
from collections.abc import Mapping

from rag.core.clauses import Clause
from rag.core.documents import Document
from rag.links.penalties import conducts
from rag.links.terms import terms, verbs

# how a penalty lists the wrongs it punishes alike (擅自设立证券公司、非法经营证券业务或者
# 未经批准以证券公司名义开展证券业务活动): each may be a crime of its own
_CLAUSE = re.compile(r"[，；]")
_ALTERNATIVE = re.compile(r"、|或者")
# a failure to do what it names (未报送、提供…资料 / 未…或者履行…义务): no crime of doing it
# (未经批准 is doing it without leave)
_OMISSION = re.compile(r"未(?!经)|不(?:按照|依照|依法|履行)|拒不|拒绝")
# how a wrong starts: with its act (挪用, 擅自设立, 非法经营, 将…归入), not with a noun
# (期货结算机构 in a list of who is punished, 业务许可 in one of what was obtained)
_ACT_TAGS = ("v", "vn", "d", "ad", "p", "b", "l")


# doing it without leave (未经批准, 未经国家有关主管部门批准): the leave is the regulator's
# act, not the doer's
_WITHOUT_LEAVE = re.compile(r"未经[^，。；]{0,16}?(?:批准|核准|许可|同意)")


def alternatives(words: str, whole: frozenset[str]
                 ) -> list[tuple[frozenset[str], frozenset[str]]]:
    """(terms, acts) of each wrong a penalty's conduct lists (擅自设立证券公司 / 挪用客户的
    资金和证券) that starts with its act, has two terms or more, is not the whole
    (``whole``) and is not part of a failure to act (未按照规定报送、提供… / 未…或者履行
    …义务); its acts are its verbs but for any leave it lacked (未经批准)."""
    from jieba import posseg

    pieces: dict[frozenset[str], frozenset[str]] = {}
    for clause in _CLAUSE.split(words):
        if _OMISSION.search(clause):
            continue
        for piece in _ALTERNATIVE.split(clause):
            first = next(iter(posseg.lcut(piece.strip())), None)
            found = terms(piece)
            if first is not None and first.flag in _ACT_TAGS and len(found) >= 2 \
                    and found != whole:
                act = _WITHOUT_LEAVE.sub("", piece)  # 非法经营 is one word (an idiom, l)
                pieces.setdefault(found, verbs(act) | {
                    w for w, tag in posseg.lcut(act) if tag == "l" and w in found})
    return list(pieces.items())


def restated(clause: Clause, span: tuple[int, int], paragraph: str,
             documents: Mapping[str, Document]) -> str:
    """The words of the conduct at ``span`` of a penalty clause, or of the one it restates
    to say who is fined what (对提交虚假材料…的公司，处以… restates 虚报注册资本、提交虚假
    材料…取得公司登记的): an earlier conduct of its paragraph with every term of it."""
    said = documents[clause.doc_id].text[slice(*span)]
    found = terms(said)
    for conduct in conducts(clause):
        if conduct.end > span[0]:
            break
        if conduct.paragraph == paragraph and found and found <= terms(conduct.text) \
                and conduct.text != said:
            return conduct.text
    return said
