"""The version comparison inside a chat card: both texts, deletions and insertions marked.

Rendered on the server into the card (a ``<details>`` element: no extra round trip), from
``Citation.versions``. Every piece of text is a slice of a version's verbatim article,
escaped on its own; marks become ``<del>`` and ``<ins>`` around escaped slices, so
document text can never become markup on the page.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from rag.answer import Citation, Comparison, Highlight, VersionSide
from rag.changes import RELATION_LABELS
from rag.core.versions import status_label
from ui.escape import esc

TAGS = {"deleted": "del", "inserted": "ins"}


def _year(side: VersionSide) -> str:
    return (side.version or "")[:4] or "?"


def marked_html(text: str, marks: Sequence[Highlight]) -> str:
    """``text`` escaped slice by slice, deleted runs in ``<del>``, inserted in ``<ins>``."""
    n = len(text)
    spans = sorted((max(0, m.start), min(n, m.end), TAGS[m.kind]) for m in marks
                   if m.kind in TAGS and max(0, m.start) < min(n, m.end))
    cuts = sorted({0, n, *(p for start, end, _ in spans for p in (start, end))})
    out = []
    for start, end in itertools.pairwise(cuts):
        tag = next((t for s, e, t in spans if s <= start and end <= e), None)
        piece = esc(text[start:end])
        out.append(f"<{tag}>{piece}</{tag}>" if tag else piece)
    return "".join(out)


def _side_html(side: VersionSide, *, newer: bool) -> str:
    role = "newer" if newer else "older"
    head = (f'<div class="vhead"><b>{esc(_year(side))}</b> {esc(status_label(side.status) or "")}'
            f' · {esc(side.label)}<span class="vcite">{esc(side.citation)}</span></div>')
    return (f'<section class="version {role}" data-clause="{esc(side.clause_id)}">{head}'
            f'<blockquote class="quote">{marked_html(side.text, side.marks)}</blockquote>'
            "</section>")


def comparison_html(citation: Citation, compared: Comparison, *, open_: bool = False) -> str:
    """One other version of the cited article: a note when the words are the same or
    one side is missing, else both texts with the change marked (newer first)."""
    mine, other = ((compared.older, compared.newer)
                   if compared.older.doc_id == citation.doc_id
                   else (compared.newer, compared.older))
    year = _year(other)
    relation = RELATION_LABELS.get(compared.relation, compared.relation)
    if other.clause_id is None:
        note = (f"{year}年版本无对应条文 · not in the {year} version" if mine is compared.newer
                else f"{year}年版本已删除此条 · removed in the {year} version")
        return f'<div class="compare-note">{esc(note)}</div>'
    if compared.relation in ("matched", "renumbered"):
        note = (f"与{year}年版本{other.label}文字相同 · same words as {other.label} of the "
                f"{year} version")
        return f'<div class="compare-note">{esc(note)}</div>'
    summary = (f"对照{year}年版本 Compare with the {year} version · "
               f"{compared.older.label} → {compared.newer.label} · {relation}")
    return (
        f'<details class="compare"{" open" if open_ else ""}>'
        f"<summary>{esc(summary)}</summary>"
        f'<div class="legend"><del>删除 deleted</del> <ins>新增 inserted</ins></div>'
        f"{_side_html(compared.newer, newer=True)}{_side_html(compared.older, newer=False)}"
        "</details>"
    )


def compare_html(citation: Citation, *, open_: bool = False) -> str:
    """Every comparison of a cited article (empty when its law has one version)."""
    return "".join(comparison_html(citation, c, open_=open_) for c in citation.versions)


# Appended to ui.render.CSS (a JS template string there: no backticks, no dollar-brace).
CSS = """
.compare { margin-top: 8px; border: 1px solid #e2e8f0; border-radius: 6px; padding: 4px 10px;
  background: #fcfcfd; }
.compare summary { cursor: pointer; color: #1e3a8a; font-size: 0.88em; }
.compare .legend { font-size: 0.75em; color: #64748b; margin: 4px 0; }
.compare .version { margin: 6px 0; }
.compare .vhead { font-size: 0.8em; color: #334155; margin-bottom: 2px; }
.compare .vcite { color: #64748b; margin-left: 8px; }
.compare ins { background: #dcfce7; color: #14532d; text-decoration: underline; }
.compare del { background: #fee2e2; color: #7f1d1d; text-decoration: line-through; }
.compare-note { margin-top: 6px; font-size: 0.8em; color: #475569; }
"""
