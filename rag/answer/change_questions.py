"""Questions about change: "公司法修订后股东出资期限有什么变化？", "What changed in …?".

A change question has change wording (:data:`CHINESE`, :data:`ENGLISH`: 有什么变化,
修订前后, 与2018年版相比, what changed, how has … changed, differences between …) and is
about versions: it names a law the index holds in more than one version, or says so
(:data:`VERSION_WORDS`: 修订, 新旧, 2018年, amended, version …). "内幕交易和操纵市场有什么
区别？" is not one. It is answered from the laws with more than one version — the one it
names, else all of them — by searching for what it asks about (the question without its
change wording) and quoting each article found in its current version, followed by the
earlier version it replaced (:mod:`rag.answer.compose` does the quoting).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from rag.core.filters import Filters
from rag.search import Index, Query, prepare
from rag.search.named import named_documents

# Chinese change wording; each pattern is removed from the question before searching.
CHINESE = (
    r"(?:有|发生了?|作了|做了|进行了)?(?:什么|哪些|何种|何)(?:新的)?(?:变化|变动|改变|改动|修改|调整|不同|区别)",
    r"(?:改|变|修改|修订|调整)了(?:什么|哪些|些什么)",
    r"(?:修订|修改|修正)(?:前后|后)(?:的)?(?:对比|对照|比较)?",
    r"(?:新旧|前后)(?:版本|条文|规定)?(?:对比|对照|比较|变化|区别|差异)",
    r"(?:与|和|跟|较)(?:旧法|原法|修订前|修改前|\d{4}年版?(?:本)?)(?:相比|比较|对比)?",
    r"(?:变化|区别|差异)(?:是什么|在哪里?|有哪些)",
)
ENGLISH = (
    r"\bwhat(?:'s| has| have)? changed\b(?:\s+(?:in|about|for))?",
    r"\bhow (?:has|have|did|do|does) (?=.{0,80}\bchange)",
    r"\b(?:changed?|changes|amended|amendments?|revised|revisions?)\b"
    r"(?=.{0,60}\b(?:since|from|after|between|compared|version|revision|amendment)\b)",
    r"\bdifferences? between\b",
    r"\bcompared? (?:with|to)\b",
    r"\bchanges? (?:to|in|made to)\b",
)
# Words that say a question is about versions, when it names no law with versions.
VERSION_WORDS = re.compile(
    r"修订|修改|修正|新法|旧法|原法|新版|旧版|版本|新旧|\d{4}\s*年|"
    r"\b(?:amend\w*|revis\w*|versions?|old law|new law|\d{4})\b", re.IGNORECASE)
_CHINESE = re.compile("|".join(CHINESE))
_ENGLISH = re.compile("|".join(ENGLISH), re.IGNORECASE)
_LEFT_OVER = re.compile(r"^[\s，,。.?？!！:：;；]+|[\s，,。?？!！:：;；]+$")


@dataclass(frozen=True)
class ChangeQuestion:
    """A question about change: what to search for, and in which documents."""

    asked: str
    search: str  # the question without its change wording
    doc_ids: frozenset[str]  # every version of the laws it is about


def has_change_wording(question: str) -> bool:
    """Whether ``question`` uses change wording (有什么变化, what changed …)."""
    return bool(_CHINESE.search(question) or _ENGLISH.search(question))


def without_change_words(question: str) -> str:
    """``question`` with its change wording removed (what is left is searched)."""
    text = _ENGLISH.sub(" ", _CHINESE.sub(" ", question))
    text = re.sub(r"\s*([，,。；;：:])[\s，,。；;：:]*", r"\1", re.sub(r"\s+", " ", text))
    return _LEFT_OVER.sub("", text).strip() or question.strip()


def change_question(question: str, *, index: Index) -> ChangeQuestion | None:
    """The change question ``question`` asks of ``index``: the laws it names that have
    other versions, else every law with another version; None when it is not a change
    question or the index holds no document in more than one version."""
    if not has_change_wording(question):
        return None
    links = index.links
    versioned = [d for d in index.documents.values() if links.has_versions(d.doc_id)]
    if not versioned:
        return None
    named = named_documents(question, versioned)
    if not named and not VERSION_WORDS.search(question):
        return None
    scope = {v.doc_id for d in (named or versioned) for v in links.versions(d.doc_id)}
    return ChangeQuestion(question.strip(), without_change_words(question), frozenset(scope))


def prepare_question(
    question: str, *, index: Index, filters: Filters | None = None
) -> tuple[Query, bool]:
    """The query for ``question`` and whether it asks what changed. A change question is
    searched for what it asks about, in the versions of the laws it is about (within
    ``filters``); any other question as it is (:func:`rag.search.prepare`)."""
    wanted = index.check(filters or Filters())
    change = change_question(question, index=index)
    if change is not None:
        allowed = index.allowed_documents(wanted)
        scope = change.doc_ids if allowed is None else change.doc_ids & allowed
        if scope:
            query = prepare(change.search, index=index,
                            filters=replace(wanted, doc_ids=tuple(sorted(scope))))
            return replace(query, asked=change.asked), True
    return prepare(question, index=index, filters=wanted), False
