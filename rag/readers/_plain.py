"""Plain text: one paragraph per line; policy announcements recognised by their lede."""

from __future__ import annotations

import re

from rag.core.numbering import CN_NUMERAL_CHARS, STRUCTURE_LABEL, statute_heading_level
from rag.readers._text import Block, FormatError, Parsed, clean_line, cn_date, relative_levels

_LEDE_LINES = 5
_TITLE_CHARS = 100
_ANNOUNCED = re.compile(
    r"([^，。；：！？、\s][^，。；：！？\s]{1,59}?)(?:联合)?(?:印发|发布|公布|出台|下发)了?"
    r"《([^》]{2,100})》"
)
_CONTENT_OF = re.compile(r"^《([^》]{2,100})》(?:的)?(?:主要内容|全文)如下")
_ISSUER_LEAD = re.compile(r"^(?:近日|日前|最近|近期|今天|今日|昨天|昨日)")
_POLICY_TITLE = re.compile(
    r"(?:意见|方案|通知|决定|办法|规定|纲要|规划|计划|细则|措施|指引|指南|决议|通告|公告)"
    r"(?:[（(][^）)]*[）)])?$"
)
_BODY_START = re.compile(rf"^(?:{STRUCTURE_LABEL}|[{CN_NUMERAL_CHARS}]+、)")
_EDITION = re.compile(r"[（(][^）)]*[）)]$")
_SECTION_HEADING = re.compile(rf"^[{CN_NUMERAL_CHARS}]+、\S")
_SENTENCE_END = re.compile(r"[。；;！？]")
_HEADING_CHARS = 40


def read_plain(text: str, *, fallback_title: str) -> Parsed:
    """Plain text. A report that announces a document (``…印发了《X》``) is titled X."""
    lines = [line for line in (clean_line(raw) for raw in text.split("\n")) if line]
    if not lines:
        raise FormatError("empty file")
    title, issuer = announced_document(lines[:_LEDE_LINES])
    kind = "policy" if title and _POLICY_TITLE.search(title) else "other"
    return Parsed(
        title=title or lines[0][:_TITLE_CHARS] or fallback_title,
        blocks=plain_blocks(lines),
        kind=kind,
        issuer=issuer if title else None,
        extra={"format": "text"},
    )


def title_kind(title: str) -> str:
    """The kind a title names, for files without other metadata (PDF, Word).

    ``…法`` is a law, ``…条例`` a regulation, ``…办法/规定/通知/意见…`` policy, else other.
    A sidecar sets the kind when this guess is wrong.
    """
    name = _EDITION.sub("", title.strip())
    if name.endswith("法") and not name.endswith(("办法", "方法", "做法", "说法", "用法")):
        return "law"
    if name.endswith("条例"):
        return "regulation"
    return "policy" if _POLICY_TITLE.search(name) else "other"


def lead_date(lines: list[str]) -> str | None:
    """The first Chinese date in the lines before the body of a PDF or Word file begins
    (``（2019年12月28日第十三届全国人民代表大会常务委员会第十五次会议修订）`` under the
    title): the document's own date, better than the date its file was made."""
    for line in lines[:_LEDE_LINES]:
        if _BODY_START.match(line):
            return None
        found = cn_date(line)
        if found:
            return found
    return None


def announced_document(lede: list[str]) -> tuple[str | None, str | None]:
    """The 《title》 a lede announces and who issued it.

    From ``X印发了《T》`` (issuer X) or ``《T》主要内容如下`` (no issuer unless the same T).
    """
    issuer = title = None
    for line in lede:
        match = _ANNOUNCED.search(line)
        if match and title is None:
            issuer = _ISSUER_LEAD.sub("", match.group(1)) or None
            title = match.group(2)
    for line in lede:
        match = _CONTENT_OF.match(line)
        if match:
            if match.group(1) != title:
                issuer = None
            return match.group(1), issuer
    return title, issuer


def plain_blocks(lines: list[str]) -> list[Block]:
    """Lines as blocks; short 第X编/章/节 lines (else short ``一、`` lines) are headings."""
    statute = [statute_heading_level(line) for line in lines]
    if any(level is not None for level in statute):
        return relative_levels([Block(line, lvl) for line, lvl in zip(lines, statute, strict=True)])
    return [Block(line, 1 if _is_section_heading(line) else None) for line in lines]


def _is_section_heading(line: str) -> bool:
    return (
        bool(_SECTION_HEADING.match(line))
        and len(line) <= _HEADING_CHARS
        and not _SENTENCE_END.search(line)
        and "，" not in line
    )
