"""Answers: named clauses and search hits composed into verbatim, cited quotes — or a refusal.

:func:`answer` is the one call every interface makes; :class:`Answer` and
:class:`Citation` are the plain data it returns (every quote is
``document.text[start:end]``; highlights are offsets into the quote).
"""

from rag.answer.compose import MAX_TOP, answer, answer_many
from rag.answer.refusal import Calibration, load_calibration
from rag.answer.types import (
    Answer,
    Citation,
    Comparison,
    Highlight,
    InnerReference,
    VersionSide,
)

__all__ = [
    "MAX_TOP",
    "Answer",
    "Calibration",
    "Citation",
    "Comparison",
    "Highlight",
    "InnerReference",
    "VersionSide",
    "answer",
    "answer_many",
    "load_calibration",
]
