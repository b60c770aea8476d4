"""Articles as the unit versions are compared in: all parts of one clause, with its body.

A long article is indexed as ``….part1``, ``….part2``; a comparison is about the whole
article, so the parts are joined back: an :class:`Article` spans from the first part's
start to the last part's end of the document text. Its ``body`` is the text after the
article's own number (第二十八条 is not part of what changed when an article moves).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rag.core.clauses import Clause
from rag.core.documents import Document

_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Article:
    """One article (or numbered clause, or paragraph) of one version of a document.

    ``text`` is ``document.text[start:end]``; ``body_start`` is where the text after the
    label begins (``start`` when the text does not begin with its label).
    """

    unit_id: str  # the clause id without .partN
    doc_id: str
    label: str
    position: int  # 0-based place in the document
    start: int
    end: int
    body_start: int
    text: str
    clause_ids: tuple[str, ...]  # the indexed clauses it is made of, in order

    @property
    def body(self) -> str:
        return self.text[self.body_start - self.start:]

    @property
    def clause_id(self) -> str:
        """The id a citation of the whole article uses: its first part."""
        return self.clause_ids[0]

    def key(self) -> str:
        """The body with all white space removed: equal keys mean the same words."""
        return _SPACE.sub("", self.body)


def body_start(text: str, label: str, start: int) -> int:
    """Offset (in the document) where the article's text after its label begins."""
    if label and text.startswith(label):
        cut = len(label)
        while cut < len(text) and text[cut].isspace():
            cut += 1
        return start + cut
    return start


def articles(doc: Document, clauses: Iterable[Clause]) -> list[Article]:
    """The articles of ``doc`` in document order, from its indexed clauses (any order)."""
    parts: dict[str, list[Clause]] = {}
    for clause in clauses:
        if clause.doc_id == doc.doc_id:
            parts.setdefault(clause.unit_id, []).append(clause)
    units = sorted(parts.values(), key=lambda group: min(c.start for c in group))
    out: list[Article] = []
    for position, group in enumerate(units):
        group.sort(key=lambda c: c.start)
        start, end = group[0].start, max(c.end for c in group)
        text = doc.text[start:end]
        label = group[0].label
        out.append(Article(
            unit_id=group[0].unit_id, doc_id=doc.doc_id, label=label, position=position,
            start=start, end=end, body_start=body_start(text, label, start), text=text,
            clause_ids=tuple(c.id for c in group),
        ))
    return out


def by_clause(units: Sequence[Article]) -> dict[str, Article]:
    """clause id (every part) → its article."""
    return {clause_id: unit for unit in units for clause_id in unit.clause_ids}
