"""Mark, inside a verbatim quote, the sentence that best answers the question and its terms.

Highlights are offsets into the quote; the quote itself is never changed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from rag.answer.types import Highlight

# Sentence ends: Chinese full stops/semicolons, Latin ones followed by space, line breaks.
_SENTENCE_END = re.compile(r"[。！？；!?;]|\.(?=\s)|\n")


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence in ``text``, trimmed of surrounding whitespace."""
    spans = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        spans.append((start, match.end()))
        start = match.end()
    if start < len(text):
        spans.append((start, len(text)))
    trimmed = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            trimmed.append((s, e))
    return trimmed


def highlight(quote: str, weights: Mapping[str, float]) -> tuple[Highlight, ...]:
    """The best sentence (most idf-weighted query terms) and every occurrence of each term."""
    marks: list[Highlight] = []
    best, best_score = None, 0.0
    for start, end in sentences(quote):
        sentence = quote[start:end].lower()
        score = sum(w for t, w in weights.items() if t in sentence)
        if score > best_score:
            best, best_score = (start, end), score
    if best is not None:
        marks.append(Highlight(best[0], best[1], "sentence"))
    lower = quote.lower()
    taken: list[tuple[int, int]] = []
    for term in sorted(weights, key=len, reverse=True):
        for match in re.finditer(re.escape(term), lower):
            s, e = match.span()
            if any(s < te and ts < e for ts, te in taken):
                continue
            taken.append((s, e))
    marks.extend(Highlight(s, e, "term") for s, e in sorted(taken))
    return tuple(marks)
