"""Change reports as text, Markdown, Word, CSV or JSON lines: each change with its diff.

Inserted words are marked ``{+…+}`` in text, ``<ins>`` in Markdown and underlined in
Word; deleted words ``[-…-]``, ``<del>`` and struck through. Every piece of text is a
slice of one generation's document text; CSV cells go through :func:`csv_safe`, Word text
through :func:`xml_safe`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rag.changes import RELATION_LABELS
from rag.changes.report import ArticleChange, ChangeReport, DocumentChange
from rag.core.files import replace_file
from rag.export.common import csv_safe, xml_safe
from rag.export.markdown import MD_TAGS, md_escape
from rag.export.text import printable

FORMATS = (".md", ".docx", ".csv", ".jsonl")
CHANGE_LABELS = {
    "added": "新增文件 document added",
    "new_version": "新版本 new version",
    "changed": "已修改 document changed",
    "removed": "已删除文件 document removed",
}
TEXT_MARKS = {"deleted": ("[-", "-]"), "inserted": ("{+", "+}")}
CSV_COLUMNS = ("change", "relation", "document", "doc_id", "version", "old_citation",
               "new_citation", "old_clause_id", "new_clause_id", "deleted", "inserted",
               "old_text", "new_text")


def runs(article: ArticleChange) -> list[tuple[str, str | None]]:
    """The article as (piece, mark) runs: the redline of a changed article, else the
    whole text of the side that exists (marked inserted or deleted when added or
    removed). Pieces are slices of the documents' texts."""
    if article.diff is not None:
        return [(piece, None if kind == "same" else kind) for piece, kind in article.diff.runs()]
    if article.new is not None:
        return [(article.new.text, "inserted" if article.relation == "added" else None)]
    if article.old is not None:
        return [(article.old.text, "deleted")]
    return []


def heading(change: DocumentChange) -> str:
    doc = change.document
    line = f"{CHANGE_LABELS[change.change]}: 《{doc.title}》 {doc.version or doc.date or ''}"
    if change.change == "new_version" and change.old is not None:
        line += f" (follows the {change.old.version or change.old.date} version)"
    if change.change in ("added", "removed"):
        line += f" ({change.clauses} clauses)"
    return line.rstrip()


def article_heading(article: ArticleChange) -> str:
    cites = [c for c in (article.old_citation, article.new_citation) if c]
    return f"[{RELATION_LABELS[article.relation]}] " + " → ".join(cites)


def metadata_lines(change: DocumentChange) -> list[str]:
    return [f"{name}: {before or '-'} → {after or '-'}" for name, before, after in change.metadata]


def title_line(report: ChangeReport) -> str:
    return (f"Changes from {report.since} ({report.since_published or 'unknown'}) "
            f"to {report.until} ({report.until_published or 'unknown'})")


# ---------------------------------------------------------------- text and Markdown


def report_text(report: ChangeReport) -> str:
    """The report for a terminal (control characters shown, not obeyed)."""
    out = [title_line(report), report.summary(), ""]
    for change in report.documents:
        out.append(f"== {heading(change)} ==")
        out += [f"   {line}" for line in metadata_lines(change)]
        for article in change.articles:
            out.append(f"  {article_heading(article)}")
            text = "".join(f"{TEXT_MARKS[m][0]}{p}{TEXT_MARKS[m][1]}" if m else p
                           for p, m in runs(article))
            out += [f"      {line}" for line in text.split("\n")]
        out.append("")
    return printable("\n".join(out).rstrip("\n") + "\n")


