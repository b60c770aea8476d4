"""Markdown → clean lines: headings kept as heading lines, link/image syntax dropped."""

from __future__ import annotations

import re

from rag.core.documents import STATUSES
from rag.readers._frontmatter import text_field
from rag.readers._post import front_matter_kind
from rag.readers._text import (
    Block,
    FormatError,
    Parsed,
    clean_line,
    parse_date,
    title_heading,
)

_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_HEADING = re.compile(r"^\s{0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_RULE = re.compile(r"^\s{0,3}(?:[-*_][ \t]*){3,}$")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*$")
_FENCE = re.compile(r"^\s{0,3}(?:```|~~~)")
_QUOTE = re.compile(r"^\s{0,3}>\s?")
_BULLET = re.compile(r"^\s*[-*+][ \t]+")
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_AUTOLINK = re.compile(r"<((?:https?|mailto):[^>\s]+)>")
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_CODE = re.compile(r"`([^`]+)`")
_MARKUP_CHARS = re.compile(r"[\[<*_`]")
_INLINE_TAG = re.compile(
    r"</?(?:b|i|u|s|em|strong|span|font|sup|sub|small|big|mark)(?:\s[^>]*)?>|<br\s*/?>",
    re.IGNORECASE,
)


def strip_comments(text: str) -> str:
    """Remove HTML comments, keeping the newlines they spanned out of the way."""
    return _COMMENT.sub("", text)


def inline_text(line: str) -> str:
    """Drop inline markdown syntax from one line, keeping link text."""
    if not _MARKUP_CHARS.search(line):
        return clean_line(line)
    line = _IMAGE.sub("", line)
    line = _LINK.sub(r"\1", line)
    line = _AUTOLINK.sub(r"\1", line)
    line = _STRONG.sub(r"\2", line)
    line = _CODE.sub(r"\1", line)
    return clean_line(_INLINE_TAG.sub("", line))


def markdown_blocks(body: str, *, heading_shift: int = 0) -> list[Block]:
    """One block per non-empty source line; ``#`` headings get level ``#count - shift``."""
    blocks = []
    for raw in strip_comments(body).split("\n"):
        block = _line_block(raw, heading_shift)
        if block is not None:
            blocks.append(block)
    return blocks


def _line_block(raw: str, heading_shift: int) -> Block | None:
    if _FENCE.match(raw) or _TABLE_RULE.match(raw) or _RULE.match(raw):
        return None
    heading = _HEADING.match(raw)
    if heading:
        text = inline_text(heading.group(2))
        level = max(1, len(heading.group(1)) - heading_shift)
        return Block(text, level) if text else None
    text = inline_text(_BULLET.sub("", _QUOTE.sub("", raw)))
    return Block(text) if text else None


def read_markdown(
    meta: dict[str, object] | None, body: str, *, fallback_title: str
) -> Parsed:
    """A markdown file (not LawRefBook): optional front matter, headings, paragraphs.

    A leading ``# `` heading is the document title: it stays the first line of the text
    but is not recorded as a heading; the remaining heading levels start at 1.
    """
    blocks = markdown_blocks(body)
    if not blocks:
        raise FormatError("front matter but no body" if meta is not None else "no text")
    meta = meta or {}
    heading_title, blocks = title_heading(blocks)
    return Parsed(
        title=text_field(meta, "title") or heading_title or blocks[0].text[:100]
        or fallback_title,
        blocks=blocks,
        kind=front_matter_kind(meta, default="other"),
        date=parse_date(meta.get("date")),
        issuer=text_field(meta, "issuer", "author"),
        url=text_field(meta, "url"),
        version=parse_date(meta.get("version")),
        valid_from=parse_date(meta.get("valid_from")),
        status=_status(meta),
        extra={"format": "markdown"},
    )


def _status(meta: dict[str, object]) -> str | None:
    status = text_field(meta, "status")
    return status if status in STATUSES else None
