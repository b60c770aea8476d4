"""The register of duties: one row per duty sentence, with what enforces it.

Each row: the document, the article, the duty sentence verbatim with its offsets
(``document.text[start:end] == duty``), its modality (obligation / prohibition /
permission), the actors it names, and its penalty links (:mod:`rag.links`). Written as
.xlsx (openpyxl), .csv (cells a spreadsheet would run as formulas neutralised), .docx
(python-docx) or .jsonl. The page compliance teams audit against, built from the index.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from rag.answer.penalties import penalties_of
from rag.answer.types import LinkedClause
from rag.core.documents import KINDS
from rag.export.common import csv_safe, xml_safe
from rag.links import MODALITIES, links_for
from rag.search import Index

FORMATS = (".xlsx", ".csv", ".docx", ".jsonl")
COLUMNS = ("document", "doc_id", "article", "clause_id", "modality", "actors", "duty",
           "start", "end", "penalties", "penalty_ids")


@dataclass(frozen=True)
class Row:
    """One duty sentence: ``documents[doc_id].text[start:end] == duty``."""

    document: str
    doc_id: str
    article: str
    clause_id: str
    modality: str
    actors: tuple[str, ...]
    duty: str
    start: int
    end: int
    penalties: tuple[LinkedClause, ...]


def register_rows(index: Index, *, doc_ids: Sequence[str] = (),
                  kinds: Sequence[str] = ()) -> list[Row]:
    """The duty sentences of the index (or of ``doc_ids``), in document and text order.

    ``kinds`` filters by modality (obligation, prohibition, permission) and by document
    kind (law, regulation …); ValueError names an unknown document id or kind.
    """
    unknown = [d for d in doc_ids if d not in index.documents]
    if unknown:
        raise ValueError(f"unknown document id {', '.join(unknown)}; see `rag chunk` or the "
                         f"library page for the ids the index holds")
    bad = [k for k in kinds if k not in MODALITIES and k not in KINDS]
    if bad:
        raise ValueError(f"unknown kind {', '.join(bad)}: use {', '.join(MODALITIES)} or a "
                         f"document kind ({', '.join(KINDS)})")
    modalities = {k for k in kinds if k in MODALITIES}
    doc_kinds = {k for k in kinds if k in KINDS}
    table = links_for(index)
    rows = []
    for doc_id in sorted(doc_ids or index.documents):
        doc = index.documents[doc_id]
        if doc_kinds and doc.kind not in doc_kinds:
            continue
        for duty in table.duties(doc_id):
            if modalities and duty.modality not in modalities:
                continue
            clause = index.clauses[index.row_of[duty.clause_id]]
            rows.append(Row(
                document=doc.title, doc_id=doc_id, article=duty.label, clause_id=clause.id,
                modality=duty.modality, actors=duty.actors, duty=duty.text,
                start=duty.start, end=duty.end, penalties=penalties_of(index, clause)))
    return rows


def _penalties_text(row: Row) -> str:
    return "; ".join(f"{p.citation} ({p.kind}, {p.confidence:.2f})" for p in row.penalties)


def _cells(row: Row) -> list[object]:
    return [row.document, row.doc_id, row.article, row.clause_id, row.modality,
            "、".join(row.actors), row.duty, row.start, row.end, _penalties_text(row),
            " ".join(p.clause_id for p in row.penalties)]


def write_register(rows: Iterable[Row], out: Path) -> int:
    """Write the register to ``out`` (format by extension); returns the rows written."""
    rows = list(rows)
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"{out}: unknown format {out.suffix or '(none)'}; use one of "
                         f"{', '.join(FORMATS)}")
    data = register_bytes(rows, suffix)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    return len(rows)


def register_bytes(rows: Sequence[Row], suffix: str) -> bytes:
    """The register as the bytes of a .xlsx, .csv, .docx or .jsonl file."""
    if suffix == ".jsonl":
        return "".join(json.dumps(asdict(r), ensure_ascii=False) + "\n"
                       for r in rows).encode("utf-8")
    if suffix == ".csv":
        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow([csv_safe(c) for c in _cells(row)])
        return text.getvalue().encode("utf-8-sig")  # a BOM so Excel reads UTF-8
    if suffix == ".xlsx":
        return _xlsx(rows)
    if suffix == ".docx":
        return _docx(rows)
    raise ValueError(f"unknown register format {suffix}; use one of {', '.join(FORMATS)}")


def _xlsx(rows: Sequence[Row]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "duties"
    sheet.append(list(COLUMNS))
    for row in rows:
        # strings are stored as text cells, never formulas, whatever they start with
        sheet.append([xml_safe(c) if isinstance(c, str) else c for c in _cells(row)])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"
    sheet.freeze_panes = "A2"
    for column, width in zip("ABCDEFGHIJK", (24, 18, 14, 26, 12, 18, 80, 8, 8, 60, 30),
                             strict=True):
        sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _docx(rows: Sequence[Row]) -> bytes:
    from docx import Document as Word

    word = Word()
    word.add_heading("义务清单 Register of duties", level=1)
    table = word.add_table(rows=1, cols=5)
    table.style = "Table Grid"
    for cell, name in zip(table.rows[0].cells, ("条款 Article", "义务 Duty (verbatim)",
                                                "类型 Modality", "主体 Actor",
                                                "罚则 Penalties"), strict=True):
        cell.text = name
    for row in rows:
        cells = table.add_row().cells
        values = (f"{row.document} {row.article}", row.duty, row.modality,
                  "、".join(row.actors), _penalties_text(row))
        for cell, value in zip(cells, values, strict=True):
            cell.text = xml_safe(value)
    buffer = io.BytesIO()
    word.save(buffer)
    return buffer.getvalue()
