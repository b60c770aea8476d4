"""What changed between versions of a document, and between index generations.

:func:`align_documents` pairs the articles of two versions by text (matched, renumbered,
changed, added, removed); :func:`diff_articles` marks the words inserted and deleted
between two articles, as offsets into each version's text; :mod:`rag.changes.report`
lists what changed between two index generations; :mod:`rag.answer.change_questions`
answers "what changed" questions with the aligned pair. Every text shown is a slice of a
document's text.
"""

from rag.changes.align import (
    RELATION_LABELS,
    RELATIONS,
    Alignment,
    Pair,
    align,
    align_documents,
)
from rag.changes.units import Article, articles

__all__ = ["RELATIONS", "RELATION_LABELS", "Alignment", "Article", "Pair", "align",
           "align_documents", "articles"]