def report_markdown(report: ChangeReport) -> str:
    out = [f"# {md_escape(title_line(report))}", "", md_escape(report.summary()), ""]
    for change in report.documents:
        out += [f"## {md_escape(heading(change))}", ""]
        out += [f"- {md_escape(line)}" for line in metadata_lines(change)]
        if change.metadata:
            out.append("")
        for article in change.articles:
            out += [f"**{md_escape(article_heading(article))}**", ""]
            lines = [""]
            for piece, mark in runs(article):
                for n, part in enumerate(piece.split("\n")):
                    if n:
                        lines.append("")
                    tag = MD_TAGS.get(mark or "")
                    if part:
                        lines[-1] += f"<{tag}>{md_escape(part)}</{tag}>" if tag \
                            else md_escape(part)
            out += ["\n>\n".join(f"> {line}" if line else ">" for line in lines), ""]
    return "\n".join(out)


# ---------------------------------------------------------------- Word


def report_docx_bytes(report: ChangeReport) -> bytes:
    """The report as a Word document: insertions underlined, deletions struck through."""
    from docx import Document
    from docx.shared import Pt

    from rag.export.docx import add_marked_paragraph

    doc = Document()
    doc.add_heading(xml_safe(title_line(report)), level=0)
    doc.add_paragraph(xml_safe(report.summary()))
    for change in report.documents:
        doc.add_heading(xml_safe(heading(change)), level=1)
        for line in metadata_lines(change):
            doc.add_paragraph(xml_safe(line), style="List Bullet")
        for article in change.articles:
            add_marked_paragraph(doc, runs(article), heading=article_heading(article))
    if not report.documents:
        doc.add_paragraph().add_run("—").font.size = Pt(9)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------- rows


def report_rows(report: ChangeReport) -> Iterator[dict[str, Any]]:
    """One row per change: a document added or removed (or its metadata changed), and
    each article changed, added, removed or renumbered, with the words deleted and
    inserted and both verbatim texts."""
    for change in report.documents:
        doc = change.document
        base = {"change": change.change, "document": doc.title, "doc_id": doc.doc_id,
                "version": doc.version or doc.date,
                "since": report.since, "until": report.until}
        if not change.articles or change.metadata:
            yield {**base, "relation": None, "clauses": change.clauses,
                   "metadata": [{"field": f, "before": b, "after": a}
                                for f, b, a in change.metadata]}
        for article in change.articles:
            pieces = runs(article)
            yield {
                **base, "relation": article.relation,
                "old_citation": article.old_citation, "new_citation": article.new_citation,
                "old_clause_id": article.old.clause_id if article.old else None,
                "new_clause_id": article.new.clause_id if article.new else None,
                "old_text": article.old.text if article.old else None,
                "new_text": article.new.text if article.new else None,
                "deleted": [p for p, m in pieces if m == "deleted"],
                "inserted": [p for p, m in pieces if m == "inserted"],
                "edits": [{"op": e.op, "old_start": e.old_start, "old_end": e.old_end,
                           "new_start": e.new_start, "new_end": e.new_end}
                          for e in (article.diff.edits if article.diff else ()) if e.op != "equal"],
            }


def report_csv(report: ChangeReport) -> str:
    """One CSV row per change (:data:`CSV_COLUMNS`), every cell through :func:`csv_safe`;
    with a byte-order mark, so that Excel reads it as UTF-8."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for row in report_rows(report):
        cells = {**row, "deleted": " … ".join(row.get("deleted") or []),
                 "inserted": " … ".join(row.get("inserted") or [])}
        writer.writerow([csv_safe("" if cells.get(c) is None else cells.get(c))
                         for c in CSV_COLUMNS])
    return buffer.getvalue()


def report_jsonl(report: ChangeReport) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in report_rows(report))


def write_report(report: ChangeReport, path: Path) -> Path:
    """Write the report in the format ``path``'s extension names (all or nothing)."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"{path}: unknown report format {suffix or '(none)'}; use one of "
                         f"{', '.join(FORMATS)}")
    if suffix == ".docx":
        data: str | bytes = report_docx_bytes(report)
    elif suffix == ".md":
        data = report_markdown(report)
    elif suffix == ".csv":
        data = report_csv(report)
    else:
        data = report_jsonl(report)
    replace_file(path, data)
    return path
