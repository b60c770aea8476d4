"""English acts: one clause per Article (or Section), numbered paragraphs and (a) items as spans."""

from __future__ import annotations

import re

from rag.chunking.articles import ArticleStyle, OpenSpan
from rag.chunking.lines import TITLE_MAX, Line, unique_keys
from rag.core.clauses import Span
from rag.core.script import CHINESE

# "Article 12", "Article 12.", "ARTICLE 12", "Art. 12".
EN_ARTICLE = re.compile(
    r"^(?:Article|ARTICLE|Art\.)\s*(?P<num>\d+[A-Za-z]?)(?![.]?\d)(?=[\s.:\-–—]|$)"
)
# "Section 3", "SECTION 3", "Sec. 3", "§ 3".
EN_SECTION = re.compile(
    r"^(?:Section|SECTION|Sec\.|§+)\s*(?P<num>\d+[A-Za-z]?)(?![.]?\d)(?=[\s.:\-–—]|$)"
)
# "Chapter I …", "Part 2 …", "TITLE III".
_EN_HEADING = re.compile(r"^(?P<unit>Chapter|Part|Title|CHAPTER|PART|TITLE)\s+(?:[IVXLCDM]+|\d+)\b")
_EN_HEADING_LEVELS = {"part": 1, "title": 1, "chapter": 2}
# Numbered paragraph "1. …" / "(1) …" and lettered item "(a) …" inside an Article.
_EN_PARAGRAPH = re.compile(r"^(?:(?P<dot>\d{1,3})\.(?!\d)|\((?P<paren>\d{1,3})\))")
_EN_ITEM = re.compile(r"^\((?P<letter>[a-z]{1,2}|[ivx]{1,5})\)")
_EN_ROMAN = re.compile(r"^\((?:i|ii|iii|iv|v|vi|vii|viii|ix|x|xi|xii)\)")
_EN_TITLE_SEPARATORS = " \t.:-–—"
_EN_SENTENCE_END = (".", ";", ":", ",", "!", "?")


def is_english(content: list[Line]) -> bool:
    """Whether the text is mostly not CJK (judged on its first 200 lines)."""
    sample = "".join(line.text for line in content[:200])
    return len(CHINESE.findall(sample)) < 0.3 * max(1, len(sample))


def english_style(lines: list[Line]) -> ArticleStyle:
    """``Article N`` clauses, or ``Section N`` clauses when there are no Articles."""
    if any(EN_ARTICLE.match(line.text) for line in lines if line.heading is None):
        match, prefix, level = EN_ARTICLE.match, "art", _en_heading_level_with_sections
    else:
        match, prefix, level = EN_SECTION.match, "sec", _en_heading_level
    return ArticleStyle(
        match=match,
        local=lambda m: f"{prefix}{m.group('num')}",
        spans=_english_spans,
        heading=_english_heading,
        heading_level=level,
        ends_article=lambda text: False,
        preamble_label="Preamble",
    )


def _en_heading_level(text: str) -> int | None:
    match = _EN_HEADING.match(text)
    return _EN_HEADING_LEVELS[match.group("unit").lower()] if match else None


def _en_heading_level_with_sections(text: str) -> int | None:
    """Part/Chapter headings, plus short ``Section N`` titles grouping Articles."""
    level = _en_heading_level(text)
    if level is not None or not EN_SECTION.match(text) or len(text) > TITLE_MAX:
        return level
    if not text.endswith((".", ";", ":")) or EN_SECTION.fullmatch(text.rstrip(".")):
        return 3
    return None


def _english_heading(lines: list[Line], match: re.Match[str]) -> str | None:
    """The Article's title: the rest of its first line, or a short title line after it."""
    rest = match.string[match.end() :].lstrip(_EN_TITLE_SEPARATORS)
    candidate = rest
    if not rest and len(lines) > 1:
        candidate = lines[1].text
        if _EN_PARAGRAPH.match(candidate) or _EN_ITEM.match(candidate):
            return None
    if candidate and len(candidate) <= TITLE_MAX and not candidate.endswith(_EN_SENTENCE_END):
        return candidate
    return None


def _english_spans(lines: list[Line], content_start: int) -> list[Span]:
    """Numbered paragraphs ``1.``/``(1)`` → ``p1``; lettered items ``(a)`` → ``a``/``p1.a``.

    A paragraph runs to the next numbered paragraph; an item is its own line plus roman
    sub-items ``(i)``, ``(ii)``….
    """
    paragraphs: list[OpenSpan] = []
    items: list[OpenSpan] = []
    last_item: OpenSpan | None = None
    for line in lines[1:]:
        numbered = _EN_PARAGRAPH.match(line.text)
        if numbered:
            number = numbered.group("dot") or numbered.group("paren")
            paragraphs.append(OpenSpan(f"p{number}", f"paragraph {number}", line.start, line.end))
            last_item = None
            continue
        item = _EN_ITEM.match(line.text)
        if item and last_item is not None and _is_roman_subitem(item.group("letter"), last_item):
            last_item.end = line.end
        elif item:
            letter = item.group("letter")
            prefix = f"{paragraphs[-1].key}." if paragraphs else ""
            last_item = OpenSpan(f"{prefix}{letter}", f"({letter})", line.start, line.end)
            items.append(last_item)
        if paragraphs:
            paragraphs[-1].end = line.end
    spans = [open_span.span() for open_span in paragraphs + items]
    spans.sort(key=lambda s: (s.start, -s.end))
    return unique_keys(spans)


def _is_roman_subitem(letter: str, last_item: OpenSpan) -> bool:
    """``(i)``/``(ii)`` under a lettered item, unless ``(i)`` simply follows ``(h)``."""
    if not _EN_ROMAN.match(f"({letter})"):
        return False
    previous = last_item.label[1:-1]
    return not (len(letter) == 1 and len(previous) == 1 and ord(letter) == ord(previous) + 1)
