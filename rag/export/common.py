"""What every export shows the same way: status notes, key-sentence runs, the audit line.

A memo (Markdown or Word) gives, for each question, the question as a heading, whether
the corpus answers it, then each quote verbatim, preceded by its formal citation, its
place in the document, its status and version, its source file and URL. The key sentence
of a quote is marked; the quote text is never changed. Refused questions say so and list
the nearest candidates marked as low confidence. Each memo ends with an audit line naming
the index, the model, and when the memo was made.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence

from rag.answer.types import (
    Answer,
    Citation,
    Comparison,
    Highlight,
    LinkedClause,
    VersionSide,
)
from rag.answer.wording import LOW_CONFIDENCE
from rag.changes import RELATION_LABELS
from rag.core.pages import page_label, page_label_en
from rag.core.version import __version__
from rag.core.versions import status_label

DEFAULT_TITLE = "合规问答备忘录 Compliance memo"
# Characters XML 1.0 cannot hold (Word files are XML): C0 controls but tab and newline,
# lone surrogates, U+FFFE/U+FFFF. A question pasted from a PDF can carry them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Formula starters a spreadsheet would run (OWASP CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def xml_safe(text: str) -> str:
    """``text`` with characters XML cannot hold shown as their control pictures (␁) or
    U+FFFD; everything else unchanged. For Word exports only: JSON keeps quotes exact."""
    return _NOT_XML.sub(lambda m: chr(0x2400 + ord(m.group())) if m.group() < "\x20"
                        else "\ufffd", text)


def csv_safe(value: object) -> object:
    """A CSV cell a spreadsheet will not run as a formula: text starting with = + - @,
    a tab or a carriage return gets a leading apostrophe (OWASP). Numbers stay numbers."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value

def duty_line(citation: Citation, cited: Sequence[Citation]) -> str | None:
    """``对应义务 第五十条`` (``enforces Article 2`` for an English article; the law's short
    name too when the duty is another document's): the duty among ``cited`` that a penalty
    was cited for; None for a clause cited for itself."""
    duty = next((c for c in cited if citation.enforces and c.clause_id == citation.enforces),
                None)
    if duty is None:
        return None
    english = duty.label.isascii()
    name = duty.label
    if duty.doc_id != citation.doc_id:
        name = duty.document.removeprefix("中华人民共和国") + (" " if english else "") + name
    return ("enforces " if english else "对应义务 ") + name


def _short(linked: LinkedClause, citation: Citation) -> str:
    """第一百八十七条 in the cited clause's own document, else 刑法第一百六十条."""
    if linked.clause_id.split("#", 1)[0] == citation.doc_id:
        return linked.label
    space = " " if linked.label.isascii() else ""
    return linked.document.removeprefix("中华人民共和国") + space + linked.label


def penalty_line(citation: Citation) -> str | None:
    """``由第一百八十七条处罚 · 刑法第一百八十条 · 民事责任 第八十五条`` (``penalised by
    Article 20 · civil liability: Article 24`` for an English article): what enforces the
    cited clause; the plain note when a consequence was asked and nothing does."""
    if citation.penalty_note:
        return citation.penalty_note
    if not citation.penalties:
        return None
    admin = [_short(p, citation) for p in citation.penalties
             if p.kind in ("explicit", "implicit")]
    civil = [_short(p, citation) for p in citation.penalties if p.kind == "civil"]
    english = citation.label.isascii()  # Article 2 of an English statute
    parts = []
    if admin:
        parts.append("penalised by " + ", ".join(admin) if english
                     else "由" + "、".join(admin) + "处罚")
    parts += [_short(p, citation) for p in citation.penalties if p.kind == "criminal"]
    if civil:
        parts.append(("civil liability: " + ", ".join(civil)) if english
                     else "民事责任 " + "、".join(civil))
    return " · ".join(parts)


def status_note(citation: Citation) -> str:
    """``现行有效 · version 2019-12-28 · law · superseded by …``: what a reader must know
    about the standing of the quoted text."""
    parts = []
    if citation.status:
        parts.append(status_label(citation.status) or "")
    if citation.version:
        parts.append(f"version {citation.version}")
    elif citation.date:
        parts.append(f"dated {citation.date}")
    if citation.kind:
        parts.append(citation.kind)
    if citation.version_note:
        parts.append(citation.version_note)
    return " · ".join(parts)


