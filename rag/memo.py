"""Answers as a memo a lawyer can paste: Markdown or Word (.docx).

For each question: the question as a heading, whether the corpus answers it, then each
quote verbatim, preceded by its formal citation, its place in the document, its status and
version, its source file and URL. The key sentence of a quote is bold; the quote text is
never changed (in Markdown, characters that markup would swallow are backslash-escaped,
so the rendered text is the exact quote). Refused questions say so and list the nearest
candidates marked as low confidence. Each memo ends with an audit line naming the index,
the model, and when the memo was made.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path

from rag import __version__
from rag.answers import Answer, Citation

DEFAULT_TITLE = "合规问答备忘录 Compliance memo"
CANDIDATES = "Nearest candidates (low confidence, shown for reference only, not an answer):"
LOW = "low confidence"
RELATED = "引文中提到的条款 Clauses referred to by the quotes"

# ---------------------------------------------------------------- shared pieces


def status_note(citation: Citation) -> str:
    """``现行有效 · version 2019-12-28 · law · superseded by …``: what a reader must know
    about the standing of the quoted text."""
    parts = []
    if citation.status:
        parts.append(citation.status)
    if citation.version:
        parts.append(f"version {citation.version}")
    elif citation.date:
        parts.append(f"dated {citation.date}")
    if citation.kind:
        parts.append(citation.kind)
    if citation.version_note:
        parts.append(citation.version_note)
    return " · ".join(parts)


def key_spans(citation: Citation) -> list[tuple[int, int]]:
    """Offsets of the key sentence(s) in the quote, clipped to the quote."""
    n = len(citation.text)
    spans = []
    for mark in citation.highlights:
        if mark.kind == "sentence":
            start, end = max(0, mark.start), min(n, mark.end)
            if start < end:
                spans.append((start, end))
    return sorted(spans)


def split_runs(text: str, spans: Sequence[tuple[int, int]]) -> list[tuple[str, bool]]:
    """``text`` cut into (piece, marked) runs; the pieces concatenate to ``text`` exactly."""
    runs: list[tuple[str, bool]] = []
    at = 0
    for start, end in sorted(spans):
        start, end = max(start, at), min(end, len(text))
        if start >= end:
            continue
        if start > at:
            runs.append((text[at:start], False))
        runs.append((text[start:end], True))
        at = end
    if at < len(text):
        runs.append((text[at:], False))
    return runs


def audit_info(answers: Sequence[Answer], index: Mapping[str, object] | None) -> dict[str, object]:
    if index:
        return dict(index)
    for item in answers:
        if item.index:
            return dict(item.index)
    return {}


def audit_line(
    answers: Sequence[Answer],
    *,
    generated_at: dt.datetime,
    index: Mapping[str, object] | None = None,
) -> str:
    """One line that lets a reader reproduce the memo: index, model, dates, version."""
    info = audit_info(answers, index)
    return (
        f"Audit: index fingerprint {info.get('fingerprint') or 'unknown'}"
        f" · model {info.get('model') or 'unknown'} ({info.get('model_identity') or 'unknown'})"
        f" · index built {info.get('created') or 'unknown'}"
        f" · memo generated {generated_at.strftime('%Y-%m-%d %H:%M:%S %z').strip()}"
        f" · rag {__version__}"
    )


def _now(generated_at: dt.datetime | None) -> dt.datetime:
    return generated_at or dt.datetime.now().astimezone()


def _verdict(item: Answer) -> str:
    if item.answered:
        return f"Answered (confidence {item.confidence:.2f}). {item.message}"
    if item.citations:
        return f"NOT ANSWERED (confidence {item.confidence:.2f}). {item.message}"
    return f"NOT ANSWERED. {item.message}"


def _heading(citation: Citation, rank: str | None = None) -> str:
    text = f"[{rank or citation.rank}] {citation.citation}"
    return text + (f" [{LOW}]" if citation.low_confidence else "")


def inner_lines(citation: Citation) -> list[str]:
    """前款 → 本条第一款: what each in-article reference names (its text when not quoted)."""
    return [f"{ref.phrase} → 本条{ref.label}: "
            + ("(quoted above)" if citation.quotes(ref) else ref.text)
            for ref in citation.inner]


# ---------------------------------------------------------------- Markdown

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


def _md_citation(citation: Citation, rank: str | None = None) -> list[str]:
    details = []
    if citation.path:
        details.append(md_escape(" › ".join(citation.path)))
    note = status_note(citation)
    if note:
        details.append(md_escape(note))
    details.append("Source: " + md_escape(citation.source or "unknown"))
    if citation.url:
        details.append("URL: " + md_escape(citation.url))
    inner = [f"- {md_escape(line)}" for line in inner_lines(citation)]
    return [
        f"**{md_escape(_heading(citation, rank))}**",
        "",
        "  \n".join(details),  # hard line breaks between the detail lines
        "",
        md_quote(citation),
        "",
        *([*inner, ""] if inner else []),
    ]


def memo_markdown(
    answers: Sequence[Answer],
    *,
    title: str | None = None,
    generated_at: dt.datetime | None = None,
    index: Mapping[str, object] | None = None,
) -> str:
    """The memo as Markdown text."""
    when = _now(generated_at)
    out = [f"# {md_escape(title or DEFAULT_TITLE)}", ""]
    out += [f"_{md_escape(audit_line(answers, generated_at=when, index=index))}_", ""]
    for number, item in enumerate(answers, 1):
        out += [f"## {number}. {md_escape(item.question)}", ""]
        out += [md_escape(_verdict(item)), ""]
        if item.citations and not item.answered:
            out += [md_escape(CANDIDATES), ""]
        for citation in item.citations:
            out += _md_citation(citation)
        if item.related:
            out += [f"### {md_escape(RELATED)}", ""]
            for citation in item.related:
                out += _md_citation(citation, rank="→")
    out += ["---", "", md_escape(audit_line(answers, generated_at=when, index=index)), ""]
    return "\n".join(out)


# ---------------------------------------------------------------- Word


def memo_docx(
    answers: Sequence[Answer],
    path: Path | str,
    *,
    title: str | None = None,
    generated_at: dt.datetime | None = None,
    index: Mapping[str, object] | None = None,
) -> Path:
    """Write the memo as a Word document; returns its path.

    Each quote is one indented paragraph whose runs concatenate to the quote exactly
    (line breaks inside it are Word line breaks); the key sentence runs are bold.
    """
    from docx import Document
    from docx.shared import Pt, RGBColor

    when = _now(generated_at)
    audit = audit_line(answers, generated_at=when, index=index)
    doc = Document()
    doc.add_heading(title or DEFAULT_TITLE, level=0)
    small = doc.add_paragraph().add_run(audit)
    small.font.size = Pt(8)
    small.font.color.rgb = RGBColor(0x55, 0x55, 0x55)

    for number, item in enumerate(answers, 1):
        doc.add_heading(f"{number}. {item.question}", level=1)
        verdict = doc.add_paragraph().add_run(_verdict(item))
        verdict.bold = not item.answered
        if item.citations and not item.answered:
            doc.add_paragraph(CANDIDATES).runs[0].italic = True
        for citation in item.citations:
            _docx_citation(doc, citation)
        if item.related:
            doc.add_heading(RELATED, level=2)
            for citation in item.related:
                _docx_citation(doc, citation, rank="→")
    closing = doc.add_paragraph().add_run(audit)
    closing.font.size = Pt(8)
    path = Path(path)
    doc.save(str(path))
    return path


def _docx_citation(doc, citation: Citation, rank: str | None = None) -> None:  # type: ignore[no-untyped-def]
    from docx.shared import Cm, Pt, RGBColor

    head = doc.add_paragraph()
    head.paragraph_format.space_before = Pt(8)
    head.add_run(f"[{rank or citation.rank}] ").bold = True
    head.add_run(citation.citation).bold = True
    if citation.low_confidence:
        flag = head.add_run(f" [{LOW}]")
        flag.italic = True
        flag.font.color.rgb = RGBColor(0xA0, 0x40, 0x00)
    details = [" › ".join(citation.path)] if citation.path else []
    details += [status_note(citation), f"Source: {citation.source or 'unknown'}"]
    if citation.url:
        details.append(f"URL: {citation.url}")
    info = doc.add_paragraph().add_run("\n".join(d for d in details if d))
    info.font.size = Pt(9)
    info.font.color.rgb = RGBColor(0x44, 0x44, 0x44)
    quote = doc.add_paragraph(style="Quote")
    quote.paragraph_format.left_indent = Cm(1)
    for piece, marked in split_runs(citation.text, key_spans(citation)):
        run = quote.add_run(piece)
        run.bold = marked
        run.italic = False
    for line in inner_lines(citation):
        note = doc.add_paragraph(style="List Bullet").add_run(line)
        note.font.size = Pt(9)
