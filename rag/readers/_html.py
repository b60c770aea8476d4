"""HTML → clean lines: paragraphs kept, markup, scripts and page furniture dropped."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import Comment, Declaration, Doctype, ProcessingInstruction

from rag.readers._text import Block, clean_line, title_heading

_DROP_TAGS = frozenset(
    {"script", "style", "noscript", "iframe", "head", "template", "svg", "canvas",
     "object", "embed", "button", "select", "textarea", "form", "input", "nav"}
)
_BLOCK_TAGS = frozenset(
    {"p", "div", "li", "ul", "ol", "dl", "dt", "dd", "tr", "table", "thead", "tbody",
     "tfoot", "section", "article", "aside", "header", "footer", "main", "blockquote",
     "pre", "figure", "figcaption", "address", "center", "hr", "caption", "body", "html"}
)
_CELL_TAGS = frozenset({"td", "th"})
_HEADING = re.compile(r"^h([1-6])$")
# Classes/ids of page furniture blocks (QR codes, editor credits, share bars).
_FURNITURE_ATTR = re.compile(
    r"appendqr|qrcode|qr[-_]code|erweima|article-editor|show_author|share-?bar|bdshare",
    re.IGNORECASE,
)
_SOURCE_CLASS = "em_media"
_SKIP_STRINGS = (Comment, Declaration, Doctype, ProcessingInstruction)

# Whole lines that are page furniture, matched on cleaned text.
_FURNITURE_LINE = re.compile(
    r"^(?:责任编辑|原标题|编辑|校对|审核)\s*[:：]"
    r"|^返回.{0,20}$"
    r"|^.{0,30}(?:扫描?|长按|识别|扫一扫).{0,10}二维码|二维码.{0,10}(?:关注|下载)"
    r"|^.{0,30}(?:尽在.{0,10}APP|下载.{0,10}APP)|^海量资讯"
    r"|^[\s|｜/·•\-—_]*$",
    re.IGNORECASE,
)
# ``（文章来源：证券时报）`` or ``来源：证券时报``: used for the issuer, then dropped.
_SOURCE_LINE = re.compile(r"^[（(]?\s*(?:文章)?来源\s*[:：]\s*([^）)]{1,40}?)\s*[）)]?$")


@dataclass
class HtmlContent:
    """What an HTML fragment or page yields: clean lines plus hints for metadata."""

    blocks: list[Block] = field(default_factory=list)
    title: str | None = None
    source: str | None = None
    meta: dict[str, str] = field(default_factory=dict)


_FLUSH = object()  # walker marker: end the current line
_SPACE = object()  # walker marker: separate table cells


@dataclass
class _Walker:
    """Walks the tree iteratively (deeply nested pages must not hit the recursion limit)."""

    blocks: list[Block] = field(default_factory=list)
    buffer: list[str] = field(default_factory=list)

    def flush(self) -> None:
        line = clean_line("".join(self.buffer))
        self.buffer.clear()
        if line:
            self.blocks.append(Block(line))

    def walk(self, root: Tag) -> None:
        stack: list[object] = list(reversed(root.contents))
        while stack:
            item = stack.pop()
            if item is _FLUSH:
                self.flush()
            elif item is _SPACE:
                self.buffer.append(" ")
            elif isinstance(item, _SKIP_STRINGS):
                continue
            elif isinstance(item, NavigableString):
                self.buffer.append(str(item))
            elif isinstance(item, Tag):
                stack.extend(reversed(self.open(item)))

    def open(self, tag: Tag) -> list[object]:
        """Handle a tag's start; return what to walk next, in order."""
        name = tag.name.lower()
        if name in _DROP_TAGS or _is_furniture(tag):
            return []
        heading = _HEADING.match(name)
        if heading or name == "br" or name in _BLOCK_TAGS:
            self.flush()
        if heading:
            self.heading(tag, int(heading.group(1)))
            return []
        if name in _BLOCK_TAGS:
            return [*tag.contents, _FLUSH]
        if name in _CELL_TAGS:
            return [_SPACE, *tag.contents, _SPACE]
        return list(tag.contents)

    def heading(self, tag: Tag, level: int) -> None:
        inner = _Walker()
        inner.walk(tag)
        inner.flush()
        text = clean_line(" ".join(b.text for b in inner.blocks))
        if text:
            self.blocks.append(Block(text, level))


def _is_furniture(tag: Tag) -> bool:
    values = [*tag.get_attribute_list("class"), *tag.get_attribute_list("id")]
    marks = " ".join(str(value) for value in values if value)  # bs4 < 4.13 gives [None]
    return bool(marks) and bool(_FURNITURE_ATTR.search(marks))


def parse_html(html: str) -> HtmlContent:
    """Clean lines from an HTML page or fragment, with title, source and meta hints."""
    soup = BeautifulSoup(html, "lxml")
    content = HtmlContent(title=_page_title(soup), meta=_meta_tags(soup))
    content.source = _take_source(soup)
    walker = _Walker()
    root = soup.body or soup
    walker.walk(root)
    walker.flush()
    _, content.blocks = title_heading(_drop_furniture(walker.blocks, content))
    return content


def _take_source(soup: BeautifulSoup) -> str | None:
    """The outlet named in an ``em_media`` paragraph, which is then removed."""
    source = None
    for tag in soup.find_all(class_=_SOURCE_CLASS):
        match = _SOURCE_LINE.match(clean_line(tag.get_text()))
        if match and source is None:
            source = match.group(1)
        tag.decompose()
    return source


def _drop_furniture(blocks: list[Block], content: HtmlContent) -> list[Block]:
    kept = []
    for block in blocks:
        match = _SOURCE_LINE.match(block.text)
        if match:
            content.source = content.source or match.group(1)
            continue
        if block.level is None and _FURNITURE_LINE.search(block.text):
            continue
        kept.append(block)
    return kept


def _page_title(soup: BeautifulSoup) -> str | None:
    """``<title>``, or the first ``<h1>`` when the title is it plus a site suffix."""
    title, h1 = (
        clean_line(tag.get_text(" ")) if tag is not None else ""
        for tag in (soup.title, soup.find("h1"))
    )
    if h1 and (not title or h1 in title):
        return h1
    return title or None


def _meta_tags(soup: BeautifulSoup) -> dict[str, str]:
    meta: dict[str, str] = {}
    for tag in soup.find_all("meta"):
        key = tag.get("name") or tag.get("property") or tag.get("itemprop")
        value = tag.get("content")
        if isinstance(key, str) and isinstance(value, str) and value.strip():
            meta.setdefault(key.strip().lower(), value.strip())
    link = soup.find("link", rel="canonical")
    if link is not None and isinstance(link.get("href"), str):
        meta.setdefault("canonical", str(link["href"]))
    return meta
