"""The words two provisions share: content terms of a duty or a conduct, weighted by rarity.

Terms are jieba words (search mode, so 内幕交易 also gives 内幕 and 交易) of two or more
characters, without the words every provision uses (规定, 本法, 依照, 有关 …) and
without actor names (who is bound is matched apart). A term's weight is its inverse
document frequency over the provisions it is compared among, so 保存 and 资料 weigh
more than 证券 in the Securities Law.
"""

from __future__ import annotations

import bisect
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence

from rag.index.tokenize import tokenize, word_spans
from rag.links.duties import ACTORS

# words of statutory drafting that say nothing about the conduct itself
GENERIC = frozenset(
    "规定 本法 依照 按照 依法 有关 其他 或者 以及 应当 不得 违反 可以 必须 禁止 严禁 国务院 "
    "监督 管理 监督管理 机构 人员 相关 情形 行为 单位 个人 直接 负责 主管 责任 法律 行政 "
    "法规 行政法规 部门 以上 以下 之一 下列 前款 本条 具体 办法 制度 有权 义务人 从事 进行 "
    "国家 不按 不按照 未按 未按照 情节 严重 特别 罚款 违法 所得 违法所得 造成 损失 给予 "
    "予以 及其 其他人 他人 不足 没有 的人 人民 政府 县级 证券 公司 公开 情况 已经 主管人员 "
    "责任人员 工作人员 负责人 主管 工作 投资 投资者 客户 有期徒刑 拘役 罚金 并处 单处 五年 "
    "十年 管制 数额 巨大 后果 情节严重 责令 改正 百分之 管人 责任人 任人 中华人民共和国 中华 "
    "共和国 国务 上述 尚未".split()
)
_ACTOR = re.compile("|".join(sorted(ACTORS, key=len, reverse=True)))
_CJK = re.compile(r"[\u4e00-\u9fff]{2,}")
# amounts, periods and article labels are not conduct
_AMOUNT = re.compile(
    r"[一二三四五六七八九十百千万亿两]+(?:元|倍|年|日|个月)?|.*[万亿]元|第.*|.*[条款项]")


def terms(text: str, *, keep_actors: bool = False) -> frozenset[str]:
    """The content terms of ``text`` (actor names, unless ``keep_actors``, and amounts
    taken out first)."""
    if not keep_actors:
        text = _ACTOR.sub("，", text)
    return frozenset(
        t for t in tokenize(text) if _CJK.fullmatch(t) and t not in GENERIC
        and not _AMOUNT.fullmatch(t)
    )


class Weights:
    """Inverse document frequency of terms over a set of texts (their term sets)."""

    def __init__(self, collection: Iterable[frozenset[str]]) -> None:
        counts: Counter[str] = Counter()
        self.size = 0
        for found in collection:
            counts.update(found)
            self.size += 1
        self._counts = counts

    def weight(self, term: str) -> float:
        return math.log((self.size + 1) / (self._counts.get(term, 0) + 0.5))

    def total(self, found: Iterable[str]) -> float:
        """The sum of the terms' weights, added in sorted order: a set's order changes with
        the interpreter's hash seed, and a sum that does makes a share at a threshold
        (0.6 of a weight) link on one run and not the next."""
        return math.fsum(self.weight(t) for t in sorted(found))


def spans_of(words: Sequence[str], text: str, offset: int) -> list[tuple[int, int]]:
    """Document offsets of where each word shows in ``text`` (which starts at ``offset``)
    as whole words, longest words first and without overlaps, in text order.

    A term found inside a longer word (search mode gives 作人 for 工作人员) stands for the
    whole word it is part of (内幕 → 内幕信息), never for a piece of it; an occurrence that
    is a whole word is preferred, and a word that is only ever part of a drafting word
    (工作人员) is left out.
    """
    cut = word_spans(text)
    starts = [s for _, s, _ in cut]
    ends = [e for _, _, e in cut]
    begins, finishes = set(starts), set(ends)
    taken: list[tuple[int, int]] = []

    def free(a: int, b: int) -> bool:
        return not any(x < b and a < y for x, y in taken)

    for word in sorted(words, key=len, reverse=True):
        exact = whole = None
        at = text.find(word)
        while at >= 0 and exact is None:
            a, b = at, at + len(word)
            if a in begins and b in finishes:
                exact = (a, b) if free(a, b) else None
            elif whole is None:
                a = starts[bisect.bisect_right(starts, a) - 1]
                b = ends[bisect.bisect_left(ends, b)]
                if free(a, b) and text[a:b] not in GENERIC:
                    whole = (a, b)
            at = text.find(word, at + 1)
        found = exact or whole
        if found is not None:
            taken.append(found)
    return [(offset + a, offset + b) for a, b in sorted(taken)]


