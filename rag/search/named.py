"""Clauses a question names (《证券法》第一百九十一条): found exactly, before any search.

Handles 《证券法》第一百九十一条, 证券法第191条,
中华人民共和国证券法第一百九十一条,
刑法第一百八十条之一, 《关于依法从严打击证券违法活动的意见》第（十一）项,
证券法第五十一条第（三）项,
"Article 56 of the Securities Law", "Securities Law, Art. 56".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rag.core.clauses import Clause
from rag.core.documents import Document
from rag.core.numbering import NUMERAL as _NUM
from rag.core.numbering import article_label, article_pattern, cn_to_int, int_to_cn
from rag.core.titles import compact, title_aliases
from rag.search.glossary import ENGLISH_TITLES

# 第一百九十一条 / 第191条 / 第一百八十条之一, optionally followed by 第二款 and 第（三）项
ARTICLE_REF = re.compile(
    article_pattern(spaced=True)
    + rf"(?:\s*第\s*(?P<para>{_NUM})\s*款)?"
    rf"(?:\s*第?\s*[（(]\s*(?P<item>{_NUM})\s*[）)]\s*项?|\s*第\s*(?P<item2>{_NUM})\s*项)?"
)
# A policy document's numbered clause: 第（十一）项 / 第（十一）条 / （十一）
NUMBERED_REF = re.compile(rf"第?\s*[（(]\s*(?P<num>{_NUM})\s*[）)]\s*[项条款]?")
# Article 56 / Art. 56 / Section 3
ENGLISH_REF = re.compile(
    r"\b(?:(?P<art>art(?:icle)?s?\.?)|(?P<sec>sec(?:tion)?\.?|§))\s*(?P<num>\d+)"
    r"(?:\s*\((?P<item>[a-z0-9]+)\))?",
    re.IGNORECASE,
)

@dataclass(frozen=True)
class NamedClause:
    """A clause named in a question: which documents, which clause label, which span."""

    doc_ids: tuple[str, ...]
    label: str  # the clause label to match: 第一百九十一条 / （十一） / Article 56
    span_label: str | None  # 第（三）项 / 第二款 … inside the clause, when named
    matched: str  # the question text that named it


def _english_aliases(question: str) -> set[str]:
    low = question.lower()
    return {zh for en, zh in ENGLISH_TITLES.items() if en in low}


def named_documents(question: str, documents: Iterable[Document]) -> list[Document]:
    """Documents whose name occurs in the question (中文 or an English name such as
    "Company Law"); the longest name wins."""
    text = compact(question)
    english = _english_aliases(question)
    best: list[tuple[int, Document]] = []
    for doc in documents:
        names = title_aliases(doc.title)
        length = max((len(n) for n in names if n in text), default=0)
        if not length and english & names:
            length = max(len(n) for n in english & names)
        if length:
            best.append((length, doc))
    if not best:
        return []
    top = max(length for length, _ in best)
    return [doc for length, doc in best if length == top]


def _span_label(match: re.Match[str]) -> str | None:
    para, item = match.group("para"), match.group("item") or match.group("item2")
    parts = []
    if para:
        parts.append(f"第{int_to_cn(cn_to_int(para))}款")
    if item:
        parts.append(f"第（{int_to_cn(cn_to_int(item))}）项")
    return "".join(parts) or None


def find_named(question: str, documents: Iterable[Document]) -> list[NamedClause]:
    """The clauses ``question`` names in a document of ``documents``."""
    if not any(p.search(question) for p in (ARTICLE_REF, NUMBERED_REF, ENGLISH_REF)):
        return []  # no clause named: skip matching every title (most questions)
    named = named_documents(question, documents)
    if not named:
        return []
    doc_ids = tuple(d.doc_id for d in named)
    refs: list[NamedClause] = []
    for match in ARTICLE_REF.finditer(question):
        try:
            label = article_label(match.group("num"), match.group("sub"))
        except ValueError:
            continue
        refs.append(NamedClause(doc_ids, label, _span_label(match), match.group()))
    if not refs:
        for match in NUMBERED_REF.finditer(question):
            try:
                label = f"（{int_to_cn(cn_to_int(match.group('num')))}）"
            except ValueError:
                continue
            refs.append(NamedClause(doc_ids, label, None, match.group()))
    if not refs:
        for match in ENGLISH_REF.finditer(question):
            number = int(match.group("num"))
            item = match.group("item")
            try:
                cn = int_to_cn(number)
            except ValueError:
                continue
            span = f"({item})" if item and item.isalpha() else None
            refs.append(NamedClause(doc_ids, f"第{cn}条", span, match.group()))
            refs.append(NamedClause(doc_ids, f"Article {number}", span, match.group()))
    return refs


def by_label(clauses: Iterable[Clause]) -> dict[tuple[str, str], list[Clause]]:
    """(doc_id, clause label) → the clauses with that label (all parts of a split one)."""
    table: dict[tuple[str, str], list[Clause]] = {}
    for clause in clauses:
        table.setdefault((clause.doc_id, clause.label), []).append(clause)
    return table


def resolve(
    named: Iterable[NamedClause], labelled: Mapping[tuple[str, str], list[Clause]]
) -> list[Clause]:
    """Clauses matching ``named``, in order (all parts of a split clause).

    ``labelled`` is :func:`by_label` of the clauses to search (``Index.by_label`` keeps
    it for the whole corpus).
    """
    found: list[Clause] = []
    for ref in named:
        for doc_id in ref.doc_ids:
            for clause in labelled.get((doc_id, ref.label), []):
                if clause not in found:
                    found.append(clause)
    return found
