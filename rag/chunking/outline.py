"""Policy-document outlines: 一、 sections as path, （N） numbered clauses, bullets and 1. items."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from rag.chunking.lines import Draft, Line, Outline, id_number, line_draft, unique_keys
from rag.core.clauses import Span
from rag.core.numbering import CN_NUMERAL_CHARS, cn_to_int

# Outline markers of a policy document, outermost first.
L1 = re.compile(rf"^(?P<num>[{CN_NUMERAL_CHARS}]+)、")  # 一、总体要求
L2 = re.compile(rf"^[（(](?P<num>[{CN_NUMERAL_CHARS}]+)[）)]")  # （一）指导思想。
L3 = re.compile(r"^(?P<num>\d{1,3})\s*[.．、](?!\d)")  # 1. / 1．/ 1、
_L4 = re.compile(r"^[（(](?P<num>\d{1,3})[）)]")  # （1）
_BULLET = re.compile(r"^——")  # ——坚持零容忍要求。
_OUTLINE_MARKERS = (("L1", L1), ("L2", L2), ("L3", L3), ("L4", _L4))
# Punctuation that makes an 一、 line a sentence rather than a section title.
_SENTENCE_PUNCT = re.compile(r"[。；;！!？?：:]")
_SECTION_TITLE_MAX = 50


def _marker(text: str) -> tuple[str, re.Match[str]] | None:
    """The outline marker opening ``text``, as (level, match), or None."""
    for name, pattern in _OUTLINE_MARKERS:
        match = pattern.match(text)
        if match:
            return name, match
    return None


_Marked = tuple[str, re.Match[str]]


@dataclass
class _OpenClause:
    """A numbered clause of an outline while its lines are read."""

    draft: Draft
    lines: list[Line]
    level: str  # marker level of its own label: "L1", "L2" or "L3"
    number: int
    top_level: bool  # a sentence-like 一、 clause: lower markers inside it are its items
    quote_depth: int = 0

    def add(self, line: Line) -> None:
        self.lines.append(line)
        self.quote_depth = _quote_depth(self.quote_depth, line.text)

    def quotes(self, marker: _Marked) -> bool:
        """Whether a clause-level line is quoted text inside this clause.

        Inside an open quotation only the very next number after a finished sentence starts
        a new clause (sources sometimes forget the closing ”).
        """
        if self.quote_depth == 0:
            return False
        finished = self.lines[-1].text.endswith(("。", "”"))
        return not (finished and _marker_number(marker) == self.number + 1)

    def finish(self) -> Draft:
        self.draft.end = self.lines[-1].end
        self.draft.spans = _outline_spans(self.lines, self.level)
        return self.draft


def chunk_outline(lines: list[Line]) -> list[Draft]:
    """Policy documents: 一、 sections, （N） clauses, bullets and sub-items."""
    markers = [None if line.heading else _marker(line.text) for line in lines]
    l1_headings = sum(1 for line in lines if line.heading and L1.match(line.text))
    use_l1 = sum(1 for m in markers if m and m[0] == "L1") + l1_headings >= 2
    sections, clauses_l1 = _l1_roles(lines, markers, use_l1)
    level = _clause_level(lines, markers, sections, clauses_l1)
    outline = Outline()
    drafts: list[Draft] = []
    clause: _OpenClause | None = None
    paragraph_count = 0
    for i, line in enumerate(lines):
        marker = markers[i]
        if line.heading is not None or i in sections:
            if clause is not None:
                drafts.append(clause.finish())
                clause = None
            paragraph_count = 0
            _push_outline(outline, line, marker)
            continue
        top_level = i in clauses_l1
        starts = top_level or (
            marker is not None
            and marker[0] == level
            and not (clause is not None and clause.top_level)
        )
        if marker is not None and starts and not (clause is not None and clause.quotes(marker)):
            if clause is not None:
                drafts.append(clause.finish())
            clause = _open_clause(line, marker, outline, top_level=top_level)
        elif clause is not None:
            clause.add(line)
        else:
            section = outline.section
            if section is not None:
                paragraph_count += 1
                local = f"sec{section}.p{paragraph_count}"
            else:
                local = f"p{line.index}"
            drafts.append(line_draft(line, local, outline.path, outline.block))
    if clause is not None:
        drafts.append(clause.finish())
    return drafts


def _push_outline(outline: Outline, line: Line, marker: _Marked | None) -> None:
    """A recorded heading or a detected 一、 section line enters the path."""
    if line.heading is not None:
        numbered = L1.match(line.text)
        number = _marker_number(("L1", numbered)) if numbered else None
        outline.push(line.heading.level, line.text, number)
    elif marker is not None:
        outline.push_section(line.text, _marker_number(marker))


def _open_clause(
    line: Line, marker: _Marked, outline: Outline, *, top_level: bool
) -> _OpenClause:
    return _OpenClause(
        draft=_numbered_draft(line, marker, outline, top_level),
        lines=[line],
        level=marker[0],
        number=_marker_number(marker),
        top_level=top_level,
        quote_depth=_quote_depth(0, line.text),
    )


def _marker_number(marker: _Marked | None) -> int:
    try:
        return cn_to_int(marker[1].group("num")) if marker else -1
    except ValueError:
        return -1


def _quote_depth(depth: int, text: str) -> int:
    """Open “ quotes after ``text``. A quoted passage of several paragraphs opens each
    paragraph with “ and closes only the last with ”, so a leading “ inside an open quote
    continues it rather than nesting."""
    if depth > 0 and text.startswith("“"):
        text = text[1:]
    return max(0, depth + text.count("“") - text.count("”"))


def _l1_roles(lines: list[Line], markers: list, use_l1: bool) -> tuple[set[int], set[int]]:
    """Split 一、 lines into section titles (path) and sentence-like numbered clauses."""
    sections: set[int] = set()
    clauses: set[int] = set()
    if not use_l1:
        return sections, clauses
    for i, marker in enumerate(markers):
        if not marker or marker[0] != "L1":
            continue
        rest = lines[i].text[marker[1].end() :].strip()
        title_like = 0 < len(rest) <= _SECTION_TITLE_MAX and not _SENTENCE_PUNCT.search(rest)
        following = i + 1 < len(lines) and lines[i + 1].heading is None
        followed_by_text = following and not (markers[i + 1] and markers[i + 1][0] == "L1")
        if title_like and followed_by_text:
            sections.add(i)
        else:
            clauses.add(i)
    return sections, clauses


def _clause_level(
    lines: list[Line], markers: list, sections: set[int], clauses_l1: set[int]
) -> str | None:
    """The marker level of numbered clauses: the first （N） or 1. line outside 一、 clauses."""
    inside = False
    counts = {"L2": 0, "L3": 0}
    first = None
    for i, line in enumerate(lines):
        if line.heading is not None or i in sections:
            inside = False
            continue
        if i in clauses_l1:
            inside = True
            continue
        marker = markers[i]
        if inside or not marker or marker[0] not in counts:
            continue
        counts[marker[0]] += 1
        first = first or marker[0]
    if first == "L2" or (first == "L3" and counts["L3"] >= 2):
        return first
    return None


def _numbered_draft(
    line: Line, marker: tuple[str, re.Match[str]], outline: Outline, top_level: bool
) -> Draft:
    match = marker[1]
    number = id_number(match.group("num"))
    section = outline.section
    if top_level:
        local = f"sec{section}.c{number}" if section is not None else f"sec{number}"
    else:
        local = f"sec{section}.c{number}" if section is not None else f"c{number}"
    return Draft(
        local=local,
        kind="numbered",
        label=match.group(0).strip(),
        path=outline.path,
        block=outline.block,
        start=line.start,
        end=line.end,
        heading=_lead_phrase(line.text[match.end() :]),
    )


def _lead_phrase(rest: str) -> str | None:
    """The clause's lead phrase: ``指导思想`` in ``（一）指导思想。以…``."""
    rest = rest.strip()
    if not rest:
        return None
    period = rest.find("。")
    if 0 < period <= 30:
        # "将刑法第十七条修改为：“……。" — the phrase stops before a colon or a quotation.
        phrase = re.split(r"[：:“]", rest[:period], maxsplit=1)[0]
        return phrase or None
    if period == -1 and len(rest) <= 30:
        phrase = rest.rstrip("：:，,；;")
        return phrase or None
    for i, ch in enumerate(rest[:31]):
        if ch in "，：,:":
            return rest[:i] if i > 0 else None
    return None


def _outline_spans(lines: list[Line], own_level: str) -> list[Span]:
    """Bullets ``——`` → ``b1``…; the first sub-marker level (``1.``, ``（1）``…) → ``i1``…"""
    spans: list[Span] = []
    bullets = 0
    item_level: str | None = None
    open_item: int | None = None
    for line in lines[1:]:
        if _BULLET.match(line.text):
            bullets += 1
            spans.append(Span(f"b{bullets}", f"第{bullets}项", line.start, line.end))
            open_item = None
            continue
        marker = _marker(line.text)
        if marker and marker[0] != own_level and marker[0] != "L1":
            level, match = marker
            item_level = item_level or level
            if level == item_level:
                numeral = match.group("num")
                shown = numeral if level == "L3" else f"（{numeral}）"
                spans.append(Span(f"i{id_number(numeral)}", f"第{shown}项", line.start, line.end))
                open_item = len(spans) - 1
                continue
            if open_item is not None:
                spans[open_item] = replace(spans[open_item], end=line.end)
                continue
        open_item = None
    return unique_keys(spans)