_PHRASE = re.compile(r"[，,；;：:]")
_OR = re.compile(r"、|或者|以及|及其|和|及|或")
_CIRCUMSTANCE = re.compile(r"在.+时")  # 在合并、分立…时: the penalty applies only then

# a phrase of a conduct: whether it must be matched, and the term sets of its alternatives
Group = tuple[bool, list[frozenset[str]]]


def groups(text: str) -> list[Group]:
    """The terms of ``text`` by phrase (between commas), each phrase the term sets of the
    items it lists (保存、隐匿或者毁损 → 保存 | 隐匿 | 毁损), and whether it is a
    circumstance (在进行清算时) that a duty must share; phrases without terms left out."""
    out: list[Group] = []
    for phrase in _PHRASE.split(text):
        parts = [p for p in (terms(part) for part in _OR.split(phrase)) if p]
        if parts:
            out.append((bool(_CIRCUMSTANCE.search(phrase)), parts))
    return out


def distinct(found: Iterable[str]) -> set[str]:
    """Terms that are not part of another term found (债权人 counts once, not with 债权)."""
    found = set(found)
    return {t for t in found if not any(t != u and t in u for u in found)}


# verbs too general to say what a conduct is
_LIGHT_VERBS = frozenset("进行 有 存在 作 发生 影响 具有 属于 包括 使用 需要 获得 取得".split())


def verbs(text: str) -> frozenset[str]:
    """The verbs of ``text`` (jieba's part-of-speech tags v / vn), light verbs left out."""
    from jieba import posseg

    return frozenset(w for w, tag in posseg.lcut(text)
                     if tag in ("v", "vn") and len(w) > 1 and w not in _LIGHT_VERBS
                     and w not in GENERIC)


# putting property out of creditors' reach, however a duty words it: distributing it
# (分配), moving it (转移…至境外), transferring or disposing of it is one act
DISPOSALS = frozenset({"分配", "转移", "转让", "处分"})


def with_disposals(found: frozenset[str]) -> frozenset[str]:
    """``found`` with every disposal verb when it has one (:data:`DISPOSALS`)."""
    return found | DISPOSALS if found & DISPOSALS else found


def coverage(wanted: list[Group], have: frozenset[str], weights: Weights, *,
             context: frozenset[str] = frozenset()) -> tuple[float, frozenset[str]]:
    """The share of a conduct's term weight that ``have`` holds (0..1), and the shared
    terms; 0 when a circumstance the conduct names (在进行清算时) is in neither ``have``
    nor ``context`` (the rest of the duty's article). A circumstance is a condition: it
    must hold, and does not add to the share."""
    shared: set[str] = set()
    every: set[str] = set()
    for required, parts in wanted:
        found = frozenset().union(*parts)
        if required:
            if not found & (have | context):
                return 0.0, frozenset()
            continue
        every.update(found)
        shared.update(found & have)
    if not every:
        return 0.0, frozenset()
    return weights.total(shared) / weights.total(every), frozenset(shared)


_ALTERNATIVE = re.compile(r"[，,]?或者")


def alternatives(text: str) -> list[str]:
    """A conduct's alternatives (A或者B), each a conduct of its own; a side without a verb
    of its own (…资产负债表或者财产清单…) stays with the side before it."""
    pieces = _ALTERNATIVE.split(text)
    out: list[str] = []
    for piece in pieces:
        if out and not verbs(piece):
            out[-1] += "或者" + piece
        else:
            out.append(piece)
    return out
