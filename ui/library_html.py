"""The library page's HTML: the document table, the reader, the re-index progress bar.

Every piece of document text is escaped (:func:`ui.render.esc`); the reader shows each
clause as ``document.text[start:end]`` under the headings it falls in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rag.api.live import BuildStatus
from rag.api.models import DocumentDetail, DocumentList
from rag.core.documents import KIND_LABELS
from ui.render import esc

# Scoped by gr.HTML(css_template=...): a JS template string, so no backticks, no
# dollar-brace, no double braces.
CSS = """
table.library { border-collapse: collapse; width: 100%; font-size: 0.9em; }
table.library th, table.library td { border-bottom: 1px solid #e2e8f0; padding: 4px 6px;
  text-align: left; vertical-align: top; }
table.library td.num { text-align: right; }
table.library .source { color: #64748b; font-size: 0.85em; word-break: break-all; }
.mine { background: #eef2ff; color: #3730a3; border-radius: 4px; padding: 0 4px;
  font-size: 0.8em; margin-left: 4px; }
.reindex { padding: 6px 0; }
.reindex progress { width: 100%; height: 14px; }
.reindex .line { font-size: 0.9em; color: #334155; }
.reindex[data-state=failed] .line { color: #991b1b; }
.doc-reader h3 { margin: 4px 0; }
.doc-reader .meta { color: #475569; font-size: 0.85em; margin-bottom: 8px; }
.doc-reader .toc { font-size: 0.85em; columns: 2; margin-bottom: 10px; }
.doc-reader .heading { font-weight: 700; margin: 12px 0 4px; }
.doc-reader .clause { margin: 6px 0; padding: 6px 8px; border-left: 3px solid #cbd5e1; }
.doc-reader .clause .label { font-weight: 700; margin-right: 6px; }
.doc-reader .clause code { color: #64748b; font-size: 0.8em; }
.doc-reader .clause p { margin: 4px 0 0; white-space: pre-wrap; }
.report .stored { color: #065f46; } .report .refused { color: #991b1b; }
"""


def status_html(status: BuildStatus, *, documents: int | None = None,
                clauses: int | None = None) -> str:
    """The re-index state: a live bar while building, else what the last run did."""
    state = esc(status.state)
    if status.state == "building":
        bar = (f'<progress value="{status.done}" max="{status.total}"></progress>'
               if status.total else "<progress></progress>")
        queued = " (another re-index is queued)" if status.pending else ""
        line = (f"正在重建索引 Re-indexing: {esc(status.progress())}{queued} — answers still "
                "come from the previous index until the new one is ready")
        return (f'<div class="reindex" data-state="{state}">{bar}'
                f'<div class="line">{line}</div></div>')
    size = (f"{documents:,} documents, {clauses:,} clauses"
            if documents is not None and clauses is not None else "no index yet")
    last = f" · last re-index: {esc(status.message)}" if status.message else ""
    return (f'<div class="reindex" data-state="{state}" data-builds="{status.builds}">'
            f'<div class="line">索引 Index: {esc(size)}{last}</div></div>')


def table_html(found: DocumentList, *, paths: Mapping[str, str] | None = None) -> str:
    """The documents as a table (title, kind, date, status, clauses, source); the source
    as the record has it (relative to its source root), or its absolute path from
    ``paths`` (doc_id → path), which only an admin session is given."""
    if not found.documents:
        return '<p class="empty">No documents match.</p>'
    rows = []
    shown_paths = paths or {}
    for d in found.documents:
        mine = '<span class="mine">uploaded</span>' if d.library else ""
        rows.append(
            f'<tr data-doc="{esc(d.doc_id)}"><td>{esc(d.title)}{mine}</td>'
            f"<td>{esc(KIND_LABELS.get(d.kind, d.kind))}</td>"
            f"<td>{esc(d.version or d.date or '')}</td><td>{esc(d.status_label or '')}</td>"
            f'<td class="num">{d.clauses}</td>'
            f'<td class="source">{esc(shown_paths.get(d.doc_id, d.source))}</td></tr>')
    shown = len(found.documents)
    more = f"<p>{shown} of {found.total} shown; narrow the search.</p>" \
        if shown < found.total else ""
    return ('<table class="library"><thead><tr><th>标题 Title</th><th>类别 Kind</th>'
            "<th>日期 Date</th><th>状态 Status</th><th>条款 Clauses</th><th>来源 Source</th>"
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table>{more}")


def reader_html(detail: DocumentDetail, *, path: str | None = None) -> str:
    """A document with its clause structure: headings, then each clause's label, id and
    verbatim text, in document order; its source relative, or ``path`` (admin only)."""
    d = detail.document
    meta = " · ".join(esc(v) for v in (
        KIND_LABELS.get(d.kind, d.kind), d.version or d.date, d.status_label, d.issuer,
        f"{d.clauses} clauses", path or d.source, f"sha256 {d.sha256[:12]}") if v)
    toc = "".join(f'<li>{"　" * (h.level - 1)}{esc(h.text)}</li>' for h in detail.headings)
    events: list[tuple[int, int, str]] = [
        (h.start, 0, f'<div class="heading level-{h.level}">{esc(h.text)}</div>')
        for h in detail.headings]
    for c in detail.clauses:
        if detail.text[c.start:c.end] != c.text:  # the invariant every quote relies on
            raise ValueError(f"{c.clause_id}: clause text is not the document's text")
        events.append((c.start, 1, f'<div class="clause" id="{esc(c.clause_id)}">'
                       f'<span class="label">{esc(c.label)}</span><code>{esc(c.clause_id)}</code>'
                       f"<p>{esc(c.text)}</p></div>"))
    body = "".join(html for _, _, html in sorted(events, key=lambda e: (e[0], e[1])))
    return (f'<article class="doc-reader" data-doc="{esc(d.doc_id)}"><h3>{esc(d.title)}</h3>'
            f'<div class="meta">{meta}</div>'
            + (f'<ul class="toc">{toc}</ul>' if toc else "")
            + f"{body}</article>")


def report_html(stored: Sequence[str], refused: Sequence[str]) -> str:
    """What a write did, file by file."""
    items = [f'<li class="stored">✓ {esc(s)}</li>' for s in stored]
    items += [f'<li class="refused">✗ {esc(r)}</li>' for r in refused]
    return f'<ul class="report">{"".join(items)}</ul>' if items else ""
