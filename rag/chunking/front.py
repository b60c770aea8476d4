"""Front matter: title, subtitle and history lines before the body become one preamble clause."""

from __future__ import annotations

import re

from rag.chunking.lines import TITLE_MAX, Draft, Line, line_draft, normalize
from rag.core.documents import Document

# History lines start with a date, or the whole note is bracketed.
_DATE_LEAD = re.compile(r"^[（(]?\s*\d{4}\s*年")
_BRACKETED = re.compile(r"^[（(].*[）)]$")


def front_drafts(doc: Document, front: list[Line], *, label: str = "题注") -> list[Draft]:
    """Title/subtitle/history lines → one preamble clause; other front lines → paragraphs."""
    known = _known_lines(doc)
    count = 0
    for position, line in enumerate(front):
        if not _is_front_matter(line.text, position, known):
            break
        count += 1
    drafts = []
    if count:
        drafts.append(
            Draft(
                local="preamble",
                kind="preamble",
                label=label,
                path=(),
                block=0,
                start=front[0].start,
                end=front[count - 1].end,
            )
        )
    drafts.extend(line_draft(line, f"p{line.index}", (), 0) for line in front[count:])
    return drafts


def metadata_front(doc: Document, lines: list[Line]) -> tuple[list[Line], list[Line]]:
    """Leading lines that repeat the title, subtitle or history → (front, rest)."""
    known = _known_lines(doc)
    count = 0
    while (
        count < len(lines)
        and lines[count].heading is None
        and normalize(lines[count].text) in known
    ):
        count += 1
    return lines[:count], lines[count:]


def _known_lines(doc: Document) -> set[str]:
    return {normalize(t) for t in (doc.title, doc.subtitle, *doc.history) if t}


def _is_front_matter(text: str, position: int, known: set[str]) -> bool:
    text = normalize(text)
    if text in known or _DATE_LEAD.match(text) or _BRACKETED.match(text):
        return True
    return position == 0 and len(text) <= TITLE_MAX and "。" not in text