def page_note(citation: Citation) -> str:
    """``第3页 p. 3`` or ``第3-4页 pp. 3–4 · OCR, confidence 0.93``; empty without pages."""
    if citation.pages is None:
        return ""
    note = f"{page_label(citation.pages)} {page_label_en(citation.pages)}"
    if citation.ocr:
        note += " · OCR"
        if citation.ocr_confidence is not None:
            note += f", confidence {citation.ocr_confidence:.2f}"
    return note


def mark_spans(highlights: Iterable[Highlight], kind: str, n: int) -> list[tuple[int, int]]:
    """Offsets of the marks of ``kind`` (sentence, term…), clipped to ``[0, n)``, sorted."""
    spans = []
    for mark in highlights:
        if mark.kind == kind:
            start, end = max(0, mark.start), min(n, mark.end)
            if start < end:
                spans.append((start, end))
    return sorted(spans)


def key_spans(citation: Citation) -> list[tuple[int, int]]:
    """Offsets of the key sentence(s) in the quote, clipped to the quote."""
    return mark_spans(citation.highlights, "sentence", len(citation.text))


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
    trained = "".join(f" · {part} sha256:{info[part]}" for part in ("adapter", "reranker")
                      if info.get(part))
    return (
        f"Audit: index fingerprint {info.get('fingerprint') or 'unknown'}"
        f" · model {info.get('model') or 'unknown'} ({info.get('model_identity') or 'unknown'})"
        f"{trained}"
        f" · index built {info.get('created') or 'unknown'}"
        f" · memo generated {generated_at.strftime('%Y-%m-%d %H:%M:%S %z').strip()}"
        f" · rag {__version__}"
    )


def now(generated_at: dt.datetime | None) -> dt.datetime:
    return generated_at or dt.datetime.now().astimezone()


def heading(citation: Citation, rank: str | None = None) -> str:
    """``[1] 《…》第一百九十一条`` (with the low-confidence flag when it is one)."""
    text = f"[{rank or citation.rank}] {citation.citation}"
    return text + (f" [{LOW_CONFIDENCE}]" if citation.low_confidence else "")


def inner_lines(citation: Citation) -> list[str]:
    """前款 → 本条第一款: what each in-article reference names (its text when not quoted)."""
    return [f"{ref.phrase} → 本条{ref.label}: "
            + ("(quoted above)" if citation.quotes(ref) else ref.text)
            for ref in citation.inner]



def other_side(citation: Citation, compared: Comparison) -> VersionSide:
    """The side of ``compared`` that is not the cited document's."""
    return compared.newer if compared.older.doc_id == citation.doc_id else compared.older


def comparison_note(citation: Citation, compared: Comparison) -> str:
    """``Compared with the 2018-10-26 version: 第二十八条 → 第四十九条, changed`` or, when
    one side has no counterpart, ``not in the 2018-10-26 version (new)``."""
    other = other_side(citation, compared)
    when = other.version or "other"
    if other.clause_id is None:
        return (f"Not in the {when} version (new)" if other is compared.older
                else f"Removed in the {when} version")
    return (f"Compared with the {when} version: {compared.older.label} → "
            f"{compared.newer.label}, {RELATION_LABELS.get(compared.relation, compared.relation)}")


def side_heading(side: VersionSide) -> str:
    """``2023-12-29 version (现行有效): 《…》第四十九条``."""
    status = f" ({status_label(side.status)})" if side.status else ""
    return f"{side.version or 'undated'} version{status}: {side.citation}"


def side_runs(side: VersionSide) -> list[tuple[str, str | None]]:
    """The side's verbatim text cut into (piece, mark) runs, mark ``deleted``,
    ``inserted`` or None; the pieces concatenate to the text exactly."""
    kind = side.marks[0].kind if side.marks else None
    return [(piece, kind if marked else None)
            for piece, marked in split_runs(side.text, [(m.start, m.end) for m in side.marks])]


def shown_comparisons(citation: Citation) -> list[tuple[Comparison, bool]]:
    """Each comparison of a citation, and whether to quote both texts (only when the
    words changed and both versions have the article)."""
    return [(c, c.relation == "changed" and c.older.clause_id is not None
             and c.newer.clause_id is not None) for c in citation.versions]
