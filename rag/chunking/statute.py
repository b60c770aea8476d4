"""Chinese statutes: one clause per 第X条, with its 款 and 项 as spans."""

from __future__ import annotations

import re

from rag.chunking.articles import ArticleStyle, OpenSpan
from rag.chunking.lines import Line, id_number, is_space, unique_keys
from rag.core.clauses import Span
from rag.core.documents import Document
from rag.core.numbering import CN_NUMERAL_CHARS, article_pattern, int_to_cn, statute_heading_level

# 第X条 / 第X条之一 at the start of a line. Cross-references that happen to open a line
# ("第五条、第六条…", "第五条的规定", "第五条第二款", "第五条之规定") are not articles.
ARTICLE = re.compile(article_pattern() + r"(?![、，,。；;：:至到和及或与第的中所之规])")
# A line opening an appendix after the articles: "附件：…", "附件1", "附表", "附：".
_APPENDIX = re.compile(r"^附(?:件|表|录)?[一二三四五六七八九十\d]*(?:[:：\s]|$)")
# Statute item 项: "（一）…" (full-width or ASCII brackets).
_ITEM = re.compile(rf"^[（(](?P<num>[{CN_NUMERAL_CHARS}]+)[）)]")
# Sub-items 目 under an item: "1." / "1．" / "1、" / "（1）".
_SUBITEM = re.compile(r"^(?:\d{1,3}\s*[.．、](?!\d)|[（(]\d{1,3}[）)])")


def statute_style(doc: Document) -> ArticleStyle:
    """第X条 articles; 编/章/节 lines are headings only when the reader recorded none."""
    infer_headings = not doc.headings
    return ArticleStyle(
        match=ARTICLE.match,
        local=_statute_local,
        spans=_statute_spans,
        heading=lambda lines, match: None,
        heading_level=statute_heading_level if infer_headings else (lambda text: None),
        ends_article=lambda text: bool(_APPENDIX.match(text)),
    )


def _statute_local(match: re.Match[str]) -> str:
    local = f"art{id_number(match.group('num'))}"
    if match.group("sub"):
        local += f"-{id_number(match.group('sub'))}"
    return local


def _statute_spans(lines: list[Line], content_start: int) -> list[Span]:
    """款 (paragraphs) and 项 (items) of one article as spans.

    Items ``（一）`` belong to the preceding 款 and are not 款 themselves; sub-items
    ``1.``/``（1）`` (目) extend the current item (or the 款 when there is no item).
    """
    paragraphs: list[OpenSpan] = []
    first = lines[0]
    start = content_start
    while start < first.end and is_space(first.text[start - first.start]):
        start += 1
    if start < first.end:
        paragraphs.append(OpenSpan("", "", start, first.end))
    for line in lines[1:]:
        item = _ITEM.match(line.text)
        if item and paragraphs:
            numeral = item.group("num")
            key, label = f"i{id_number(numeral)}", f"第（{numeral}）项"
            paragraphs[-1].items.append(OpenSpan(key, label, line.start, line.end))
            paragraphs[-1].end = line.end
        elif _SUBITEM.match(line.text) and paragraphs:
            if paragraphs[-1].items:
                paragraphs[-1].items[-1].end = line.end
            paragraphs[-1].end = line.end
        else:
            paragraphs.append(OpenSpan("", "", line.start, line.end))
    spans: list[Span] = []
    if len(paragraphs) > 1:
        for k, paragraph in enumerate(paragraphs, 1):
            name = f"第{int_to_cn(k)}款"
            spans.append(Span(f"p{k}", name, paragraph.start, paragraph.end))
            spans.extend(
                Span(f"p{k}.{i.key}", f"{name}{i.label}", i.start, i.end) for i in paragraph.items
            )
    elif paragraphs:
        spans.extend(item.span() for item in paragraphs[0].items)
    return unique_keys(spans)
