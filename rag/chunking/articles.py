"""Articled texts (statutes, English acts): one clause per article, headings as its path."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from rag.chunking.front import front_drafts
from rag.chunking.lines import Draft, Line, Outline, line_draft
from rag.core.clauses import Span
from rag.core.documents import Document


@dataclass(frozen=True)
class ArticleStyle:
    """How to recognise and name articles, headings and spans in one kind of text.

    The styles are :func:`rag.chunking.statute.statute_style` and
    :func:`rag.chunking.english.english_style`.
    """

    match: Callable[[str], re.Match[str] | None]
    local: Callable[[re.Match[str]], str]
    spans: Callable[[list[Line], int], list[Span]]
    heading: Callable[[list[Line], re.Match[str]], str | None]
    heading_level: Callable[[str], int | None]
    ends_article: Callable[[str], bool]
    preamble_label: str = "题注"


@dataclass
class OpenSpan:
    """A span whose end may still grow while the lines of its clause are read."""

    key: str
    label: str
    start: int
    end: int
    items: list[OpenSpan] = field(default_factory=list)

    def span(self) -> Span:
        return Span(self.key, self.label, self.start, self.end)


def chunk_articles(doc: Document, lines: list[Line], style: ArticleStyle) -> list[Draft]:
    """Articles with their paragraphs; front matter, in-between and trailing text."""
    outline = Outline()
    drafts: list[Draft] = []
    front: list[Line] = []
    loose: list[tuple[Line, tuple[str, ...], int]] = []
    article: list[Line] = []
    opening: re.Match[str] | None = None
    seen_structure = False
    article_place: tuple[tuple[str, ...], int] = ((), 0)

    def close() -> None:
        nonlocal article, opening
        if article and opening is not None:
            drafts.append(_article_draft(article, opening, style, *article_place))
        article, opening = [], None

    for line in lines:
        level = line.heading.level if line.heading else style.heading_level(line.text)
        if level is not None:
            close()
            outline.push(level, line.text)
            seen_structure = True
            continue
        match = style.match(line.text)
        if match:
            close()
            article, opening = [line], match
            article_place = (outline.path, outline.block)
            seen_structure = True
        elif article and not style.ends_article(line.text):
            article.append(line)
        else:
            close()
            if seen_structure:
                loose.append((line, outline.path, outline.block))
            else:
                front.append(line)
    close()
    drafts.extend(front_drafts(doc, front, label=style.preamble_label))
    last_article = max((d.start for d in drafts if d.kind == "article"), default=-1)
    tail = 0
    for line, path, block in loose:
        if line.start > last_article:
            tail += 1
            local = f"tail{tail}"
        else:
            local = f"p{line.index}"
        drafts.append(line_draft(line, local, path, block))
    return drafts


def _article_draft(
    lines: list[Line],
    match: re.Match[str],
    style: ArticleStyle,
    path: tuple[str, ...],
    block: int,
) -> Draft:
    first = lines[0]
    return Draft(
        local=style.local(match),
        kind="article",
        label=match.group(0),
        path=path,
        block=block,
        start=first.start,
        end=lines[-1].end,
        heading=style.heading(lines, match),
        spans=style.spans(lines, first.start + match.end()),
    )
