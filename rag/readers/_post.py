"""News posts (YAML front matter + HTML body) and plain HTML pages."""

from __future__ import annotations

import re

from rag.core.documents import KINDS
from rag.readers._frontmatter import list_field, text_field
from rag.readers._html import parse_html
from rag.readers._text import FormatError, Parsed, clean_line, parse_date

_AUTOLINK = re.compile(r"<(https?://[^>\s]+)>")
# A "back to …" navigation link with the separators around it.
_BACK_LINK = re.compile(r"[|｜]?[ \t]*\[\s*返回[^\]]*\]\([^)]*\)[ \t]*[|｜]?")
_MD_LINK = re.compile(r"(!?)\[([^\]]*)\]\(([^)\s]*)(?:\s+\"[^\"]*\")?\)")
_HTTP = re.compile(r"^https?://\S+$")
# Category/tag words that name a topic, not an outlet.
_GENERIC_TAGS = frozenset(
    {"金融", "财经", "要闻", "资讯", "新闻", "国内", "国际", "股票", "证券", "基金", "宏观",
     "公司", "市场", "产经", "滚动", "头条", "评论", "观点", "政策", "监管", "科技"}
)
_HTML_DATE_KEYS = ("article:published_time", "pubdate", "publishdate", "publish_date",
                   "date", "dc.date", "dcterms.date")
_HTML_ISSUER_KEYS = ("author", "og:site_name", "source", "publisher")


def read_post(meta: dict[str, object], body: str, *, fallback_title: str) -> Parsed:
    """A front-matter post whose body is HTML (possibly followed by markdown links)."""
    if not body.strip():
        raise FormatError("front matter but no body")
    html, body_url = _strip_markdown_tail(body)
    content = parse_html(html)
    if not content.blocks:
        raise FormatError("no text in HTML body")
    return Parsed(
        title=text_field(meta, "title") or content.title or fallback_title,
        blocks=content.blocks,
        kind=front_matter_kind(meta, default="news"),
        date=parse_date(meta.get("date") or meta.get("pubDate") or meta.get("published")),
        issuer=text_field(meta, "author") or content.source or _outlet_hint(meta),
        url=body_url or _front_matter_url(meta),
        extra={"format": "post"},
    )


def read_html(html: str, *, fallback_title: str) -> Parsed:
    """A standalone HTML page: title from ``<title>``/``<h1>``, text from the body."""
    content = parse_html(html)
    if not content.blocks:
        raise FormatError("no text in HTML body")
    meta = content.meta
    return Parsed(
        title=content.title or content.blocks[0].text[:100] or fallback_title,
        blocks=content.blocks,
        kind=front_matter_kind(dict(meta), default="other"),
        date=_first_date(meta),
        issuer=_first(meta, _HTML_ISSUER_KEYS) or content.source,
        url=_http(meta.get("canonical")) or _http(meta.get("og:url")),
        extra={"format": "html"},
    )


def _strip_markdown_tail(body: str) -> tuple[str, str | None]:
    """Remove autolinks and markdown links mixed into an HTML body.

    Returns the cleaned body and the first autolinked URL (the article's source). Links
    whose text starts with 返回 ("back to …") are navigation and dropped with their
    ``｜`` separators; other links keep their text, images are dropped.
    """
    urls = _AUTOLINK.findall(body)
    body = _AUTOLINK.sub("\n", body)
    body = _MD_LINK.sub(_link_text, _BACK_LINK.sub("", body))
    return body, urls[0] if urls else None


def _link_text(match: re.Match[str]) -> str:
    is_image, text = match.group(1), match.group(2)
    return "" if is_image else text


def front_matter_kind(meta: dict[str, object], *, default: str) -> str:
    """``kind`` from front matter when it is one of :data:`KINDS`, else ``default``."""
    kind = text_field(meta, "kind")
    return kind if kind in KINDS else default


def _front_matter_url(meta: dict[str, object]) -> str | None:
    for key in ("url", "link", "source", "permalink"):
        url = _http(text_field(meta, key))
        if url:
            return url
    return None


def _http(value: str | None) -> str | None:
    return value if value and _HTTP.match(value) else None


def _outlet_hint(meta: dict[str, object]) -> str | None:
    """An outlet name among tags/categories, e.g. tag ``证券时报新闻`` → ``证券时报``."""
    for value in [*list_field(meta, "tags"), *list_field(meta, "categories")]:
        name = clean_line(value)
        if name.endswith("新闻") and len(name) > 2:
            name = name[:-2]
        if name and not name.isascii() and name not in _GENERIC_TAGS:
            return name
    return None


def _first(meta: dict[str, str], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        if meta.get(key):
            return meta[key]
    return None


def _first_date(meta: dict[str, str]) -> str | None:
    for key in _HTML_DATE_KEYS:
        found = parse_date(meta.get(key))
        if found:
            return found
    return None
