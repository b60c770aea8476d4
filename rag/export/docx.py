"""Memos as Word documents: each quote one paragraph whose runs join to the exact quote."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from rag.answer.types import Answer, Citation
from rag.answer.wording import CANDIDATES, LOW_CONFIDENCE, RELATED, verdict
from rag.core.files import replace_file
from rag.export.common import (
    DEFAULT_TITLE,
    audit_line,
    comparison_note,
    duty_line,
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
    xml_safe,
)


def memo_docx(
    answers: Sequence[Answer],
    path: Path | str,
    *,
    title: str | None = None,
    generated_at: dt.datetime | None = None,
    index: Mapping[str, object] | None = None,
) -> Path:
    """Write the memo as a Word document (all of it, or nothing); returns its path."""
    path = Path(path)
    replace_file(path, memo_docx_bytes(answers, title=title, generated_at=generated_at,
                                       index=index))
    return path


def memo_docx_bytes(
    answers: Sequence[Answer],
    *,
    title: str | None = None,
    generated_at: dt.datetime | None = None,
    index: Mapping[str, object] | None = None,
) -> bytes:
    """The memo as the bytes of a Word document.

    Each quote is one indented paragraph whose runs concatenate to the quote exactly
    (line breaks inside it are Word line breaks); the key sentence runs are bold.
    """
    from docx import Document
    from docx.shared import Pt, RGBColor

    when = now(generated_at)
    audit = audit_line(answers, generated_at=when, index=index)
    doc = Document()
    doc.add_heading(xml_safe(title or DEFAULT_TITLE), level=0)
    small = doc.add_paragraph().add_run(audit)
    small.font.size = Pt(8)
    small.font.color.rgb = RGBColor(0x55, 0x55, 0x55)

    for number, item in enumerate(answers, 1):
        doc.add_heading(xml_safe(f"{number}. {item.question}"), level=1)
        line = doc.add_paragraph().add_run(xml_safe(verdict(item)))
        line.bold = not item.answered
        if item.citations and not item.answered:
            doc.add_paragraph(CANDIDATES).runs[0].italic = True
        for citation in item.citations:
            _docx_citation(doc, citation, cited=item.citations)
        if item.related:
            doc.add_heading(RELATED, level=2)
            for citation in item.related:
                _docx_citation(doc, citation, rank="→")
    closing = doc.add_paragraph().add_run(audit)
    closing.font.size = Pt(8)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def _docx_citation(doc: Any, citation: Citation, rank: str | None = None,
                   cited: Sequence[Citation] = ()) -> None:
    from docx.shared import Cm, Pt, RGBColor

    head = doc.add_paragraph()
    head.paragraph_format.space_before = Pt(8)
    head.add_run(f"[{rank or citation.rank}] ").bold = True
    head.add_run(xml_safe(citation.citation)).bold = True
    if citation.low_confidence:
        flag = head.add_run(f" [{LOW_CONFIDENCE}]")
        flag.italic = True
        flag.font.color.rgb = RGBColor(0xA0, 0x40, 0x00)
    details = [" › ".join(citation.path)] if citation.path else []
    details += [status_note(citation), f"Source: {citation.source or 'unknown'}"]
    if citation.pages:
        details.append(f"Page: {page_note(citation)}")
    if citation.url:
        details.append(f"URL: {citation.url}")
    penalties = penalty_line(citation)
    if penalties:
        details.append(f"Penalty: {penalties}")
    duty = duty_line(citation, cited)
    if duty:
        details.append(f"Duty: {duty}")
    info = doc.add_paragraph().add_run(xml_safe("\n".join(d for d in details if d)))
    info.font.size = Pt(9)
    info.font.color.rgb = RGBColor(0x44, 0x44, 0x44)
    quote = doc.add_paragraph(style="Quote")
    quote.paragraph_format.left_indent = Cm(1)
    for piece, marked in split_runs(citation.text, key_spans(citation)):
        run = quote.add_run(xml_safe(piece))
        run.bold = marked
        run.italic = False
    for line in inner_lines(citation):
        note = doc.add_paragraph(style="List Bullet").add_run(xml_safe(line))
        note.font.size = Pt(9)
    for compared, quoted in shown_comparisons(citation):
        note = doc.add_paragraph().add_run(xml_safe(comparison_note(citation, compared)))
        note.italic = True
        note.font.size = Pt(9)
        if quoted:
            for side in (compared.newer, compared.older):
                add_marked_paragraph(doc, side_runs(side), heading=side_heading(side))


# Word's own colours for tracked changes: insertions underlined, deletions struck through.
INSERTED_COLOR, DELETED_COLOR = (0x1F, 0x4E, 0x9A), (0xB4, 0x1E, 0x1E)


def add_marked_paragraph(
    doc: Any, runs: Iterable[tuple[str, str | None]], *, heading: str | None = None
) -> None:
    """Verbatim text as an indented paragraph, one run per (piece, mark): ``inserted``
    pieces underlined, ``deleted`` ones struck through (as lawyers mark a revision)."""
    from docx.shared import Cm, Pt, RGBColor

    if heading:
        head = doc.add_paragraph().add_run(xml_safe(heading))
        head.font.size = Pt(9)
        head.bold = True
    quote = doc.add_paragraph(style="Quote")
    quote.paragraph_format.left_indent = Cm(1)
    for piece, mark in runs:
        run = quote.add_run(xml_safe(piece))
        run.italic = False
        if mark == "inserted":
            run.font.underline = True
            run.font.color.rgb = RGBColor(*INSERTED_COLOR)
        elif mark == "deleted":
            run.font.strike = True
            run.font.color.rgb = RGBColor(*DELETED_COLOR)
