"""Formal citation strings, in the forms a compliance memo uses.

Statutes:  《中华人民共和国证券法》（2019年修订）第一百九十一条[第（三）项]
Policy:    中共中央办公厅、国务院办公厅《关于依法从严打击证券违法活动的意见》（2021年7月6日）
           第（十一）项
News:      证券时报网《多点聚力 江西证监局依法从严打击证券违法活动》（2021年7月7日）
           第3段（一是），URL
From a PDF, the page follows the clause: …第十二条（第3页）, …第十二条（第3-4页，OCR）
when the text was read from a scanned page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import PurePath

from rag.core.clauses import Clause
from rag.core.documents import Document
from rag.core.pages import ocr_confidence, page_label, pages_of

STATUTE_KINDS = ("law", "regulation", "judicial_interpretation")
_YEAR = re.compile(r"(\d{4})年")


def _cn_date(iso: str | None) -> str | None:
    if not iso or len(iso) < 10:
        return None
    year, month, day = iso[:4], int(iso[5:7]), int(iso[8:10])
    return f"{year}年{month}月{day}日"


def edition(doc: Document) -> str | None:
    """（2019年修订）/（2023年修正）/（2012年）: the version a statute citation names."""
    version_year = (doc.version or doc.date or "")[:4]
    last = doc.history[-1] if doc.history else ""
    match = _YEAR.search(last)
    year = match.group(1) if match else version_year
    if not year:
        return None
    if version_year > year:  # revised later than the history lines record
        return f"{version_year}年版"
    if "修订" in last:
        return f"{year}年修订"
    if "修正" in last or "修改" in last:
        return f"{year}年修正"
    return f"{year}年"


def _title(doc: Document) -> str:
    title = doc.title.strip()
    if title.startswith("《") and title.endswith("》") and title.count("《") == 1:
        return title
    # a title mark inside a title becomes the inner mark: 《〈上海方案〉正式出台》
    return "《" + title.replace("《", "〈").replace("》", "〉") + "》"


def clause_label(clause: Clause, doc: Document) -> str:
    """How the clause is named inside a citation: 第一百九十一条, 第（十一）项, 第3段（一是）."""
    label = clause.label
    if clause.kind == "numbered" and label.startswith("（"):
        label = f"第{label}项"
    elif clause.kind in ("paragraph", "item"):
        local = clause.local_id.split(".")[0]
        number = local.lstrip("p")
        if number.isdigit():
            label = f"第{number}段" + (f"（{clause.label}）" if clause.kind == "item" else "")
        elif local.startswith("tail") and not label and clause.path:
            label = clause.path[-1]  # text after the last article: 附件一, 附录
    if clause.part is not None:
        label += f"（第{clause.part}部分）"
    return label


def page_note(clause: Clause, doc: Document) -> str:
    """``（第3页）``, ``（第3-4页，OCR）``; empty for a document without pages."""
    pages = pages_of(doc, clause.start, clause.end)
    if pages is None:
        return ""
    ocr = "，OCR" if ocr_confidence(doc, pages) is not None else ""
    return f"（{page_label(pages)}{ocr}）"


def citation_string(clause: Clause, doc: Document, *, span_label: str | None = None) -> str:
    label = clause_label(clause, doc) + (span_label or "") + page_note(clause, doc)
    if doc.kind in STATUTE_KINDS:
        ed = edition(doc)
        return f"{_title(doc)}{f'（{ed}）' if ed else ''}{label}"
    issuer = doc.issuer or ""
    date = _cn_date(doc.date or doc.version)
    text = f"{issuer}{_title(doc)}{f'（{date}）' if date else ''}{label}"
    if doc.url:
        text += f"，{doc.url}"
    return text


def shown_source(path: str, roots: Iterable[str] = ()) -> str:
    """Where a quote comes from, as users see it: ``path`` below the parent of the source
    root it was indexed from (``corpus/lawrefbook/刑法/刑法.md`` for a file in the indexed
    folder ``/srv/x/corpus``; the file name for an indexed file); the file name when no
    root holds it. The absolute path stays in the index: no server path is shown."""
    if not path:
        return ""
    file = PurePath(path)
    holding = [PurePath(r) for r in roots if r and (file == PurePath(r)
                                                   or file.is_relative_to(PurePath(r)))]
    if not holding:
        return file.name
    root = max(holding, key=lambda r: len(r.parts))  # the innermost root
    return file.relative_to(root.parent).as_posix()


def source_roots(manifest: Mapping[str, object]) -> list[str]:
    """The files and folders an index was built from (its manifest remembers them)."""
    roots = manifest.get("sources")
    return [str(r) for r in roots] if isinstance(roots, list) else []
