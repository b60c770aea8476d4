"""Lexical evidence: the question's terms with their idf, and how much of it a clause holds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rag.core.numbering import is_numeral_word
from rag.search.catalog import Index
from rag.search.glossary import translated_words
from rag.search.query import Query

# English words that carry no legal meaning; not counted as "unknown to the corpus".
STOPWORDS_EN = frozenset(
    "penalty law laws rule rules legal counts count who whose must can may need say says "
    "under there their them they get gets got give given does have has had".split()
)
UNKNOWN_TERM_WEIGHT = 8.0


def term_weights(tokens: Sequence[str], idf: Mapping[str, float]) -> dict[str, float]:
    """Query terms worth marking, with their idf, in question order. Terms the corpus
    lacks (absent from ``idf``) are dropped, and so are the numerals of a 第X条."""
    weights = {}
    for token in tokens:
        if len(token) < 2 and not token.isdigit():
            continue
        if is_numeral_word(token):  # 九十, 十一 from 第一百九十一条: not a term
            continue
        value = idf.get(token)
        if value is not None:
            weights[token] = value
    return weights


def query_terms(query: Query, index: Index) -> tuple[dict[str, float], float]:
    """The question's terms known to the corpus with their idf, and the idf mass of the
    terms it does not know (words like 天气 or 菜谱 that no clause contains).

    An English word the glossary translated is known through its Chinese terms; every
    other English word counts as unknown, so "when does the bank open on Sunday" is
    mostly unknown however legal 银行 sounds."""
    tokens = index.tokenizer(query.text)
    weights = term_weights(tokens, index.backend.keyword_idf(tokens))
    translated = translated_words(query.question)
    unknown = UNKNOWN_TERM_WEIGHT * sum(
        1 for t in tokens
        if (len(t) >= 2 or t.isdigit()) and t not in weights and t not in STOPWORDS_EN
        and t not in translated
    )
    return weights, unknown


def coverage(question_weights: Mapping[str, float], unknown: float, passage: str) -> float:
    """Share of the question's idf mass that the passage contains."""
    total = sum(question_weights.values()) + unknown
    if total <= 0:
        return 0.0
    lower = passage.lower()
    return sum(w for t, w in question_weights.items() if t in lower) / total
