"""Split a :class:`~rag.core.documents.Document` into clauses, the units answers quote and cite.

The strategy is chosen from the text's own structure (not from ``Document.kind``):

* **Statutes** — lines starting ``第X条`` (``第一百八十条之一``): one ``article`` clause per
  条 (``art191``, ``art180-1``), path = enclosing 编/章/节 headings, 款 and 项 as spans
  (``p2``/``第二款``, ``p2.i1``/``第二款第（一）项``, or ``i3``/``第（三）项`` when the article
  has a single 款). Title/subtitle/history lines form one ``preamble`` clause (``题注``);
  other non-article text becomes ``paragraph`` clauses (``p{n}``, or ``tail{n}`` after the
  last article).
* **English** — lines ``Article 12`` (or ``Section 3`` / ``§ 3`` when there are no
  Articles): one ``article`` clause each (``art12``/``sec3``), path = Part/Chapter headings,
  spans for numbered paragraphs (``p1``/``paragraph 1``) and lettered items (``a`` or
  ``p1.a``/``(a)``).
* **Outlines** (policy documents) — ``一、`` section lines are path, not clause text; one
  ``numbered`` clause per ``（七）`` line with its following lines (``sec2.c7``, label
  ``（七）``, ``heading`` = lead phrase); ``——`` bullets are spans ``b1``… labelled
  ``第1项``…; sub-items ``1.``/``（1）`` are spans ``i1``… labelled ``第1项``/``第（1）项``.
  Paragraphs outside numbered clauses are ``sec{s}.p{k}`` inside a section, else ``p{n}``.
  ``一、`` lines that are sentences rather than titles (amendment items, Q&A) are
  ``numbered`` clauses themselves (``sec1``, label ``一、``).
* **Prose** (news) — one ``paragraph`` clause per line (``p{n}``, n counts the non-heading
  lines); ``一是…二是…`` and ``首先，…其次，…最后，`` enumerations become ``item`` clauses
  ``p{n}.{k}`` labelled ``一是``/``首先``.

Afterwards, whole lines shorter than ``min_chars`` (bylines) join the neighbouring
paragraph/item clause of the same heading block, and clauses longer than ``max_chars`` are
split into ``.part{k}`` clauses at sentence boundaries. Spans that cross a part boundary are
dropped (a span always quotes a complete 款/项); spans inside one part stay on it.

Every clause satisfies ``doc.text[c.start:c.end] == c.text``; clause texts never start or
end with whitespace; ids are unique within a document and stable across runs.

Where each step lives: :mod:`~rag.chunking.lines` (lines, drafts, heading stack),
:mod:`~rag.chunking.articles` with :mod:`~rag.chunking.statute` and
:mod:`~rag.chunking.english`, :mod:`~rag.chunking.outline`, :mod:`~rag.chunking.prose`,
:mod:`~rag.chunking.front` (preamble) and :mod:`~rag.chunking.finish` (merging, ids, parts).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rag.chunking.articles import chunk_articles
from rag.chunking.english import EN_ARTICLE, EN_SECTION, english_style, is_english
from rag.chunking.finish import finish, make_unique, merge_short
from rag.chunking.front import front_drafts, metadata_front
from rag.chunking.lines import Line, split_lines
from rag.chunking.outline import L1, L2, L3, chunk_outline
from rag.chunking.prose import chunk_prose, split_enumerations
from rag.chunking.statute import ARTICLE, statute_style
from rag.core.clauses import Clause
from rag.core.documents import Document
from rag.core.pages import pages_of

__all__ = ["chunk_document", "chunk_documents", "clause_to_dict"]


def chunk_document(doc: Document, *, max_chars: int = 600, min_chars: int = 12) -> list[Clause]:
    """Split ``doc`` into clauses, sorted by offset. Deterministic and pure."""
    if max_chars < 1:
        raise ValueError(f"max_chars must be positive, got {max_chars}")
    lines = split_lines(doc)
    if not any(line.heading is None for line in lines):
        return []
    style = _choose_style(doc, lines)
    if style == "statute":
        drafts = chunk_articles(doc, lines, statute_style(doc))
    elif style == "english":
        drafts = chunk_articles(doc, lines, english_style(lines))
    else:
        front, body = metadata_front(doc, lines)
        drafts = chunk_outline(body) if style == "outline" else chunk_prose(body)
        drafts = split_enumerations(drafts, doc.text, min_chars=min_chars)
        drafts.extend(front_drafts(doc, front))
    drafts = merge_short(sorted(drafts, key=lambda d: d.start), doc.text, min_chars=min_chars)
    make_unique(drafts)
    clauses: list[Clause] = []
    for draft in drafts:
        clauses.extend(finish(draft, doc, max_chars=max_chars))
    return clauses


def chunk_documents(
    docs: Iterable[Document], *, max_chars: int = 600, min_chars: int = 12
) -> list[Clause]:
    """Chunk several documents, in order."""
    clauses: list[Clause] = []
    for doc in docs:
        clauses.extend(chunk_document(doc, max_chars=max_chars, min_chars=min_chars))
    return clauses


def clause_to_dict(clause: Clause, doc: Document) -> dict[str, object]:
    """A JSON-ready record of a clause with its document's metadata.

    A clause of a paged document (PDF) also has ``pages``: its first and last page.
    """
    record: dict[str, object] = {
        "id": clause.id,
        "doc_id": clause.doc_id,
        "label": clause.label,
        "path": list(clause.path),
        "heading": clause.heading,
        "kind": clause.kind,
        "part": clause.part,
        "start": clause.start,
        "end": clause.end,
        "text": clause.text,
        "spans": [
            {"key": s.key, "label": s.label, "start": s.start, "end": s.end} for s in clause.spans
        ],
        "document": doc.metadata(),
    }
    pages = pages_of(doc, clause.start, clause.end)
    if pages is not None:
        record["pages"] = list(pages)
    return record


def _choose_style(doc: Document, lines: list[Line]) -> str:
    """``statute``, ``english``, ``outline`` or ``prose``, from the text's own markers."""
    content = [line for line in lines if line.heading is None]
    articles = [m for line in content if (m := ARTICLE.match(line.text))]
    if len(articles) >= 2 or (articles and _spaced_after(articles[0])):
        return "statute"
    if is_english(content) and any(
        EN_ARTICLE.match(line.text) or EN_SECTION.match(line.text) for line in content
    ):
        return "english"
    l1 = sum(1 for line in content if L1.match(line.text))
    l2 = sum(1 for line in content if L2.match(line.text))
    l3 = sum(1 for line in content if L3.match(line.text))
    numbered_headings = any(L1.match(h.text) for h in doc.headings)
    if l1 >= 2 or l2 >= 2 or (numbered_headings and l3 >= 2):
        return "outline"
    return "prose"


def _spaced_after(match: re.Match[str]) -> bool:
    rest = match.string[match.end() :]
    return not rest or rest[0].isspace()

