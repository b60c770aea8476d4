"""What makes a wrong grave: words of gravity, and the events a statute lists as material."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.core.documents import Document
from rag.links.duties import Duty
from rag.links.terms import terms

# how a duty words an element a crime names: a duty to disclose 重大事件 speaks of the
# 重要信息 of the crime, one to be 真实 of the 虚假 it punishes
ELEMENT_WORDS: dict[str, tuple[str, ...]] = {
    "重大": ("重要",), "真实": ("虚假", "虚伪"), "虚假": ("虚伪",)}
# what makes a wrong a crime's rather than a fine's: the information is material, the
# statement false or the fact concealed
GRAVITY = frozenset({"重要", "重大", "虚假", "虚伪", "隐瞒", "编造"})
# a statute's own list of material events (前款所称重大事件包括：（一）…（十二）…)
_LIST = re.compile(r"所称重大事件包括[：:]")
_ITEM = re.compile(r"（[一二三四五六七八九十]+）")
_NEXT_ARTICLE = re.compile(r"\n第[一二三四五六七八九十百千]+条")
# what a disclosure duty does with the event, not the event itself
_DISCLOSING = frozenset({"公告", "披露", "报送", "公布", "发布", "报告", "信息"})


def listed_events(doc: Document) -> list[frozenset[str]]:
    """The terms of each item of ``doc``'s lists of material events (公司减资、合并、
    分立、解散及申请破产的决定 → 减资 | 合并 | 分立 …), one set per item."""
    out: list[frozenset[str]] = []
    for found in _LIST.finditer(doc.text):
        rest = doc.text[found.end():]
        end = _NEXT_ARTICLE.search(rest)
        listed = rest[:end.start()] if end else rest
        out.extend(terms(item) for item in _ITEM.split(listed) if item.strip())
    return [item for item in out if item]


def about_listed_event(duty: Duty, events: Sequence[frozenset[str]]) -> bool:
    """Whether a duty is owed on an event its statute lists as material: the words
    before its modal word (上市公司分立或者被其他公司合并，应当…报告) name, in two terms
    or more, nothing but what one item lists (合并、分立). 作出公开承诺的，应当披露
    names no listed event."""
    at = duty.text.find(duty.modal)
    event = terms(duty.text[:max(at, 0)]) - _DISCLOSING
    return len(event) >= 2 and any(event <= item for item in events)


def read_as_crime(said: frozenset[str]) -> frozenset[str]:
    """A duty's terms with the words a crime uses for them (:data:`ELEMENT_WORDS`)."""
    return said | {w for t in said for w in ELEMENT_WORDS.get(t, ())}
