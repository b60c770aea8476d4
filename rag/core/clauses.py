"""Clauses: the unit every answer quotes and cites.

A clause is one 条 of a statute, one numbered （七） clause of a policy document, one
paragraph or 一是… item of a news post, one Article of an English text. Its id is derived
from its place in the source, so the same clause keeps the same id across runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property


@dataclass(frozen=True)
class Span:
    """An addressable part inside a clause: a 款 or a 项 of an article, an (a) item.

    ``label`` is how a citation names it relative to the clause (``第二款``,
    ``第二款第（一）项``, ``第（三）项``, ``(a)``); ``key`` is its id suffix
    (``p2``, ``p2.i1``, ``i3``, ``a``). Offsets are into the document text.
    """

    key: str
    label: str
    start: int
    end: int


@dataclass(frozen=True)
class Clause:
    """One clause-level chunk of a document.

    Invariant: ``document.text[start:end] == text``.

    ``id`` is ``f"{doc_id}#{local_id}"`` where ``local_id`` names the clause's place in the
    document, e.g. ``art191``, ``art180-1`` (第一百八十条之一), ``sec2.c7`` (section 二, clause
    （七）), ``p4.2`` (second item of paragraph 4). A clause split because it was too long
    gets a part suffix: ``art191.part2``; ``unit_id`` drops it.
    """

    id: str
    doc_id: str
    label: str
    path: tuple[str, ...]
    start: int
    end: int
    text: str
    kind: str
    heading: str | None = None
    part: int | None = None
    spans: tuple[Span, ...] = ()

    @property
    def local_id(self) -> str:
        return self.id.split("#", 1)[1]

    @cached_property
    def unit_id(self) -> str:
        """The id without a ``.partN`` suffix: all parts of one article share it (worked
        out once per clause: ranking asks for it hundreds of times a question)."""
        if self.part is None:
            return self.id
        return self.id.rsplit(".part", 1)[0]
