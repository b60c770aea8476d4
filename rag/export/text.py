"""Answers as terminal text: verdict, then each citation with its verbatim quote."""

from __future__ import annotations

import os
import re
from typing import TextIO

from rag.answer.types import Answer, Citation
from rag.answer.wording import CANDIDATES, verdict
from rag.export.common import (
    comparison_note,
    heading,
    inner_lines,
    key_spans,
    page_note,
    penalty_line,
    split_runs,
    status_note,
)

BOLD, RESET = "\x1b[1m", "\x1b[0m"
# Control characters a terminal would obey (ESC starts colour, cursor and title codes).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` safe to print on a terminal: control characters shown as ``\\x1b``."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def use_color(choice: str, stream: TextIO) -> bool:
    """``always``, ``never``, or ``auto``: only on a terminal and without ``NO_COLOR``."""
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


def marked_quote(citation: Citation, *, color: bool) -> str:
    """The quote; with ``color`` its key sentence in ANSI bold (else the exact quote)."""
    if not color:
        return citation.text
    pieces = []
    for piece, marked in split_runs(citation.text, key_spans(citation)):
        # bold per line so a pager never carries the attribute past a line break
        pieces.append("\n".join(f"{BOLD}{p}{RESET}" if p else p for p in piece.split("\n"))
                      if marked else piece)
    return "".join(pieces)


def format_citation(citation: Citation, *, color: bool, rank: str | None = None) -> str:
    """One citation: heading, where it sits, status, source, id, then the quote."""
    head = printable(heading(citation, rank))
    lines = [f"{BOLD}{head}{RESET}" if color else head]
    if citation.path:
        lines.append("    in:     " + printable(" › ".join(citation.path)))
    note = status_note(citation)
    if note:
        lines.append("    status: " + printable(note))
    lines.append("    source: " + printable(citation.source or "unknown"))
    if citation.pages:
        lines.append("    page:   " + printable(page_note(citation)))
    if citation.url:
        lines.append("    url:    " + printable(citation.url))
    score = "" if citation.via == "cross_reference" else f"  (score {citation.score:.4f})"
    lines.append(f"    id:     {citation.clause_id}{score}")
    penalties = penalty_line(citation)
    if penalties:
        lines.append("    penalty: " + printable(penalties))
    if citation.enforces:
        lines.append("    enforces: " + printable(citation.enforces))
    notes = [*inner_lines(citation), *(comparison_note(citation, c) for c in citation.versions)]
    return ("\n".join(lines) + "\n\n" + marked_quote(citation, color=color) + "\n"
            + "".join(f"    {printable(line)}\n" for line in notes))


def format_answer(result: Answer, *, color: bool = False) -> str:
    """Readable text: verdict, then each citation followed by its verbatim quote."""
    out = [f"Q: {printable(result.question)}", verdict(result)]
    if result.citations and not result.answered:
        out.append(CANDIDATES)
    out.append("")
    for citation in result.citations:
        out.append(format_citation(citation, color=color))
    if result.related:
        out.append("Clauses referred to by the quotes above:\n")
        for citation in result.related:
            out.append(format_citation(citation, color=color, rank="→"))
    return "\n".join(out).rstrip("\n") + "\n"
