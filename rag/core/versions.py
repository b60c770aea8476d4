"""Versions of one law: which is in force (today or on an as-of date), which are not.

Documents are grouped by their normalised title (中华人民共和国 and spaces dropped). In a
group, the preferred version on a date is the newest whose version date is on or before
that date and which is not repealed; the others are labelled.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from rag.core.documents import Document
from rag.core.titles import title_key

STATUS_LABELS = {
    "in_force": "现行有效",
    "repealed": "已废止",
    "not_yet_in_force": "尚未施行",
    "superseded": "已被修订",
}


def status_label(code: str | None) -> str | None:
    """``现行有效`` for ``in_force``: the one label each status code shows as (answers and
    records store the code; front ends key their styling on it, never on the label).
    An unknown code shows as itself, None as None."""
    return STATUS_LABELS.get(code, code) if code else None


@dataclass(frozen=True)
class VersionInfo:
    preferred: bool
    status: str | None  # in_force / repealed / not_yet_in_force / superseded / None
    note: str | None  # human-readable, for labels: 已被2023年版本修订


def version_key(doc: Document) -> str:
    """Documents with the same key are versions of one law: same title and subtitle
    (民法典 总则 and 民法典 合同编 are different documents, not versions)."""
    return title_key(doc.title) + "\u0000" + (doc.subtitle or "")


def version_order(doc: Document) -> tuple[str, str]:
    """How the versions of one law sort, oldest first: version date, then id."""
    return (doc.version or doc.date or "", doc.doc_id)


def _effective(doc: Document) -> str | None:
    return doc.valid_from or doc.version or doc.date


def version_table(
    documents: Iterable[Document], *, as_of: dt.date | None = None
) -> dict[str, VersionInfo]:
    """doc_id → VersionInfo for every document."""
    day = (as_of or dt.date.today()).isoformat()
    groups: dict[str, list[Document]] = {}
    for doc in documents:
        groups.setdefault(version_key(doc), []).append(doc)
    table: dict[str, VersionInfo] = {}
    for docs in groups.values():
        dated = sorted(docs, key=version_order)
        live = [
            d for d in dated
            if d.status != "repealed" and (_effective(d) or "") <= day
        ]
        chosen = live[-1] if live else None
        for doc in dated:
            if len(dated) == 1 and as_of is None:
                # a repealed law with no successor in the corpus still ranks below laws in force
                repealed = doc.status == "repealed"
                table[doc.doc_id] = VersionInfo(not repealed, doc.status,
                                                "已废止" if repealed else None)
            elif doc is chosen:
                table[doc.doc_id] = VersionInfo(True, doc.status or "in_force", None)
            elif doc.status == "repealed":
                table[doc.doc_id] = VersionInfo(False, "repealed", "已废止")
            elif (_effective(doc) or "") > day:
                table[doc.doc_id] = VersionInfo(False, "not_yet_in_force", f"{day}时尚未施行")
            else:
                newer = chosen.version if chosen else None
                note = f"已被{newer[:4]}年版本修订" if newer else "已被修订"
                table[doc.doc_id] = VersionInfo(False, "superseded", note)
    return table
