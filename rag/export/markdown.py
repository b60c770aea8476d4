"""Memos as Markdown: the key sentence bold, every other character rendering as the quote."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping, Sequence

from rag.answer.types import Answer, Citation, VersionSide
from rag.answer.wording import CANDIDATES, RELATED, verdict
from rag.export.common import (
    DEFAULT_TITLE,
    audit_line,
    comparison_note,
    duty_line,
    heading,
    inner_lines,
    key_spans,
    now,
    page_note,
    penalty_line,
    shown_comparisons,
    side_heading,
    side_runs,
    split_runs,
    status_note,
)

MD_TAGS = {"deleted": "del", "inserted": "ins"}

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~&])")
_MD_LINE_START = re.compile(r"^(\s*)([-+=]|\d+(?=[.)]))")


def md_escape(text: str) -> str:
    """Backslash-escape what Markdown would read as markup; renders as ``text`` exactly."""
    lines = []
    for line in text.split("\n"):
        line = _MD_SPECIAL.sub(r"\\\1", line)
        match = _MD_LINE_START.match(line)
        if match:  # list markers and setext underlines at the start of a line
            pos = match.end()
            if match.group(2)[0].isdigit():
                line = line[:pos] + "\\" + line[pos:]  # 1. → 1\.
            else:
                line = line[: match.start(2)] + "\\" + line[match.start(2) :]
        lines.append(line)
    return "\n".join(lines)


def md_unescape(text: str) -> str:
    """Inverse of :func:`md_escape` (for checks: the rendered text of a quote)."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text)


def _edge(ch: str) -> bool:
    return not ch or ch.isspace() or unicodedata.category(ch)[0] in "PS"


def _emphasis(before: str, piece: str, after: str) -> str:
    """``piece`` in ``**`` between the characters ``before`` and ``after`` (empty at a line
    end). CommonMark only opens ``**`` before punctuation when whitespace or punctuation
    precedes it (and mirrors that to close), which CJK text often breaks; punctuation that
    would stop the bold from rendering is moved outside the markers."""
    start, end = 0, len(piece)
    while start < end and _edge(piece[start]) and not _edge(before):
        start += 1
    while end > start and _edge(piece[end - 1]) and not _edge(after):
        end -= 1
    core = piece[start:end]
    if not core.strip():
        return md_escape(piece)
    return md_escape(piece[:start]) + f"**{md_escape(core)}**" + md_escape(piece[end:])


def md_quote(citation: Citation) -> str:
    """The quote as a Markdown block quote, key sentence in bold, one paragraph per line."""
    text = citation.text
    lines: list[str] = [""]
    at = 0
    for piece, marked in split_runs(text, key_spans(citation)):
        for n, part in enumerate(piece.split("\n")):
            if n:
                lines.append("")
                at += 1
            if part and marked:
                before = text[at - 1] if at and text[at - 1] != "\n" else ""
                after = text[at + len(part)] if at + len(part) < len(text) else ""
                lines[-1] += _emphasis(before, part, "" if after == "\n" else after)
            elif part:
                lines[-1] += md_escape(part)
            at += len(part)
    return "\n>\n".join(f"> {line}" if line else ">" for line in lines)


def md_marked(side: VersionSide) -> str:
    """A version's text as a Markdown block quote, deleted words in ``<del>``, inserted
    in ``<ins>`` (tags reopened on each line); the rest renders as the text exactly."""
    lines = [""]
    for piece, mark in side_runs(side):
        for n, part in enumerate(piece.split("\n")):
            if n:
                lines.append("")
            if part:
                tag = MD_TAGS.get(mark or "")
                lines[-1] += f"<{tag}>{md_escape(part)}</{tag}>" if tag else md_escape(part)
    return "\n>\n".join(f"> {line}" if line else ">" for line in lines)


def md_versions(citation: Citation) -> list[str]:
    """The cited article beside its other versions: a note, and both texts when changed."""
    out = []
    for compared, quoted in shown_comparisons(citation):
        out += [f"_{md_escape(comparison_note(citation, compared))}_", ""]
        if quoted:
            for side in (compared.newer, compared.older):
                out += [md_escape(side_heading(side)), "", md_marked(side), ""]
    return out


def _md_citation(citation: Citation, rank: str | None = None,
                 cited: Sequence[Citation] = ()) -> list[str]:
    details = []
    if citation.path:
        details.append(md_escape(" › ".join(citation.path)))
    note = status_note(citation)
    if note:
        details.append(md_escape(note))
    details.append("Source: " + md_escape(citation.source or "unknown"))
    if citation.pages:
        details.append("Page: " + md_escape(page_note(citation)))
    if citation.url:
        details.append("URL: " + md_escape(citation.url))
    penalties = penalty_line(citation)
    if penalties:
        details.append("Penalty: " + md_escape(penalties))
    duty = duty_line(citation, cited)
    if duty:
        details.append("Duty: " + md_escape(duty))
    inner = [f"- {md_escape(line)}" for line in inner_lines(citation)]
    return [
        f"**{md_escape(heading(citation, rank))}**",
        "",
        "  \n".join(details),  # hard line breaks between the detail lines
        "",
        md_quote(citation),
        "",
        *([*inner, ""] if inner else []),
        *md_versions(citation),
    ]


def memo_markdown(
    answers: Sequence[Answer],
    *,
    title: str | None = None,
    generated_at: dt.datetime | None = None,
    index: Mapping[str, object] | None = None,
) -> str:
    """The memo as Markdown text."""
    when = now(generated_at)
    out = [f"# {md_escape(title or DEFAULT_TITLE)}", ""]
    out += [f"_{md_escape(audit_line(answers, generated_at=when, index=index))}_", ""]
    for number, item in enumerate(answers, 1):
        out += [f"## {number}. {md_escape(item.question)}", ""]
        out += [md_escape(verdict(item)), ""]
        if item.citations and not item.answered:
            out += [md_escape(CANDIDATES), ""]
        for citation in item.citations:
            out += _md_citation(citation, cited=item.citations)
        if item.related:
            out += [f"### {md_escape(RELATED)}", ""]
            for citation in item.related:
                out += _md_citation(citation, rank="→")
    out += ["---", "", md_escape(audit_line(answers, generated_at=when, index=index)), ""]
    return "\n".join(out)
